"""A real browser (Debian's Chromium, driven by Playwright) against the app on a real server."""

import fcntl
import os
import socketserver
import subprocess
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from flask import Flask
from flask_moment import default_moment_version
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from app import create_app
from app.extensions import db
from config import TestingConfig
from tests.conftest import file_database_uri

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Nothing but this machine: a page that reaches for the internet fails at once.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
MOMENT_PACKAGE = f"moment@{default_moment_version}"


class BrowserTestConfig(TestingConfig):
    WTF_CSRF_ENABLED = True  # forms as users get them
    LIVE_CHECK_SECONDS = 1  # what arrives shows within a test's patience


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"Browser tests need Chromium at {CHROMIUM}: install it with "
            "`sudo apt-get install -y chromium` (never `playwright install`)."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def npm_file(pytestconfig, package: str, member: str) -> Path:
    """One file of an npm package (``name@version``), fetched once with ``npm pack`` into
    pytest's cache: the suite's third-party tools are never committed."""
    name, version = package.rsplit("@", 1)
    cache = Path(pytestconfig.cache.mkdir(name))
    path = cache / f"{version}-{Path(member).name}"
    # `make test` runs two passes of the suite at once, sharing this cache: one fetches.
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            try:
                subprocess.run(
                    ["npm", "pack", package, "--silent", "--pack-destination", str(cache)],
                    check=True,
                    capture_output=True,
                    timeout=300,
                )
            except (OSError, subprocess.SubprocessError) as error:
                pytest.fail(f"Could not fetch {package} with npm (apt-get install npm?): {error}")
            archive = cache / f"{name}-{version}.tgz"
            with tarfile.open(archive) as tar:
                path.write_bytes(tar.extractfile(f"package/{member}").read())
            archive.unlink()
    return path


@pytest.fixture(scope="session")
def moment_js(pytestconfig) -> bytes:
    """moment.js from its npm package, byte-identical to the CDN file the pages pin by SRI."""
    return npm_file(pytestconfig, MOMENT_PACKAGE, "min/moment-with-locales.min.js").read_bytes()


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    """The app on a database that the server thread and the test share."""

    class Config(BrowserTestConfig):
        SQLALCHEMY_DATABASE_URI = file_database_uri(tmp_path)

    app = create_app(Config)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    # The standard library's server rather than Werkzeug's: when a browser drops a connection
    # mid-response, Werkzeug's development server can skip closing the response (a file left
    # open), which the warnings-as-errors setting rightly reports.
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No line per request: a failing test says what went wrong."""


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free port of 127.0.0.1; its base URL."""
    http = make_server(
        "127.0.0.1", 0, app, server_class=ThreadingServer, handler_class=QuietHandler
    )
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join()
    http.server_close()


def new_context(browser: Browser, base_url: str, moment_js: bytes, **options) -> BrowserContext:
    context = browser.new_context(base_url=base_url, timezone_id="UTC", locale="en-US", **options)
    # Pages load moment.js from the CDN with an integrity hash, exactly as in production; the
    # browser gets the npm copy instead and checks that hash against it.
    context.route(
        "https://cdnjs.cloudflare.com/**",
        lambda route: route.fulfill(
            body=moment_js,
            content_type="application/javascript",
            headers={"Access-Control-Allow-Origin": "*"},
        ),
    )
    return context


@pytest.fixture
def context(browser, server, moment_js) -> Iterator[BrowserContext]:
    context = new_context(browser, server, moment_js, viewport={"width": 1200, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context) -> Iterator[Page]:
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )
    yield page
    assert dialogs == [], f"a script opened a dialog: {dialogs}"
    assert errors == [], f"JavaScript errors: {errors}"
    assert violations == [], f"the page broke its Content-Security-Policy: {violations}"


@pytest.fixture
def phone(browser, server, moment_js) -> Iterator[Page]:
    context = new_context(
        browser,
        server,
        moment_js,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Keep what the user sees at a journey's key screen, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, journey: str) -> None:
        # Written whole, then put in place: both passes of `make test` take each screenshot.
        path = SCREENSHOTS / f"{journey}.png"
        partial = path.with_name(f".{journey}.{os.getpid()}.png")
        page.screenshot(path=partial, full_page=True)
        partial.replace(path)

    return take
