"""HTTP clients that behave like browsers: one cookie jar, one client address, real forms."""

import re
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

REQUEST_TIMEOUT = 30  # seconds; longer than any page should ever take
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int  # 0: no HTTP answer (connection refused or reset)
    started: float  # time.monotonic()
    seconds: float


class Recorder:
    """Every request the clients of one test made, for status counts and latency figures."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def between(self, start: float, end: float) -> list[Exchange]:
        return [e for e in self.exchanges if e.started >= start and e.started + e.seconds <= end]

    def statuses(self, exchanges: list[Exchange] | None = None) -> Counter:
        return Counter(e.status for e in (self.exchanges if exchanges is None else exchanges))

    def summary(self, wall_seconds: float) -> str:
        times = sorted(e.seconds for e in self.exchanges)
        quantiles = statistics.quantiles(times, n=100)
        return (
            f"{len(times)} requests in {wall_seconds:.1f} s: "
            f"{len(times) / wall_seconds:.0f} requests/s, p50 {quantiles[49] * 1000:.0f} ms, "
            f"p95 {quantiles[94] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms; "
            f"statuses {dict(sorted(self.statuses().items()))}"
        )


class SourceAddressAdapter(HTTPAdapter):
    """Connections from one loopback address, so each client is a distinct address to nginx."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, source_address=(self.source, 0), **kwargs)


class Forms(HTMLParser):
    """Every form of a page: its action and the fields it would submit as they stand."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action"), "fields": {}, "names": set()})
        elif tag in {"input", "textarea", "select"} and self.forms and "name" in attributes:
            form = self.forms[-1]
            form["names"].add(attributes["name"])
            if attributes.get("type") == "hidden":
                form["fields"][attributes["name"]] = attributes.get("value") or ""


class Browser:
    def __init__(self, base_url: str, ca: Path, source: str, recorder: Recorder) -> None:
        self.base_url = base_url
        self.recorder = recorder
        self.session = requests.Session()
        # No proxy or CA bundle from the environment: straight to nginx, checked against the
        # test's own certificate like any other.
        self.session.trust_env = False
        self.session.verify = str(ca)
        self.page = base_url + "/"  # the page the browser shows, the Referer of its forms
        self.last_error: requests.RequestException | None = None
        self.session.mount("https://", SourceAddressAdapter(source))
        self.session.mount("http://", SourceAddressAdapter(source))

    def request(self, method: str, path: str, **options) -> requests.Response | None:
        """One request, recorded; None when no HTTP answer came (status 0 in the record)."""
        url = path if "://" in path else self.base_url + path
        if method == "POST":
            # Flask-WTF checks that an HTTPS form comes from this site, as browsers say it does.
            options.setdefault("headers", {}).setdefault("Referer", self.page)
        else:
            self.page = url
        started = time.monotonic()
        try:
            response = self.session.request(
                method, url, timeout=REQUEST_TIMEOUT, allow_redirects=False, **options
            )
        except requests.exceptions.SSLError:
            raise  # a broken certificate set-up, not an outage
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
            # No answer, or only part of one (a worker killed while sending it): either way
            # the page did not come, and a user would load it again.
            self.last_error = error  # why the last request got no answer, for failure messages
            response = None
        self.recorder.exchanges.append(
            Exchange(
                method,
                path,
                response.status_code if response is not None else 0,
                started,
                time.monotonic() - started,
            )  # fmt: skip
        )
        return response

    def get(self, path: str, **options) -> requests.Response | None:
        return self.request("GET", path, **options)

    def form(self, path: str, field: str) -> tuple[str, dict[str, str]]:
        """GET ``path``; the action and hidden fields of its form that has a field ``field``.

        A page that did not come (no answer, or a 5xx) is loaded again, as a user would, for a
        few seconds.
        """
        for _ in range(10):
            response = self.get(path)
            if response is not None and response.status_code < 500:
                break
            time.sleep(0.5)
        assert response is not None and response.status_code == 200, (
            f"GET {path}: {response or self.last_error}"
        )
        parser = Forms()
        parser.feed(response.text)
        for form in parser.forms:
            if field in form["names"]:
                return form["action"] or path, dict(form["fields"])
        raise AssertionError(f"no form with a field {field!r} on {path}")

    def fill(self, path: str, values: dict[str, str]) -> tuple[str, dict[str, str]]:
        """What a browser would send for the form on ``path`` holding ``values``' fields."""
        action, fields = self.form(path, next(iter(values)))
        return action, fields | values

    def submit(self, path: str, values: dict[str, str]) -> requests.Response | None:
        action, data = self.fill(path, values)
        return self.request("POST", action, data=data)

    def register(self, username: str) -> None:
        response = self.submit("/auth/register", {
            "username": username, "email": f"{username}@example.com",
            "password": PASSWORD, "confirm_password": PASSWORD,
        })  # fmt: skip
        assert response is not None and response.status_code == 302, (
            f"register {username}: {response and form_errors(response)}"
        )

    def login(self, username: str, password: str = PASSWORD) -> requests.Response | None:
        return self.submit("/auth/login", {"username": username, "password": password})

    def publish(self, body: str, attempts: int = 5) -> tuple[requests.Response, dict]:
        """Post ``body`` through the home page's form, retrying the same fields (the same
        one-time key) when no answer or a 5xx comes back, as a user pressing submit again."""
        action, data = self.fill("/", {"body": body})
        for _ in range(attempts):
            response = self.request("POST", action, data=data)
            if response is not None and response.status_code < 500:
                return response, data
            time.sleep(0.2)
        raise AssertionError(f"posting {body!r} failed {attempts} times: {response}")


