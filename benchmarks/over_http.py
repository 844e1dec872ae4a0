"""``make bench-http``: the same datasets served by gunicorn as production runs it, loaded by wrk.

    .venv/bin/python -m benchmarks.over_http [--sizes 100k 1m] [--databases sqlite postgresql]
        [--seconds 10] [--quick]

For each dataset: gunicorn with the project's gunicorn.conf.py and the production config
(2 workers), on a free port of 127.0.0.1, and wrk with 4 connections: requests per second and
p50/p99 for explore, the home timeline (signed in: the session cookie in a header) and the
hover-card fragment; then the floor app (benchmarks/floor.py) under gunicorn the same way, for
its template page, and explore's share of its requests per second (target: at least 40%).
Then each worker's memory (RSS) after 5,000 and 10,000 requests of a mix of pages, and its
growth over the second 5,000 (target: under 10%). Every server started is stopped.
"""

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from app.extensions import db
from app.models import User, UserSession
from benchmarks.datasets import (
    BENCH_DIR,
    FOLLOWS,
    POSTS_PER_PAGE,
    Dataset,
    add_dataset_arguments,
    chosen_datasets,
    dataset,
    prepare,
)
from config import BASE_DIR

CONNECTIONS = 4
THREADS = 2
WORKERS = 2
MIN_FLOOR_SHARE = 0.4  # explore's requests per second against the floor's
MAX_MEMORY_GROWTH = 0.10  # a worker's RSS from 5,000 to 10,000 requests
MEMORY_STEP = 5_000  # requests between two memory readings
REDIS_URL = "redis://127.0.0.1:6379/9"  # a database number of the benchmark's own
# Behind nginx, which sets these; the app believes them from one proxy (TRUSTED_PROXIES=1).
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(dataset: Dataset, port: int, secret_key: str) -> dict[str, str]:
    """Production's settings over plain http on 127.0.0.1, as behind a proxy on this host."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "RATELIMIT_", "MICROBLOG_", "GUNICORN_"))
    }
    return env | {
        "MICROBLOG_CONFIG": "production",
        "DATABASE_URL": dataset.url,
        "SECRET_KEY": secret_key,
        # Shared by the workers, as gunicorn.conf.py requires; the pages measured have no limit.
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "TRUSTED_PROXIES": "1",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "POSTS_PER_PAGE": str(POSTS_PER_PAGE),  # the floor's page size, read by both apps
        "WEB_CONCURRENCY": str(WORKERS),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "APP_BASE_URL": "https://microblog.example",
        "LOG_FORMAT": "json",  # production's default: one line per request
    }


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], log: Path, port: int, probe: str):
    """gunicorn serving ``app_spec`` until the block ends (ready once ``probe`` answers);
    yields the master's pid."""
    with open(log, "w") as output:
        process = subprocess.Popen(
            [str(BASE_DIR / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", app_spec],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}{probe}", process, log)
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)  # the master stops its own workers
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {url} within 60 s:\n{log.read_text()}")


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def wrk(url: str, seconds: float, headers: dict[str, str]) -> dict:
    """Requests per second and latency percentiles, from wrk's own report."""
    args = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        raise SystemExit(f"{url}: {match.group(1)} answers were errors:\n{output}")
    errors = re.search(r"Socket errors: (.*)", output)
    if errors and re.search(r"[1-9]", errors.group(1)):
        raise SystemExit(f"{url}: socket errors ({errors.group(1)}):\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": latency(output, "50%"),
        "p99_ms": latency(output, "99%"),
    }


def latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def send_requests(base: str, paths: list[str], requests: int, headers: dict[str, str]) -> None:
    """``requests`` requests over ``paths`` at random, from CONNECTIONS threads; each must be 200.

    Counted exactly, which wrk cannot do with sync workers: a wrk thread that stops early
    leaves its connections open, and each holds a worker until gunicorn's timeout.
    """
    rng = random.Random(1)
    order = [rng.choice(paths) for _ in range(requests)]

    def get(path: str) -> None:
        request = urllib.request.Request(base + path, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            if response.status != 200:
                raise SystemExit(f"GET {path} answered {response.status}")

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        for _ in pool.map(get, order):
            pass


def reader_cookie(app: Flask, secret_key: str) -> tuple[str, list[str]]:
    """A session cookie for a reader following 100 people (a real session row), and a sample
    of usernames for the memory run's mix of pages."""
    with app.app_context():
        reader = db.session.scalar(
            sa.select(User).where(User.following_count == FOLLOWS).order_by(User.id).limit(1)
        )
        names = db.session.scalars(sa.select(User.username).order_by(User.id).limit(200)).all()
        session = UserSession.start(reader, remembered=False, ip_address=None, device=None)
        db.session.commit()
        key = session.key
        db.engine.dispose()
    app.config["SECRET_KEY"] = secret_key  # the server's: it must accept the signature
    serializer = app.session_interface.get_signing_serializer(app)
    value = serializer.dumps({"_user_id": key, "_fresh": True})
    return f"{app.config['SESSION_COOKIE_NAME']}={value}", list(names)


def run(data: Dataset, seconds: float, memory_step: int) -> dict:
    app = prepare(data)
    secret_key = secrets.token_urlsafe(48)
    cookie, names = reader_cookie(app, secret_key)
    signed_in = PROXY_HEADERS | {"Cookie": cookie}
    result: dict = {"database": data.database, "size": data.size, "pages": {}, "memory": {}}
    port = free_port()
    env = server_environment(data, port, secret_key)
    base = f"http://127.0.0.1:{port}"
    log = BENCH_DIR / f"gunicorn-{data.database}-{data.size}.log"
    with gunicorn("microblog:app", env, log, port, "/healthz") as master:
        mix = ["/explore", "/"]
        mix += [f"/explore?page={n}" for n in (2, 3, 10, 100, 1000, 2000)]
        mix += [f"/user/{name}" for name in names] + [f"/user/{name}/popup" for name in names]
        for step in (1, 2):
            send_requests(base, mix, memory_step, signed_in)
            served = step * memory_step
            result["memory"][served] = {pid: rss_kib(pid) for pid in workers_of(master)}
        pages = {
            "explore p1": ("/explore", signed_in),
            "home p1": ("/", signed_in),
            "hover card": (f"/user/{names[1]}/popup", signed_in),
        }
        for name, (path, headers) in pages.items():
            wrk(base + path, min(seconds, 2), headers)  # warm-up
            result["pages"][name] = wrk(base + path, seconds, headers) | {"path": path}
    port = free_port()
    floor_env = env | {
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "BENCH_FLOOR_GUNICORN": "1",
        "BENCH_FLOOR_DATABASE_URL": data.url,
    }
    floor_log = BENCH_DIR / f"gunicorn-floor-{data.database}-{data.size}.log"
    with gunicorn("benchmarks.floor:app", floor_env, floor_log, port, "/bare"):
        url = f"http://127.0.0.1:{port}/template"
        wrk(url, min(seconds, 2), PROXY_HEADERS)
        result["floor"] = wrk(url, seconds, PROXY_HEADERS) | {"path": "/template"}
    result["explore_share_of_floor"] = result["pages"]["explore p1"]["rps"] / result["floor"]["rps"]
    first, second = result["memory"][memory_step], result["memory"][2 * memory_step]
    result["memory_growth"] = {
        pid: (second[pid] - first[pid]) / first[pid] for pid in first if pid in second
    }
    return result


def print_run(data: Dataset, result: dict) -> None:
    print(f"\n{data.label} under gunicorn ({WORKERS} workers), wrk with {CONNECTIONS} connections")
    print(f"  {'page':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    rows = [*result["pages"].items(), ("floor: template", result["floor"])]
    for name, row in rows:
        print(f"  {name:24} {row['rps']:8.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f}")
    share = result["explore_share_of_floor"]
    verdict = "MET" if share >= MIN_FLOOR_SHARE else "NOT MET"
    print(
        f"  explore / floor: {share:.0%} of the floor's requests per second "
        f"(target: at least {MIN_FLOOR_SHARE:.0%}): {verdict}"
    )
    first, second = sorted(result["memory"])
    for pid, growth in result["memory_growth"].items():
        verdict = "MET" if growth < MAX_MEMORY_GROWTH else "NOT MET"
        print(
            f"  worker {pid}: RSS {result['memory'][first][pid] / 1024:.1f} MiB after "
            f"{first:,} requests, {result['memory'][second][pid] / 1024:.1f} MiB after "
            f"{second:,}: {growth:+.1%} (target: under {MAX_MEMORY_GROWTH:.0%}): {verdict}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser)
    parser.add_argument("--seconds", type=float, help="per wrk run (default 10; quick: 3)")
    parser.add_argument("--quick", action="store_true", help="100k, short runs, 1,000 requests")
    parser.add_argument("--json", default=str(BENCH_DIR / "results-http.json"))
    options = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    sizes, databases = chosen_datasets(options)
    seconds = options.seconds or (3 if options.quick else 10)
    memory_step = 500 if options.quick else MEMORY_STEP
    results = []
    for database in databases:
        for size in sizes:
            data = dataset(database, size)
            print(f"\n{data.label}: preparing ...", flush=True)
            result = run(data, seconds, memory_step)
            print_run(data, result)
            results.append(result)
    with open(options.json, "w") as file:
        json.dump({"load_average": os.getloadavg()[0], "runs": results}, file, indent=2)
    print(f"\nResults written to {options.json}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
