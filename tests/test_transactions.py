"""Pages that only read, read without a transaction (app/transactions.py)."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User
from tests.helpers import post_form, signed_in_client

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
