import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app import create_app
from app.extensions import db
from app.models import User
from config import TestingConfig
from tests.conftest import PASSWORD
from tests.helpers import text_of

GOOD_REGISTRATION = {
    "username": "Ann_Smith-1.0",
    "email": "Ann.Smith@Example.com",
    "password": PASSWORD,
    "confirm_password": PASSWORD,
}


def users(app) -> list[User]:
    with app.app_context():
        return db.session.scalars(sa.select(User)).all()


def test_register_without_confirmation_signs_in_and_stores_a_normalised_email(app, client):
    app.config["REQUIRE_EMAIL_CONFIRMATION"] = False
    response = client.post("/auth/register", data=GOOD_REGISTRATION, follow_redirects=True)
    assert response.request.path == "/"
    assert "Welcome to Microblog, Ann_Smith-1.0!" in text_of(response)
    assert "Signed in as Ann_Smith-1.0" in text_of(response)
    [user] = users(app)
    assert user.username == "Ann_Smith-1.0"
    assert user.email == "ann.smith@example.com"
    assert user.password_hash.startswith("scrypt:")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "ab", "between 3 and 32 characters"),
        ("username", "a" * 33, "between 3 and 32 characters"),
        ("username", "ann smith", "Use only letters, digits"),
        ("username", "ann<script>", "Use only letters, digits"),
        ("username", "", "This field is required."),
        ("email", "not-an-email", "Invalid email address."),
        ("email", "a@" + "b" * 250 + ".com", "Field cannot be longer than 254 characters."),
        ("password", "short", "between 8 and 128 characters"),
        ("confirm_password", "something else", "The passwords do not match."),
    ],
)
def test_register_rejects_bad_input_with_a_message_and_creates_nothing(
    app, client, field, value, message
):
    data = GOOD_REGISTRATION | {field: value}
    if field == "password":
        data["confirm_password"] = value
    response = client.post("/auth/register", data=data)
    assert response.status_code == 200
    assert message in text_of(response)
    assert users(app) == []


@pytest.mark.parametrize(
    ("field", "taken", "message"),
    [
        ("username", "ANN_SMITH-1.0", "That username is taken."),
        ("email", "ann.smith@EXAMPLE.COM", "An account with that email address already exists."),
    ],
)
def test_register_refuses_a_username_or_email_taken_in_any_case(
    app, client, make_user, field, taken, message
):
    app.config["REQUIRE_EMAIL_CONFIRMATION"] = False  # with it on, a taken address is a secret
    make_user("Ann_Smith-1.0", email="ann.smith@example.com")
    data = GOOD_REGISTRATION | {"username": "someone", "email": "someone@example.com"}
    response = client.post("/auth/register", data=data | {field: taken})
    assert message in text_of(response)
    assert len(users(app)) == 1


@pytest.mark.parametrize(
    ("confirmation", "message"),
    [
        (True, "That username was just taken."),
        (False, "That username or email address was just taken."),
    ],
)
def test_register_race_lost_at_the_unique_index_is_a_form_error(
    app, client, make_user, monkeypatch, confirmation, message
):
    app.config["REQUIRE_EMAIL_CONFIRMATION"] = confirmation
    make_user("ann")
    # The other registration commits between this form's check and its insert.
    for check in ("username_taken", "username_lookalike"):  # as if another request won
        monkeypatch.setattr(User, check, classmethod(lambda cls, name, **kw: False))
    data = GOOD_REGISTRATION | {"username": "ANN"}
    response = client.post("/auth/register", data=data)
    assert response.status_code == 200
    assert message in text_of(response)
    assert [user.username for user in users(app)] == ["ann"]


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login"])
def test_logged_in_users_are_sent_home_from_register_and_login(client, login, path):
    login()
    response = client.get(path)
    assert response.status_code == 302
    assert response.location == "/"


@pytest.mark.parametrize("identifier", ["ann", "ANN", "ann@example.com", "Ann@Example.COM"])
def test_login_accepts_username_or_email_in_any_case(client, make_user, identifier):
    make_user("ann")
    response = client.post(
        "/auth/login", data={"username": identifier, "password": PASSWORD}, follow_redirects=True
    )
    assert "Signed in as ann" in text_of(response)


