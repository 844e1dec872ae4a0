import os
import signal
import threading
import time

import pytest

from tests.system.clients import Load
from tests.system.conftest import STARTUP_TIMEOUT, WORKERS, wait_until

pytestmark = pytest.mark.system

# The subject here is load, not limits: each writer posts far more than 30 a minute.
NO_POST_LIMIT = {"POST_RATE_LIMIT": "10000 per minute"}


def assert_each_acknowledged_post_stored_once(stack, load: Load) -> None:
    rows = dict(
        stack.postgres.query(stack.database, "SELECT body, count(*) FROM post GROUP BY body")
    )
    lost = [body for body in load.acknowledged if body not in rows]
    duplicated = {body: n for body, n in rows.items() if n > 1}
    unacknowledged = [body for body in rows if body not in load.acknowledged]
    assert (lost, duplicated, unacknowledged) == ([], {}, [])


def test_load_held(start_stack, report):
    stack = start_stack(env=NO_POST_LIMIT)
    load = Load(stack, writers=20, posts_each=100, readers=5)
    stack.recorder.exchanges.clear()  # the figures are for the load, not the sign-ups

    seconds = load.run()

    report(f"load held: 20 writers x 100 posts, 5 readers: {stack.recorder.summary(seconds)}")
    assert load.posted == 2000
    assert_each_acknowledged_post_stored_once(stack, load)
    report("load held: 2000 posts acknowledged, 0 lost, 0 duplicated")
    assert not [e for e in stack.recorder.exchanges if e.status >= 500 or e.status == 0]


def test_worker_killed_mid_load_loses_nothing_and_retries_create_nothing(start_stack, report):
    stack = start_stack(env=NO_POST_LIMIT)
    (host,) = stack.hosts
    load = Load(stack, writers=20, posts_each=40, readers=5)
    workers_before = host.workers()
    killed: list[tuple[int, float]] = []

    def kill_a_worker() -> None:
        wait_until(lambda: load.posted >= 300 or load.done.is_set(), 120, "300 posts")
        victim = min(host.workers())
        os.kill(victim, signal.SIGKILL)
        killed.append((victim, time.monotonic()))

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    seconds = load.run(replay_every=10)
    killer.join(STARTUP_TIMEOUT)

    ((victim, killed_at),) = killed
    wait_until(
        lambda: len(host.workers()) == WORKERS and victim not in host.workers(),
        STARTUP_TIMEOUT,
        "the master to replace the killed worker",
    )
    report(f"worker killed: {stack.recorder.summary(seconds)}")
    failed = [e for e in stack.recorder.exchanges if e.status >= 500 or e.status == 0]
    report(
        f"worker killed: pid {victim} of {sorted(workers_before)} SIGKILLed after "
        f"{killed_at - stack.recorder.exchanges[0].started:.1f} s; replaced: "
        f"{sorted(host.workers() - workers_before)}; failed requests {len(failed)} "
        f"({[(e.method, e.path, e.status) for e in failed]}); "
        f"{len(load.replays)} forms sent twice: {sorted({r.status_code for r in load.replays})}"
    )
    # Only what that worker was busy with at that moment failed (and was retried): requests
    # in flight when the signal went (killed_at is taken just after it).
    assert all(e.started <= killed_at <= e.started + e.seconds + 1 for e in failed), failed
    assert len(failed) <= WORKERS
    assert load.posted == 20 * 40
    assert all(r is not None and r.status_code == 302 for r in load.replays)
    assert_each_acknowledged_post_stored_once(stack, load)
