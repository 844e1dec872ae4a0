"""Values the app signs (links, cookies), signed with its key but not of the shape it writes
(a key shared with another app, a format of the future): refused as a forgery is, never a 500,
and never a query with a value no row can have (PostgreSQL refuses it outright)."""

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.auth.devices import DEVICE_COOKIE_NAME
from app.models import User
from tests.conftest import PASSWORD
from tests.helpers import text_of

NOT_IDS = [2**70, 2**31, 0, -1, "1", 1.0, True, None, [1], {"id": 1}]


def signed(app, salt: str, payload) -> str:
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt).dumps(payload)


def reset_salt(app) -> str:
    with app.app_context():
        return User._reset_serializer().salt.decode()


@pytest.mark.parametrize("user", NOT_IDS, ids=repr)
def test_a_reset_link_naming_no_row_is_refused(app, client, make_user, user):
    make_user("ann")
    token = signed(app, reset_salt(app), {"user": user, "password": "0" * 32})
    response = client.get(f"/auth/reset_password/{token}")
    assert response.status_code == 302
    assert response.location == "/auth/reset_password_request"


@pytest.mark.parametrize("fingerprint", [{}, [], 0, None], ids=repr)
def test_a_reset_link_whose_password_fingerprint_is_not_text_is_refused(
    app, client, make_user, fingerprint
):
    user_id = make_user("ann")
    token = signed(app, reset_salt(app), {"user": user_id, "password": fingerprint})
    assert client.post(f"/auth/reset_password/{token}", data={}).status_code == 302


@pytest.mark.parametrize("user", NOT_IDS, ids=repr)
@pytest.mark.parametrize(
    ("path", "salt", "payload"),
    [
        ("/auth/confirm", "email-confirmation", {"email": "ann@example.com"}),
        (
            "/auth/confirm_email_change",
            "email-change",
            {"old": "ann@example.com", "new": "new@example.com", "credentials": "0" * 32},
        ),
    ],
    ids=["confirmation", "change"],
)
def test_an_email_link_naming_no_row_is_refused(app, client, make_user, user, path, salt, payload):
    make_user("ann", confirmed=False)
    token = signed(app, salt, payload | {"user": user})
    for method in ("GET", "POST"):
        response = client.open(f"{path}/{token}", method=method, follow_redirects=True)
        assert response.status_code == 200
        assert "link is invalid, expired or already used" in text_of(response)


@pytest.mark.parametrize("key", [5, [1], {"a": 1}, None, 2**70], ids=repr)
def test_a_session_cookie_whose_key_is_not_text_is_a_visitors(app, client, make_user, key):
    make_user("ann")
    with client.session_transaction() as session:
        session["_user_id"] = key
    page = client.get("/explore")
    assert page.status_code == 200 and "Log in" in text_of(page)
    assert client.get("/live/check").status_code == 401  # the badge: for a reader only
    assert client.get("/live/check?feed=explore&after=0").json == {"new_posts": 0, "more": False}


@pytest.mark.parametrize(
    "entries",
    [[[1, "nonce", 5]], [[1, 5, "binding"]], [[2**70, "nonce", "binding"]], [["1", "n", "b"]]],
    ids=["binding", "nonce", "huge id", "text id"],
)
def test_a_device_cookie_of_another_shape_is_a_new_device(app, client, make_user, entries):
    make_user("ann")
    client.set_cookie(DEVICE_COOKIE_NAME, signed(app, "device-cookie", entries))
    response = client.post("/auth/login", data={"username": "ann", "password": PASSWORD})
    assert response.status_code == 302
    assert "Signed in as" in text_of(client.get("/explore"))
