"""While the database cannot be reached: a styled 503 for everyone, and recovery by itself."""

import pytest
import sqlalchemy as sa

from app import create_app
from app.errors.handlers import OUTAGE_RETRY_AFTER_SECONDS
from app.extensions import db
from config import TestingConfig
from tests.conftest import ON_POSTGRESQL
from tests.helpers import text_of


class UnreachableDatabase(TestingConfig):
    # Nothing listens on port 1: every connection attempt is refused at once.
    SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://postgres@127.0.0.1:1/microblog"


@pytest.fixture
def down_app():
    return create_app(UnreachableDatabase)


def assert_unavailable_page(response) -> None:
    assert response.status_code == 503
    # At least: on a rate-limited route Flask-Limiter may name its window's end instead.
    assert int(response.headers["Retry-After"]) >= OUTAGE_RETRY_AFTER_SECONDS
    assert response.mimetype == "text/html"
    text = text_of(response)
    assert "503 Service Unavailable" in text
    assert "briefly unavailable" in text
    assert "Log in" in text  # drawn for a visitor, in the site's layout


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/explore"),
        ("GET", "/user/ann"),
        ("GET", "/user/ann/popup"),
        ("GET", "/post/1"),
        ("POST", "/auth/login"),
        ("POST", "/auth/register"),
    ],
)
def test_every_page_answers_a_styled_503_while_the_database_is_down(down_app, method, path, caplog):
    data = {"username": "ann", "password": "correct horse battery"}
    response = down_app.test_client().open(path, method=method, data=data)
    assert_unavailable_page(response)
    assert "Database unavailable" in caplog.text
    assert "[parameters:" not in caplog.text  # no user input in the log


def test_a_signed_in_user_gets_the_same_503_page(down_app):
    client = down_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:a-session-token"  # as a login before the outage left it
        session["_fresh"] = True
    assert_unavailable_page(client.get("/"))
    assert_unavailable_page(client.get("/settings/profile"))


@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL: set TEST_DATABASE_URL")
def test_connections_a_database_restart_closed_are_replaced_without_an_error(
    app, client, login, postgresql
):
    login("ann")
    assert client.get("/").status_code == 200
    # What a restart does to every connection in the pool; this test's connections carry the
    # test's own application name, so other test runs on the same server are left alone.
    name = TestingConfig.SQLALCHEMY_ENGINE_OPTIONS["connect_args"]["application_name"]
    with postgresql.begin() as connection:
        killed = connection.scalars(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": name},
        ).all()
    assert killed and all(killed)
    for path in ("/", "/explore", "/user/ann"):
        assert client.get(path).status_code == 200


@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL: set TEST_DATABASE_URL")
def test_a_connection_lost_after_the_view_ran_still_gives_its_response(app, postgresql):
    @app.get("/lost-after-reading")
    def lost_after_reading():
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))  # a transaction is open
        with postgresql.begin() as connection:  # the server goes away before the request ends
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return "read"

    response = app.test_client().get("/lost-after-reading")
    assert (response.status_code, response.text) == (200, "read")
    assert app.test_client().get("/explore").status_code == 200