@pytest.mark.parametrize(
    ("username", "password"), [("ann", "wrong password"), ("nobody", PASSWORD)]
)
def test_wrong_password_and_unknown_user_get_the_same_message(
    client, make_user, username, password
):
    make_user("ann")
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 200
    assert "Invalid username, email or password." in text_of(response)
    assert "Signed in as" not in text_of(response)


def test_login_with_empty_fields_shows_field_errors(client):
    response = client.post("/auth/login", data={"username": "", "password": ""})
    assert text_of(response).count("This field is required.") == 2


def test_remember_me_sets_a_remember_cookie_only_when_asked(client, make_user):
    make_user("ann")
    client.post("/auth/login", data={"username": "ann", "password": PASSWORD})
    assert client.get_cookie("remember_token") is None
    client.post("/auth/logout")
    client.post("/auth/login", data={"username": "ann", "password": PASSWORD, "remember_me": "y"})
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only


def test_remember_cookie_logs_a_new_browser_session_in(app, client, make_user):
    make_user("ann")
    client.post("/auth/login", data={"username": "ann", "password": PASSWORD, "remember_me": "y"})
    remember = client.get_cookie("remember_token").value
    fresh = app.test_client()  # a browser restart: no session cookie, only the remember cookie
    fresh.set_cookie("remember_token", remember)
    assert "Signed in as ann" in text_of(fresh.get("/"))


def test_legacy_password_hash_logs_in_and_is_rehashed(app, client, make_user):
    user_id = make_user("ann")
    with app.app_context():
        db.session.get(User, user_id).password_hash = generate_password_hash(
            PASSWORD, method="pbkdf2:sha256:260000"
        )
        db.session.commit()
    response = client.post("/auth/login", data={"username": "ann", "password": PASSWORD})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).password_hash.startswith("scrypt:")


@pytest.mark.parametrize("target", ["/explore", "/user/ann?page=2", "/settings/profile"])
def test_login_follows_a_same_site_next_path(client, make_user, target):
    make_user("ann")
    response = client.post(
        "/auth/login", query_string={"next": target}, data={"username": "ann", "password": PASSWORD}
    )
    assert response.location == target


def test_protected_page_sends_anonymous_users_to_login_and_back(client, make_user):
    make_user("ann")
    response = client.get("/settings/profile")
    assert response.status_code == 302
    assert response.location == "/auth/login?next=%2Fsettings%2Fprofile"
    response = client.post(response.location, data={"username": "ann", "password": PASSWORD})
    assert response.location == "/settings/profile"


def test_logout_is_post_only(client, login):
    login()
    assert client.get("/auth/logout").status_code == 405
    assert "Signed in as ann" in text_of(client.get("/"))


def test_logout_ends_the_session(client, login):
    login()
    response = client.post("/auth/logout", follow_redirects=True)
    assert "You have been logged out." in text_of(response)
    assert client.get("/settings/profile").status_code == 302


def test_logout_when_anonymous_asks_to_log_in(client):
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")


def test_pages_have_no_logout_link_only_a_post_form(client, login):
    login()
    html = client.get("/").get_data(as_text=True)
    assert 'href="/auth/logout"' not in html
    assert 'method="post" action="/auth/logout"' in html


class CsrfConfig(TestingConfig):
    WTF_CSRF_ENABLED = True


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/auth/login", {"username": "ann", "password": PASSWORD}),
        ("/auth/register", GOOD_REGISTRATION),
        ("/auth/logout", {}),
    ],
)
def test_posts_without_a_csrf_token_are_refused_with_the_400_page(path, data):
    app = create_app(CsrfConfig)
    with app.app_context():
        db.create_all()
    response = app.test_client().post(path, data=data)
    assert response.status_code == 400
    assert "If you sent a form, it may have expired" in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_forms_carry_a_csrf_token_when_protection_is_on():
    app = create_app(CsrfConfig)
    html = app.test_client().get("/auth/login").get_data(as_text=True)
    assert 'name="csrf_token"' in html
