import time
from datetime import timedelta

import pytest
import redis

from app import create_app
from app.extensions import db, limiter
from app.models import User
from config import TestingConfig
from tests.helpers import free_port

PROBES = ("/healthz", "/readyz")


@pytest.fixture
def build_app():
    """Build apps from config overrides; their engines are disposed afterwards."""
    apps = []

    def build(**settings):
        config = type("Config", (TestingConfig,), settings)
        app = create_app(config)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_healthz_answers_without_touching_the_database(client, sql_log):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert sql_log == []


def test_readyz_runs_exactly_one_trivial_query(client, sql_log):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok"}}
    assert sql_log == ["SELECT 1"]


@pytest.mark.parametrize("path", PROBES)
def test_probes_are_never_cached(client, path):
    assert client.get(path).headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", PROBES)
def test_probes_set_no_cookie_and_write_no_last_seen_for_a_signed_in_client(
    app, client, login, path
):
    user_id = login()
    with app.app_context():
        user = db.session.get(User, user_id)
        user.last_seen -= timedelta(minutes=5)  # old enough that a visit would move it
        db.session.commit()
        stale = user.last_seen
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with app.app_context():
        assert db.session.get(User, user_id).last_seen == stale
    client.get("/explore")  # a page, by contrast, is a visit
    with app.app_context():
        assert db.session.get(User, user_id).last_seen > stale


@pytest.fixture
def default_limit():
    """A limit on every route, as an operator may set with RATELIMIT_DEFAULT.

    The limiter is one object for the whole process and keeps the first default limit it is
    given, so it is taken off again for the tests that follow.
    """
    yield "2 per minute"
    limiter.limit_manager.set_default_limits([])


@pytest.mark.parametrize("path", PROBES)
def test_probes_are_never_rate_limited(build_app, default_limit, path):
    app = build_app(RATELIMIT_DEFAULT=default_limit)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert client.get("/explore").status_code == 200
    assert client.get("/explore").status_code == 200
    assert client.get("/explore").status_code == 429  # the default limit bites pages...
    assert [client.get(path).status_code for _ in range(5)] == [200] * 5  # ...not probes


def test_readyz_is_503_at_once_when_the_database_refuses_connections(build_app):
    # Port 1: connection refused at once, as when PostgreSQL is stopped on its host.
    app = build_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/none")
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdecimal()
    assert response.json == {"status": "unavailable", "checks": {"database": "failed"}}


def test_healthz_answers_while_the_database_is_down(build_app):
    app = build_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_is_503_when_redis_is_unreachable_and_limits_cannot_fall_back(build_app):
    app = build_app(
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False,
    )
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert response.json == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "failed"},
    }


def test_readyz_stays_200_without_redis_when_limits_fall_back_to_memory(build_app):
    # Every host shares the one Redis: failing readiness would take them all out of the
    # balancer, while with the fallback they can all still serve.
    app = build_app(
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "redis": "failed"}}


def test_readyz_is_200_with_a_reachable_redis(build_app):
    uri = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(uri, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379: apt-get install redis-server and start it")
    app = build_app(RATELIMIT_STORAGE_URI=uri)
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
