import pytest
import sqlalchemy as sa
from flask import abort

from app import create_app
from app.extensions import db
from app.models import User
from config import TestingConfig
from tests.helpers import text_of


@pytest.fixture
def app():
    """An app with routes that fail on purpose, built before any request is served."""
    app = create_app(TestingConfig)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # serve the 500 page as production would

    @app.get("/fail/<int:code>")
    def fail(code: int):
        abort(code)

    @app.get("/crash")
    def crash():
        db.session.add(User(username="half", email="half@example.com", password_hash="x"))
        db.session.flush()
        raise RuntimeError("boom")

    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.drop_all()


@pytest.mark.parametrize(
    ("code", "title", "explanation"),
    [
        (400, "Bad Request", "If you sent a form, it may have expired"),
        (403, "Forbidden", "You are not allowed to do that."),
        (404, "Not Found", "There is nothing here."),
        (413, "Request Entity Too Large", "What you sent is too large."),
        (429, "Too Many Requests", "Too many requests in a short time. Please wait a while"),
    ],
)
def test_error_pages_use_the_site_layout(client, code, title, explanation):
    response = client.get(f"/fail/{code}")
    assert response.status_code == code
    assert response.mimetype == "text/html"
    text = text_of(response)
    assert f"{code} {title} · Microblog" in text
    assert explanation in text
    assert "Explore" in text  # the navbar


def test_405_page_keeps_the_allow_header(client):
    response = client.post("/explore")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "That page does not accept this kind of request." in text_of(response)


def test_oversize_request_gets_the_413_page(app, client):
    response = client.post("/auth/login", data={"username": "x" * (300 * 1024), "password": "x"})
    assert response.status_code == 413
    assert "What you sent is too large." in text_of(response)


def test_500_page_rolls_back_and_logs(app, client, caplog):
    response = client.get("/crash")
    assert response.status_code == 500
    assert "Something went wrong on our side." in text_of(response)
    assert "boom" in caplog.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_unknown_url_is_404_not_500(client):
    assert client.get("/no/such/page").status_code == 404