def form_errors(page: requests.Response) -> list[str]:
    """The messages a page shows under its form fields."""
    return re.findall(r'class="[^"]*invalid-feedback[^"]*"[^>]*>\s*([^<]*)', page.text)


def signed_in_as(page: requests.Response, username: str) -> bool:
    return f'Signed in as <strong class="text-body">{username}</strong>' in page.text


class Load:
    """Writers posting through the real form while readers page through the feeds."""

    def __init__(self, stack, writers: int, posts_each: int, readers: int = 5) -> None:
        self.stack = stack
        self.posts_each = posts_each
        self.writers = [self.browser(f"127.0.1.{n + 1}") for n in range(writers)]
        self.readers = [self.browser(f"127.0.2.{n + 1}") for n in range(readers)]
        self.names = [f"writer{n}" for n in range(writers)]
        pairs = [*zip(self.writers, self.names, strict=True)]
        pairs += [(b, f"reader{n}") for n, b in enumerate(self.readers)]
        run_all([lambda b=b, name=name: b.register(name) for b, name in pairs])
        self.acknowledged: dict[str, int] = {}  # body -> times a POST of it was answered 302
        self.replays: list[requests.Response | None] = []
        self.done = threading.Event()

    def browser(self, source: str) -> Browser:
        return Browser(self.stack.base_url, self.stack.ca, source, self.stack.recorder)

    @property
    def posted(self) -> int:
        return sum(self.acknowledged.values())

    def write(self, browser: Browser, name: str, replay_every: int) -> None:
        for n in range(self.posts_each):
            response, data = browser.publish(f"{name} says hello #{n}")
            assert response.status_code == 302, f"POST answered {response.status_code}"
            self.acknowledged[data["body"]] = self.acknowledged.get(data["body"], 0) + 1
            if replay_every and n % replay_every == replay_every - 1:
                # The answer was lost on the way, say: the browser sends the same form again.
                self.replays.append(browser.request("POST", "/", data=data))

    def read(self, browser: Browser) -> None:
        pages = ["/", "/explore", "/explore?page=2"] + [f"/user/{name}" for name in self.names]
        n = 0
        while not self.done.is_set():
            browser.get(pages[n % len(pages)])
            n += 1

    def run(self, replay_every: int = 0) -> float:
        """Run the writers to the end (the readers meanwhile); the wall time in seconds."""
        started = time.monotonic()
        readers = [threading.Thread(target=self.read, args=(b,)) for b in self.readers]
        for thread in readers:
            thread.start()
        try:
            run_all([
                lambda b=b, name=name: self.write(b, name, replay_every)
                for b, name in zip(self.writers, self.names, strict=True)
            ])  # fmt: skip
        finally:
            self.done.set()
            for thread in readers:
                thread.join(REQUEST_TIMEOUT + 5)
        return time.monotonic() - started


def run_all(tasks: list) -> list:
    """Run ``tasks`` in threads at once; their results, or the first error raised."""
    results: list = [None] * len(tasks)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            results[n] = tasks[n]()
        except BaseException as error:  # reported in the test's thread below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    if errors:
        raise errors[0]
    return results
