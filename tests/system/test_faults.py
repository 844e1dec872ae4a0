"""The production shape under faults and abuse: limits across workers and hosts, Redis and
PostgreSQL going away, a host stopping, a crowd registering one name, a backup restored."""

import contextlib
import signal
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.system.clients import PASSWORD, Browser, Load, form_errors, run_all, signed_in_as
from tests.system.conftest import REPO, STARTUP_TIMEOUT, VENV_BIN, run, wait_until

pytestmark = pytest.mark.system

LOGIN_LIMIT = 10  # the production default, per client address per minute
NO_POST_LIMIT = {"POST_RATE_LIMIT": "10000 per minute"}


def browser(stack, source: str) -> Browser:
    return Browser(stack.base_url, stack.ca, source, stack.recorder)


def bad_logins(client: Browser, count: int, **headers: str) -> list[int]:
    """``count`` failed logins, each for another unknown name (so only the per-client limit
    applies); the status of each POST."""
    statuses = []
    for _ in range(count):
        action, data = client.fill("/auth/login", {"username": f"x{uuid.uuid4().hex[:8]}"})
        data["password"] = "wrong password"
        response = client.request("POST", action, data=data, headers=dict(headers))
        statuses.append(response.status_code if response is not None else 0)
    return statuses


@contextlib.contextmanager
def reading(clients: list[Browser], *paths: str) -> Iterator[None]:
    """Each client reads ``paths`` in turn, in a thread of its own, while the block runs."""
    stop = threading.Event()

    def read(client: Browser) -> None:
        n = 0
        while not stop.is_set():
            client.get(paths[n % len(paths)])
            n += 1

    threads = [threading.Thread(target=read, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(STARTUP_TIMEOUT)


def server_errors(stack) -> list:
    return [e for e in stack.recorder.exchanges if e.status >= 500 or e.status == 0]


def test_login_limit_holds_across_workers_and_counts_the_real_client(start_stack, report):
    stack = start_stack()
    attacker = browser(stack, "127.0.3.1")
    statuses = bad_logins(attacker, 2 * LOGIN_LIMIT)
    report(f"limits across 4 workers: 20 bad logins from one address: {statuses}")
    assert statuses.count(200) <= LOGIN_LIMIT
    assert statuses.count(429) >= LOGIN_LIMIT
    assert set(statuses) <= {200, 429}
    # A forged X-Forwarded-For is replaced by nginx: the client stays who it is.
    assert bad_logins(attacker, 3, **{"X-Forwarded-For": "203.0.113.7"}) == [429] * 3
    # Another address is another client: nginx's own address is not what is counted.
    assert bad_logins(browser(stack, "127.0.3.2"), 2) == [200, 200]


def test_pages_keep_answering_while_redis_is_down_and_limits_return_to_it(start_stack, report):
    stack = start_stack(env=NO_POST_LIMIT)
    load = Load(stack, writers=5, posts_each=60, readers=3)
    outage: dict[str, float] = {}

    def stop_redis_for_a_while() -> None:
        wait_until(lambda: load.posted >= 40 or load.done.is_set(), 60, "40 posts")
        stack.redis.stop()
        outage["stopped"] = time.monotonic()
        # Down for a while, so that every worker meets the outage and falls back.
        wait_until(
            lambda: (
                load.done.is_set()
                or (load.posted >= 120 and time.monotonic() > outage["stopped"] + 5)
            ),
            60,
            "120 posts and 5 s",
        )
        stack.redis.start()
        outage["started"] = time.monotonic()

    changer = threading.Thread(target=stop_redis_for_a_while)
    changer.start()
    seconds = load.run()
    changer.join(STARTUP_TIMEOUT)
    down = stack.recorder.between(outage["stopped"], outage["started"])
    report(
        f"redis outage: {outage['started'] - outage['stopped']:.1f} s down, "
        f"{len(down)} requests meanwhile, statuses {dict(stack.recorder.statuses(down))}; "
        f"whole run {stack.recorder.summary(seconds)}"
    )
    assert down and not server_errors(stack)
    assert load.posted == 5 * 60

    # Back on Redis: each worker looks again after 1, 2, 4 ... s of trouble. Until all four
    # have, a fresh address gets more than the limit through; then exactly the limit.
    rounds = 0
    deadline = time.monotonic() + 60
    while True:
        rounds += 1
        statuses = bad_logins(browser(stack, f"127.0.4.{rounds}"), LOGIN_LIMIT + 2)
        with stack.redis.client() as client:
            counted_in_redis = bool(client.keys("*"))
        if statuses.count(200) == LOGIN_LIMIT and counted_in_redis:
            break
        assert time.monotonic() < deadline, "limits never went back to Redis"
        time.sleep(1)
    report(f"redis outage: limits counted in Redis again after {rounds} round(s) of logins")


def test_a_database_restart_is_503_never_500_and_heals_by_itself(start_stack, report):
    cluster = start_stack.cluster()
    stack = start_stack(postgres=cluster)
    reader = browser(stack, "127.0.5.1")
    reader.register("reader")
    visitor = browser(stack, "127.0.5.2")

    def ready_status() -> int:
        response = visitor.get("/readyz")
        return response.status_code if response is not None else 0

    with reading([reader, visitor], "/", "/explore", "/user/reader"):
        time.sleep(1)
        cluster.stop()
        stopped = time.monotonic()
        wait_until(lambda: ready_status() == 503, 15, "/readyz to answer 503")
        time.sleep(3)
        cluster.start()
        started = time.monotonic()
        wait_until(lambda: ready_status() == 200, STARTUP_TIMEOUT, "/readyz to answer 200")
        healed = time.monotonic()
        time.sleep(2)
    during = stack.recorder.between(stopped, started)
    after = stack.recorder.between(healed, time.monotonic())
    report(
        f"database restart: down {started - stopped:.1f} s, ready again "
        f"{healed - started:.1f} s after the start; during: {dict(stack.recorder.statuses(during))}"
        f"; after: {dict(stack.recorder.statuses(after))}; "
        f"all: {dict(stack.recorder.statuses())}"
    )
    statuses = stack.recorder.statuses()
    assert statuses[503] > 0
    assert set(statuses) <= {200, 302, 503}
    assert set(stack.recorder.statuses(after)) <= {200, 302}
    page = reader.get("/")
    assert page.status_code == 200 and signed_in_as(page, "reader")  # the session survived


def test_twenty_people_registering_one_name_at_once_make_one_account(start_stack, report):
    stack = start_stack()
    crowd = [browser(stack, f"127.0.6.{n + 1}") for n in range(20)]
    forms = []
    for n, client in enumerate(crowd):
        action, data = client.fill("/auth/register", {"username": "popular"})
        data |= {
            "email": f"person{n}@example.com",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        }
        forms.append((client, action, data))
    barrier = threading.Barrier(len(crowd))

    def register(client: Browser, action: str, data: dict):
        barrier.wait(STARTUP_TIMEOUT)
        return client.request("POST", action, data=data)

    responses = run_all([lambda f=f: register(*f) for f in forms])
    statuses = sorted(r.status_code if r is not None else 0 for r in responses)
    errors = {
        e for r in responses if r is not None and r.status_code == 200 for e in form_errors(r)
    }
    report(f"concurrent registrations: statuses {statuses}; form errors {sorted(errors)}")
    assert statuses == [200] * 19 + [302]
    assert errors and all("taken" in error for error in errors)
    assert stack.count("""SELECT count(*) FROM "user" WHERE lower(username) = 'popular'""") == 1


def test_two_app_hosts_share_sessions_limits_and_posts_and_cover_for_each_other(
    start_stack, report
):
    stack = start_stack(hosts=2)
    first, second = stack.hosts
    ann = browser(stack, "127.0.7.1")
    ann.register("ann")
    response, _ = ann.publish("Written through whichever host nginx chose")
    assert response.status_code == 302

    marker = uuid.uuid4().hex
    pages = [ann.get(f"/user/ann?seen={marker}") for _ in range(6)]
    hosts = stack.upstreams_of(marker, len(pages))
    report(f"two hosts: six profile views by one signed-in user went to {hosts}")
    assert {first.upstream, second.upstream} <= set(hosts)
    assert all(signed_in_as(page, "ann") for page in pages)
    assert all("Written through whichever host nginx chose" in page.text for page in pages)

    statuses = bad_logins(browser(stack, "127.0.7.2"), 2 * LOGIN_LIMIT)
    assert statuses.count(200) <= LOGIN_LIMIT, statuses  # counted together, in Redis

    stack.recorder.exchanges.clear()
    readers = [browser(stack, f"127.0.7.{10 + n}") for n in range(4)]
    with reading(readers, f"/explore?after={marker}"):
        time.sleep(2)
        stopping = time.monotonic()
        start_stack.processes.stop(first.process, signal.SIGTERM)
        stopped = time.monotonic()
        time.sleep(3)
    after = stack.recorder.between(stopped, time.monotonic())
    failed = server_errors(stack)
    report(
        f"two hosts: host1 stopped in {stopped - stopping:.1f} s under 4 readers; "
        f"{stack.recorder.summary(time.monotonic() - stopping + 2)}; "
        f"failed {[(e.path, e.status) for e in failed]}; after the stop "
        f"{dict(stack.recorder.statuses(after))}"
    )
    assert len(failed) <= len(readers)  # at most the requests in flight at that moment
    assert all(e.started <= stopped and e.started + e.seconds >= stopping for e in failed)
    assert after and set(stack.recorder.statuses(after)) == {200}


def test_a_backup_restores_into_a_database_the_app_serves(start_stack, tmp_path, report):
    stack = start_stack(env=NO_POST_LIMIT)
    author = browser(stack, "127.0.8.1")
    author.register("archivist")
    for n in range(20):
        assert author.publish(f"Worth keeping #{n}")[0].status_code == 302
    source = stack.postgres.row_counts(stack.database)

    dump = tmp_path / "microblog.dump"
    host = ["-h", stack.postgres.host, "-p", str(stack.postgres.port), "-U", "postgres"]
    run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", *host, stack.database])
    restored = stack.postgres.create_database()
    run(["pg_restore", "--no-owner", "--exit-on-error", *host, "-d", restored, str(dump)])
    assert stack.postgres.row_counts(restored) == source

    copy = start_stack(database=restored, env=NO_POST_LIMIT)  # runs `flask db upgrade` too
    migrations = run(
        [str(VENV_BIN / "flask"), "db", "current"],
        cwd=REPO,
        env=start_stack.app_env({"DATABASE_URL": stack.postgres.url(restored)}),
    )
    reader = browser(copy, "127.0.8.2")
    page = reader.get("/user/archivist")
    report(
        f"backup: {dump.stat().st_size} bytes for {source}; restored alike; "
        f"migrations: {migrations.stdout.strip().splitlines()[-1]}"
    )
    assert "(head)" in migrations.stdout
    assert page.status_code == 200 and "Worth keeping #19" in page.text
    assert reader.login("archivist").status_code == 302
