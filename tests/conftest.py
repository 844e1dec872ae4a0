import functools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from app import create_app
from app.email import background
from app.extensions import db, limiter, mail
from app.models import Post, SiteCount, User, utcnow
from app.models import clock as app_clock
from config import TestingConfig
from tests.helpers import RedisServer

PASSWORD = "correct horse battery"
ON_POSTGRESQL = TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql")


def file_database_uri(tmp_path: Path) -> str:
    """A database that several threads or connections share: a SQLite file, or on PostgreSQL
    the test's own schema (in-memory SQLite gives each thread a database of its own)."""
    if ON_POSTGRESQL:
        return TestingConfig.SQLALCHEMY_DATABASE_URI
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(scope="session")
def postgresql() -> Iterator[sa.Engine | None]:
    """A connection to TEST_DATABASE_URL's server for creating schemas; None on SQLite."""
    if not ON_POSTGRESQL:
        yield None
        return
    engine = sa.create_engine(
        TestingConfig.SQLALCHEMY_DATABASE_URI, connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        engine.dispose()
        pytest.skip(
            f"TEST_DATABASE_URL names a PostgreSQL server that does not answer ({error.orig}). "
            "Start the local one with `pg_ctlcluster --skip-systemctl-redirect "
            "$(ls /etc/postgresql) main start`, or unset TEST_DATABASE_URL to test on SQLite."
        )
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def limiter_storage_alive() -> Iterator[None]:
    """Every test starts with the limiter counting in its configured storage.

    The limiter is one object for all the apps of a process: after a test whose storage was
    unreachable it would stay on its in-memory fallback, and wait longer and longer (1 to 32 s)
    before looking at the next test's storage.
    """
    yield
    limiter._storage_dead = False
    limiter._Limiter__check_backend_count = 0


@pytest.fixture(autouse=True)
def isolated_database(postgresql, monkeypatch) -> Iterator[None]:
    """On PostgreSQL, every app a test builds works in a schema of the test's own, dropped after
    it, with each engine disposed (psycopg warns about connections left open)."""
    if postgresql is None:
        yield
        return
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with postgresql.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    connect_args = {"options": f"-c search_path={schema}", "application_name": schema}
    options = {"pool_pre_ping": True, "connect_args": connect_args}
    monkeypatch.setattr(TestingConfig, "SQLALCHEMY_ENGINE_OPTIONS", options)
    engines: set[sa.Engine] = set()

    def remember(connection: sa.Connection) -> None:
        engines.add(connection.engine)

    sa.event.listen(sa.Engine, "engine_connect", remember)
    try:
        yield
    finally:
        # A reset request looks its address up in the mail thread: let that finish first, or
        # its connection outlives the engine's disposal.
        background.submit(lambda: None).result(timeout=30)
        sa.event.remove(sa.Engine, "engine_connect", remember)
        for engine in engines:
            engine.dispose()
        with postgresql.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


class Clock:
    """Stored time, stopped at the start of the test and moved only by ``advance``."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The app's one clock (``app.models.clock``), stopped: tests move it with ``advance``."""
    stopped = Clock()
    monkeypatch.setattr(app_clock, "system_time", stopped)
    return stopped


@functools.cache
def password_hash(password: str) -> str:
    """Hashing is slow by design; tests need each password's hash once."""
    return generate_password_hash(password)


@pytest.fixture
def app() -> Iterator[Flask]:
    app = create_app(TestingConfig)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An app context for model tests that make no requests."""
    with app.app_context():
        yield


@pytest.fixture
def make_user(app: Flask) -> Callable[..., int]:
    """Insert a user (and ``posts`` posts by them) in a context of its own; return the id.

    Users have confirmed their address unless ``confirmed=False``."""

    def make_user(
        username: str = "ann",
        *,
        email: str | None = None,
        password: str = PASSWORD,
        about_me: str | None = None,
        posts: int = 0,
        confirmed: bool = True,
    ) -> int:
        with app.app_context():
            user = User(username=username, about_me=about_me, posts_count=posts)
            if confirmed:
                user.confirm_email()
            user.set_email(email or f"{username.lower()}@example.com")
            user.password_hash = password_hash(password)
            db.session.add(user)
            db.session.flush()
            if posts:
                now = utcnow()
                rows = [
                    {
                        "body": f"Post {n} by {username}",
                        "author_id": user.id,
                        "created_at": now - timedelta(seconds=posts - n),  # post 0 is oldest
                    }
                    for n in range(posts)
                ]
                db.session.execute(sa.insert(Post), rows)
                SiteCount.add(SiteCount.POSTS, posts)
            db.session.commit()
            return user.id

    return make_user


@pytest.fixture
def outbox(app: Flask) -> Iterator[list]:
    """Every mail the app sends during the test (call ``wait_for_mail()`` before looking)."""
    with mail.record_messages() as messages:
        yield messages


@pytest.fixture
def login(client: FlaskClient, make_user: Callable[..., int]) -> Callable[..., int]:
    """Log the client in as ``username``, creating that user first unless it exists."""

    def login(username: str = "ann", password: str = PASSWORD, *, create: bool = True) -> int:
        user_id = make_user(username, password=password) if create else None
        response = client.post("/auth/login", data={"username": username, "password": password})
        assert response.status_code == 302, "login failed"
        return user_id

    return login


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of the test's own, to stop and start at will."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sql_log(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement run during the test, for N+1 checks."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield statements
    sa.event.remove(engine, "before_cursor_execute", record)
