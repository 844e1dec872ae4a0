"""Pages that only read, read without a transaction (app/transactions.py)."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import SiteCount, User
from app.models.notification import lock_users
from config import TestingConfig
from tests.conftest import ON_POSTGRESQL, file_database_uri
from tests.helpers import app_with_users, post_form, signed_in_client

READ_PAGES = [
    "/",
    "/explore",
    "/post/{post}",
    "/user/ann",
    "/user/ann/popup",
    "/user/ann/followers",
    "/user/ann/following",
]


@pytest.fixture
def isolation_levels(app) -> Iterator[list[str]]:
    """The isolation level of each statement's connection, in order."""
    levels: list[str] = []

    def record(conn, *args) -> None:
        levels.append(conn.get_execution_options().get("isolation_level", "default"))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield levels
    sa.event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("path", READ_PAGES)
def test_read_pages_run_every_statement_on_an_autocommit_connection(
    app, make_user, isolation_levels, path
):
    ann = make_user("ann", posts=2)
    client = signed_in_client(app, ann)
    path = path.format(post=1)
    isolation_levels.clear()
    assert client.get(path).status_code == 200
    assert isolation_levels and set(isolation_levels) == {"AUTOCOMMIT"}


@pytest.mark.parametrize("path", ["/settings/profile", "/settings/sessions"])
def test_other_pages_keep_their_transaction(app, make_user, isolation_levels, path):
    client = signed_in_client(app, make_user("ann"))
    isolation_levels.clear()
    assert client.get(path).status_code == 200
    assert "AUTOCOMMIT" not in isolation_levels


def test_a_post_to_a_read_page_keeps_its_transaction(app, make_user, isolation_levels):
    client = signed_in_client(app, make_user("ann"))
    isolation_levels.clear()
    response = client.post("/", data=post_form("Hello"))
    assert response.status_code == 302
    assert "AUTOCOMMIT" not in isolation_levels


def test_the_visit_a_read_page_records_is_written_without_a_transaction_too(
    app, make_user, clock, isolation_levels
):
    ann = make_user("ann")
    client = signed_in_client(app, ann)
    clock.advance(minutes=5)
    isolation_levels.clear()
    assert client.get("/explore").status_code == 200
    assert set(isolation_levels) == {"AUTOCOMMIT"}  # the page's reads after the visit too
    with app.app_context():
        last_seen = db.session.scalar(sa.select(User.last_seen).where(User.id == ann))
    assert last_seen == clock.now.replace(tzinfo=None)


LOCKS = {
    "the site count": lambda: SiteCount.lock(SiteCount.POSTS),
    "a user": lambda: lock_users([1]),
}


@pytest.mark.parametrize("lock", LOCKS.values(), ids=LOCKS.keys())
def test_a_lock_is_held_until_the_transaction_ends(tmp_path, lock):
    """What writers queue on (the site count, then users): on SQLite too, which has no row
    locks."""

    class FileConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = file_database_uri(tmp_path)

    app = app_with_users(FileConfig, "ann")

    def lock_in_another_request() -> None:
        with app.app_context():
            connection = db.session.connection()
            if ON_POSTGRESQL:
                connection.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            else:
                connection.exec_driver_sql("PRAGMA busy_timeout = 200")
            try:
                lock()
            finally:
                db.session.rollback()

    with app.app_context():
        lock()
        with pytest.raises(sa.exc.OperationalError, match="lock"):
            lock_in_another_request()
        db.session.rollback()
    lock_in_another_request()  # free once the holder's transaction ended
