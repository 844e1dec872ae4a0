"""Every protection a public blog needs, each proved against the attack it stops.

SECURITY.md lists them, with where each lives in the code.
"""

import io
import re
import time
import uuid
from urllib.parse import quote, quote_from_bytes

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app import create_app
from app.extensions import db
from app.forms import CONTROL_CHARACTERS
from app.models import (
    ABOUT_ME_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    POST_MAX_LENGTH,
    SUBMISSION_KEY_LENGTH,
    Follow,
    Post,
    User,
    UserSession,
    is_submission_key,
    is_valid_username,
)
from config import ProductionConfig, TestingConfig
from tests.conftest import PASSWORD
from tests.helpers import (
    app_with_users,
    field_value,
    post_form,
    signed_in_client,
    start_session,
    text_of,
    wait_for_mail,
)

# --- Output encoding (XSS) ------------------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    "\u202e<script>alert(1)</script>",  # right-to-left override
    "＜script＞alert(1)＜/script＞",  # fullwidth brackets: harmless text, shown as such
    "{{ 7*7 }}{% raw %}",  # template syntax is data too
]


def assert_no_live_markup(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_about_me_and_posts_come_back_escaped_everywhere(client, login, payload):
    login("ann")
    client.post("/settings/profile", data={"username": "ann", "about_me": payload})
    client.post("/", data=post_form(payload))
    for path in ("/", "/explore", "/user/ann", "/user/ann/popup"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert_no_live_markup(html)
        # Shown as typed: markup as text, and "{{ 7*7 }}" not evaluated to 49.
        assert payload in text_of(response)


@pytest.mark.parametrize(
    "username",
    [
        "<script>x</script>",
        '"><img src=x onerror=alert(1)>',
        "javascript:alert(1)",
        "ann\u202e",  # right-to-left override
        "a\u200bnn",  # zero-width space: looks like "ann"
        "\u0430nn",  # Cyrillic "а": a look-alike of "ann"
        "ａｎｎ",  # fullwidth letters
    ],
)
def test_hostile_and_look_alike_usernames_are_refused_and_echoed_as_text(app, client, username):
    data = {"email": "x@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
    response = client.post("/auth/register", data=data | {"username": username})
    assert "Use only letters, digits" in text_of(response)
    assert_no_live_markup(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


# --- Cross-site request forgery -------------------------------------------------------------


class CsrfConfig(TestingConfig):
    WTF_CSRF_ENABLED = True


@pytest.fixture
def csrf_app():
    app = app_with_users(CsrfConfig, "ann", "bob")
    with app.app_context():
        User.find("ann").publish("ann's post")
        User.find("bob").email_confirmed_at = None  # for the link that confirms an address
        db.session.commit()
    start_session(app, 1)  # ann on another device, for the route that ends one session
    return app


def snapshot(app) -> tuple:
    """Everything a forged request could change."""
    with app.app_context():
        users = db.session.execute(
            sa.select(
                User.username,
                User.email,
                User.email_confirmed_at,
                User.about_me,
                User.password_hash,
                User.posts_count,
                User.followers_count,
                User.following_count,
            ).order_by(User.id)
        ).all()
        posts = db.session.execute(sa.select(Post.body, Post.edited_at).order_by(Post.id)).all()
        follows = db.session.execute(sa.select(Follow.follower_id, Follow.followed_id)).all()
        sessions = db.session.scalars(sa.select(UserSession.key_hash).order_by(UserSession.id))
        return [tuple(row) for row in users], [tuple(row) for row in posts], follows, list(sessions)


def state_changing_requests(app) -> list[tuple[str, dict]]:
    with app.test_request_context():
        token = User.find("ann").password_reset_token()
        confirmation = User.find("bob").email_confirmation_token()
        email_change = User.find("ann").email_change_token("forged@example.com")
        post_id = db.session.scalar(sa.select(Post.id))
        session_id = db.session.scalar(sa.select(UserSession.id).order_by(UserSession.id))
    new_password = {"password": "a new passphrase", "confirm_password": "a new passphrase"}
    return [
        ("/auth/register", {"username": "eve", "email": "eve@example.com"} | new_password),
        ("/auth/login", {"username": "ann", "password": PASSWORD}),
        ("/auth/logout", {}),
        ("/", post_form("forged post")),
        ("/settings/profile", {"username": "forged", "about_me": "forged"}),
        ("/follow/bob", {}),
        ("/unfollow/bob", {}),
        ("/auth/reset_password_request", {"email": "ann@example.com"}),
        (f"/auth/reset_password/{token}", new_password),
        ("/settings/password", {"current_password": PASSWORD} | new_password),
        ("/settings/email", {"email": "forged@example.com", "current_password": PASSWORD}),
        ("/auth/confirm/resend", {}),
        (f"/auth/confirm/{confirmation}", {}),
        (f"/auth/confirm_email_change/{email_change}", {}),
        (f"/post/{post_id}/edit", {"body": "forged edit"}),
        (f"/post/{post_id}/delete", {}),
        (f"/settings/sessions/{session_id}/end", {}),
        ("/settings/sessions/end-others", {}),
    ]


def test_every_state_changing_route_refuses_a_post_without_a_csrf_token(csrf_app):
    clients = (csrf_app.test_client(), signed_in_client(csrf_app))
    before = snapshot(csrf_app)
    for path, data in state_changing_requests(csrf_app):
        for client in clients:
            response = client.post(path, data=data)
            assert response.status_code == 400, path
            assert "If you sent a form, it may have expired" in text_of(response)
            forged = client.post(path, data=data | {"csrf_token": "forged"})
            assert forged.status_code == 400, path
    assert snapshot(csrf_app) == before


def test_no_state_changes_on_get(csrf_app):
    client = signed_in_client(csrf_app)
    before = snapshot(csrf_app)
    for path, _ in state_changing_requests(csrf_app):
        assert client.get(path).status_code < 500, path
    assert snapshot(csrf_app) == before


def test_a_form_with_its_token_goes_through(csrf_app):
    client = signed_in_client(csrf_app)
    page = client.get("/")
    form = {name: field_value(page, name) for name in ("csrf_token", "submission_key")}
    response = client.post("/", data=form | {"body": "genuine"})
    assert response.status_code == 302
    assert any(body == "genuine" for body, _ in snapshot(csrf_app)[1])


# --- Open redirects -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "///evil.example",
        "https:evil.example",
        "http://evil.example",
        "https://evil.example/path",
        "http:evil.example:80/path",
        "javascript:alert(1)",
        "%2F%2Fevil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\x00/evil.example",
        "evil.example",
        "",
    ],
)
def test_login_next_values_that_leave_the_site_land_on_home(client, make_user, target):
    make_user("ann")
    response = client.post(
        "/auth/login", query_string={"next": target}, data={"username": "ann", "password": PASSWORD}
    )
    assert response.location == "/"


# --- Headers and cookies --------------------------------------------------------------------


def assert_security_headers(response) -> None:
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    # The nonce and nothing else: no host, not even this one, can serve a script by itself.
    script_src = re.search(r"script-src ([^;]+)", csp).group(1).split()
    assert len(script_src) == 1 and script_src[0].startswith("'nonce-")
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),  # HTML page
        ("GET", "/user/ann/popup", 200),  # fragment
        ("GET", "/user/nobody", 404),  # error page
        ("GET", "/settings/profile", 302),  # redirect
        ("GET", "/js/flask-moment.js", 200),  # script
        ("POST", "/explore", 405),
    ],
)
def test_security_headers_on_every_kind_of_response(client, make_user, method, path, status):
    make_user("ann")
    response = client.open(path, method=method)
    assert response.status_code == status
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # HTTPS-only sites set it


def test_scripts_carry_this_responses_nonce_and_it_changes_per_request(client):
    first, second = client.get("/"), client.get("/")
    nonces = []
    for response in (first, second):
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
        html = response.get_data(as_text=True)
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html)  # no inline script bodies
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_csp_allows_gravatar_images_only_when_the_site_offers_gravatar(app, client):
    assert "https://www.gravatar.com" in client.get("/").headers["Content-Security-Policy"]
    app.config["GRAVATAR_ENABLED"] = False
    assert "gravatar" not in client.get("/").headers["Content-Security-Policy"]


def test_csp_names_a_self_hosted_moment_js_as_self(app, client):
    app.config["MOMENT_JS_URL"] = "/static/moment.js"
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "cdnjs" not in csp


class SecureProduction(ProductionConfig):
    SECRET_KEY = "k" * 48
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    APP_BASE_URL = "https://microblog.example"
    WTF_CSRF_ENABLED = False  # these tests look at cookies and headers; CSRF has its own


@pytest.fixture
def production_app():
    return app_with_users(SecureProduction, "ann")


def test_production_cookies_are_secure_httponly_lax_and_bounded(production_app):
    client = production_app.test_client()
    client.post(
        "/auth/login",
        data={"username": "ann", "password": PASSWORD, "remember_me": "y"},
        base_url="https://localhost",
    )
    session, remember = client.get_cookie("session"), client.get_cookie("remember_token")
    for cookie in (session, remember):
        assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    assert session.expires is None  # ends with the browser session
    assert remember.max_age is None or remember.max_age <= 30 * 24 * 3600
    assert remember.expires is not None


def test_production_sends_hsts(production_app):
    response = production_app.test_client().get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert_security_headers(response)


def test_trusted_hosts_refuse_other_host_headers():
    class Config(SecureProduction):
        TRUSTED_HOSTS = ["microblog.example"]

    app = create_app(Config)
    client = app.test_client()
    assert client.get("/auth/login", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/auth/login", headers={"Host": "microblog.example"}).status_code == 200


# --- Logins reveal nothing ------------------------------------------------------------------


def test_an_unknown_username_costs_a_password_check_like_a_wrong_password(
    client, make_user, monkeypatch
):
    import app.models.user as models

    checks = []
    real_check = models.check_password_hash

    def counting_check(hashed: str, password: str) -> bool:
        checks.append(hashed)
        return real_check(hashed, password)

    monkeypatch.setattr(models, "check_password_hash", counting_check)
    make_user("ann")
    for username in ("ann", "nobody"):
        checks.clear()
        client.post("/auth/login", data={"username": username, "password": "wrong password"})
        assert len(checks) == 1
        assert checks[0].startswith("scrypt:")  # as slow as a real one


# --- Rate limits ----------------------------------------------------------------------------


def bad_login(client, username: str = "ann", address: str = "10.0.0.1"):
    return client.post(
        "/auth/login",
        data={"username": username, "password": "wrong password"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_the_eleventh_bad_login_in_a_minute_from_one_client_gets_429(app, client, make_user):
    make_user("ann")
    for _ in range(10):
        assert bad_login(client).status_code == 200
    response = bad_login(client)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many requests in a short time." in text_of(response)
    assert_security_headers(response)

    other = app.test_client()
    response = other.post(
        "/auth/login",
        data={"username": "ann", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert response.status_code == 302  # a good login from another client still works


def test_failed_logins_for_one_account_are_limited_across_addresses(app, client, make_user):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per hour"
    make_user("ann")
    make_user("bob")
    for n in range(3):
        assert bad_login(client, address=f"10.0.1.{n}").status_code == 200
    assert bad_login(client, address="10.0.1.99").status_code == 429
    assert bad_login(client, "bob", address="10.0.1.99").status_code == 200  # other accounts


def test_the_account_limit_counts_a_name_however_written_and_its_address_apart(
    app, client, make_user
):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "2 per hour"
    make_user("ann")
    for n, name in enumerate(["ann", " Ann "]):
        assert bad_login(client, name, address=f"10.0.4.{n}").status_code == 200
    assert bad_login(client, "ANN", address="10.0.4.9").status_code == 429
    # The key comes from what was typed, never from a lookup: the address counts on its own.
    for n, name in enumerate(["ANN@example.com", "ann@EXAMPLE.com "]):
        assert bad_login(client, name, address=f"10.0.5.{n}").status_code == 200
    assert bad_login(client, "Ann@Example.com", address="10.0.5.9").status_code == 429


def test_successful_logins_do_not_use_up_the_account_limit(app, client, make_user):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "2 per hour"
    make_user("ann")
    for n in range(4):
        response = client.post(
            "/auth/login",
            data={"username": "ann", "password": PASSWORD},
            environ_base={"REMOTE_ADDR": f"10.0.2.{n}"},
        )
        assert response.status_code == 302
        client.post("/auth/logout")


def test_registrations_are_limited_per_client(app, client):
    app.config["REGISTER_RATE_LIMIT"] = "2 per hour"
    for n in range(2):
        client.post(
            "/auth/register",
            data={
                "username": f"user{n}",
                "email": f"user{n}@example.com",
                "password": PASSWORD,
                "confirm_password": PASSWORD,
            },
        )
        client.post("/auth/logout")
    assert client.post("/auth/register", data={"username": "third"}).status_code == 429


def test_reset_requests_are_limited_per_email_and_per_client(app, client):
    app.config["RESET_EMAIL_RATE_LIMIT"] = "2 per hour"
    app.config["RESET_RATE_LIMIT"] = "4 per hour"
    request = "/auth/reset_password_request"
    for n in range(2):
        data = {"email": "ANN@example.com"}
        assert (
            client.post(request, data=data, environ_base={"REMOTE_ADDR": f"10.0.3.{n}"}).status_code
            == 302
        )
    assert (
        client.post(
            request, data={"email": "ann@example.com"}, environ_base={"REMOTE_ADDR": "10.0.3.9"}
        ).status_code
        == 429
    )
    for n in range(2):
        assert client.post(request, data={"email": f"other{n}@example.com"}).status_code == 302
    for n in range(2):
        client.post(request, data={"email": f"more{n}@example.com"})
    assert client.post(request, data={"email": "fresh@example.com"}).status_code == 429


def test_posting_is_limited_per_user(app, client, login):
    app.config["POST_RATE_LIMIT"] = "3 per minute"
    login("ann")
    for n in range(3):
        assert client.post("/", data=post_form(f"post {n}")).status_code == 302
    assert client.post("/", data=post_form("one too many")).status_code == 429


REDIS_URL = "redis://127.0.0.1:6379/0"


def test_limits_counted_in_redis_hold_across_app_processes(make_user):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(
            "Redis is not running on 127.0.0.1:6379; start it with "
            '`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""` to run this'
        )

    class RedisConfig(TestingConfig):
        RATELIMIT_STORAGE_URI = REDIS_URL
        RATELIMIT_KEY_PREFIX = f"microblog-test-{uuid.uuid4().hex}"
        LOGIN_RATE_LIMIT = "3 per minute"

    store = redis.Redis.from_url(REDIS_URL)
    try:
        client = app_with_users(RedisConfig).test_client()
        for _ in range(3):
            assert bad_login(client).status_code == 200
        # Another process (a second worker, or this one restarted) starts with empty memory:
        # only a shared store still knows this client's attempts.
        assert bad_login(app_with_users(RedisConfig).test_client()).status_code == 429
        assert store.keys(f"*{RedisConfig.RATELIMIT_KEY_PREFIX}*")
    finally:
        for key in store.scan_iter(f"*{RedisConfig.RATELIMIT_KEY_PREFIX}*"):
            store.delete(key)


def test_limits_fall_back_to_memory_while_redis_is_down_and_return_to_it(own_redis, caplog):
    class RedisConfig(TestingConfig):
        RATELIMIT_STORAGE_URI = own_redis.url
        LOGIN_RATE_LIMIT = "3 per minute"

    client = app_with_users(RedisConfig, "ann").test_client()
    assert bad_login(client, address="10.9.0.1").status_code == 200
    assert own_redis.client().keys("*")

    own_redis.stop()
    # Pages keep working, and limits still hold, counted in this process's memory.
    assert client.get("/auth/login").status_code == 200
    codes = [bad_login(client, address="10.9.0.2").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "falling back to in-memory storage" in caplog.text

    own_redis.start()  # empty, as a restarted Redis without persistence is
    deadline = time.monotonic() + 20  # Flask-Limiter looks again after 1, 2, 4 ... seconds
    attempt = 0
    while not own_redis.client().keys("*"):
        assert time.monotonic() < deadline, "the limiter never went back to Redis"
        attempt += 1
        bad_login(client, address=f"10.9.1.{attempt}")
        time.sleep(0.2)
    # Counting in Redis again: another process sees this client's attempts.
    for _ in range(3):
        bad_login(client, address="10.9.2.1")
    assert (
        bad_login(app_with_users(RedisConfig).test_client(), address="10.9.2.1").status_code == 429
    )


@pytest.mark.parametrize("proxies", [0, 1])
def test_forwarded_addresses_count_only_behind_a_trusted_proxy(proxies):
    class Config(TestingConfig):
        TRUSTED_PROXIES = proxies
        LOGIN_RATE_LIMIT = "2 per minute"

    client = app_with_users(Config).test_client()

    def login_from(address: str) -> int:
        headers = {"X-Forwarded-For": address}
        data = {"username": "ann", "password": "wrong password"}
        return client.post("/auth/login", data=data, headers=headers).status_code

    assert [login_from("203.0.113.1") for _ in range(2)] == [200, 200]
    # A new forwarded address is a new client only when a proxy we trust wrote it.
    assert login_from("203.0.113.2") == (200 if proxies else 429)


def test_reading_is_not_rate_limited(client):
    assert all(client.get("/explore").status_code == 200 for _ in range(40))


# --- Arbitrary input never reaches a 500 or the database unchecked ------------------------

ANY_BYTES = st.one_of(
    st.text(max_size=50).map(str.encode),
    st.text(min_size=250, max_size=3000).map(str.encode),
    st.binary(max_size=100),  # NUL bytes, control characters, invalid UTF-8 (surrogate escapes)
    st.sampled_from(
        [b"", b"\x00", b"ann", b"ann@example.com", b"\xed\xa0\x80", b"a" * 300, b"9" * 30]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(lambda n: str(n).encode()),
)


# Well-formed one-time keys as well as anything at all, or no post would ever get through.
FIELD_VALUES = {
    "submission_key": st.one_of(
        ANY_BYTES,
        st.text(
            alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
            min_size=SUBMISSION_KEY_LENGTH,
            max_size=SUBMISSION_KEY_LENGTH,
        ).map(str.encode),
    )
}


class FuzzConfig(TestingConfig):
    RATELIMIT_ENABLED = False  # the point here is the handlers behind the limits


@pytest.fixture
def fuzz_app():
    return app_with_users(FuzzConfig, "ann", "bob")


def form_body(fields: dict[str, bytes]) -> bytes:
    return b"&".join(
        quote_from_bytes(name.encode()).encode() + b"=" + quote_from_bytes(value).encode()
        for name, value in fields.items()
    )


def assert_stored_data_obeys_the_rules(app) -> None:
    with app.app_context():
        for user in db.session.scalars(sa.select(User)):
            assert is_valid_username(user.username)
            assert len(user.email) <= EMAIL_MAX_LENGTH and user.email == user.email.lower()
            assert not CONTROL_CHARACTERS.search(user.email)
            if user.about_me is not None:
                assert len(user.about_me) <= ABOUT_ME_MAX_LENGTH
                assert not CONTROL_CHARACTERS.search(user.about_me)
        for post in db.session.scalars(sa.select(Post)):
            assert 1 <= len(post.body) <= POST_MAX_LENGTH and post.body == post.body.strip()
            assert not CONTROL_CHARACTERS.search(post.body)
            assert post.submission_key is None or is_submission_key(post.submission_key)


FORMS = {
    "/auth/register": ["username", "email", "password", "confirm_password"],
    "/auth/login": ["username", "password", "remember_me"],
    "/auth/reset_password_request": ["email"],
    "/": ["body", "submission_key"],
    "/settings/profile": ["username", "about_me"],
    "/settings/password": ["current_password", "password", "confirm_password"],
    "/settings/email": ["email", "current_password"],
}
FUZZ_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("path", FORMS)
@FUZZ_SETTINGS
@given(data=st.data())
def test_any_form_input_gets_an_answer_not_a_500(fuzz_app, path, data):
    fields = {
        name: data.draw(FIELD_VALUES.get(name, ANY_BYTES), label=name) for name in FORMS[path]
    }
    next_value = data.draw(ANY_BYTES, label="next")
    visitor = path in {"/auth/register", "/auth/login", "/auth/reset_password_request"}
    client = fuzz_app.test_client() if visitor else signed_in_client(fuzz_app)
    response = client.post(
        f"{path}?next={quote_from_bytes(next_value)}",
        data=form_body(fields),
        content_type="application/x-www-form-urlencoded",
    )
    # Mail goes out in the background and takes random numbers (message ids): let it finish
    # before Hypothesis draws the next example, or it sees the random module move under it.
    wait_for_mail()
    assert response.status_code < 500
    assert_stored_data_obeys_the_rules(fuzz_app)
    if response.status_code == 302:
        assert response.location.startswith("/")


@FUZZ_SETTINGS
@given(segment=ANY_BYTES, page=ANY_BYTES)
@example(segment=b"9" * 30, page=b"9" * 30)  # past any INTEGER column and OFFSET
@example(segment=b"\x00", page=b"-1")
@example(segment=b"1", page=b"9" * 5000)  # a cursor past int()'s 4,300 digits
def test_any_path_segment_or_page_gets_an_answer_not_a_500(fuzz_app, segment, page):
    client = signed_in_client(fuzz_app)
    quoted = quote_from_bytes(segment, safe="")
    for path in (
        f"/user/{quoted}",
        f"/user/{quoted}/popup",
        f"/user/{quoted}/followers",
        f"/user/{quoted}/feed.atom",
        f"/post/{quoted}",
        f"/post/{quoted}/edit",
        f"/auth/reset_password/{quoted}",
        f"/avatar/{quoted}.svg",
        f"/tag/{quoted}",
        f"/tag/{quoted}/feed.atom",
    ):
        assert client.get(path).status_code < 500, path
    for path in ("/follow/{}", "/unfollow/{}", "/post/{}/delete", "/settings/sessions/{}/end"):
        assert client.post(path.format(quoted)).status_code < 500, path
    for path in ("/", "/explore", "/user/ann", "/user/ann/following"):
        assert client.get(f"{path}?page={quote_from_bytes(page)}").status_code < 500, path
    after = quote_from_bytes(page, safe="")
    for feed in (quoted, f"user:{quoted}", "timeline"):
        for path in ("/live/check", "/live/posts"):
            url = f"{path}?feed={feed}&after={after}&return_to={quoted}"
            assert client.get(url).status_code < 500, url
            assert fuzz_app.test_client().get(url).status_code < 500, url  # and a visitor
    assert_stored_data_obeys_the_rules(fuzz_app)


@pytest.mark.parametrize("route", ["/auth/confirm", "/auth/confirm_email_change"])
@FUZZ_SETTINGS
@given(token=ANY_BYTES)
def test_any_email_token_gets_an_answer_not_a_500(fuzz_app, route, token):
    path = f"{route}/{quote(token.decode('utf-8', 'replace'), safe='')}"
    for method in ("GET", "POST"):
        assert fuzz_app.test_client().open(path, method=method).status_code < 500, method
    assert_stored_data_obeys_the_rules(fuzz_app)


@FUZZ_SETTINGS
@given(token=ANY_BYTES, password=ANY_BYTES)
def test_any_reset_token_and_password_get_an_answer_not_a_500(fuzz_app, token, password):
    client = fuzz_app.test_client()
    response = client.post(
        f"/auth/reset_password/{quote(token.decode('utf-8', 'replace'), safe='')}",
        data=form_body({"password": password, "confirm_password": password}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code < 500


# --- Forms take form bodies only -----------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=5,
)


def form_requests(app) -> list[tuple[str, dict, FlaskClient]]:
    """Each route that reads a form, with its fields, and a client allowed to send it."""
    with app.app_context():
        if db.session.scalar(sa.select(Post.id)) is None:  # for the edit form's address
            User.find("ann").publish("A post to edit")
            db.session.commit()
    visitor_paths = ("/auth/register", "/auth/login", "/auth/reset_password")
    return [
        (path, data, app.test_client() if path.startswith(visitor_paths) else signed_in_client(app))
        for path, data in state_changing_requests(app)
        if data
    ]


@FUZZ_SETTINGS
@given(values=st.lists(JSON_VALUES, min_size=1, max_size=6))
def test_a_json_body_to_any_form_is_a_415_and_changes_nothing(fuzz_app, values):
    requests = form_requests(fuzz_app)
    before = snapshot(fuzz_app)
    for path, data, client in requests:
        body = dict(zip(data, values * len(data), strict=False))
        response = client.post(path, json=body)
        assert response.status_code == 415, path
        assert "takes a form as a browser sends it, not application/json" in text_of(response)
    assert snapshot(fuzz_app) == before
    for path, _ in state_changing_requests(fuzz_app):  # and the routes without fields
        assert signed_in_client(fuzz_app).post(path, json={"next": 5}).status_code < 500, path


def test_a_file_where_a_form_wants_text_is_a_400_naming_the_field(fuzz_app):
    requests = form_requests(fuzz_app)
    before = snapshot(fuzz_app)
    for path, data, client in requests:
        for name in data:
            upload = data | {name: (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), "a.png")}
            response = client.post(path, data=upload, content_type="multipart/form-data")
            assert response.status_code == 400, (path, name)
            assert "takes text, not a file." in text_of(response)
    assert snapshot(fuzz_app) == before


def test_a_multipart_form_without_files_is_still_a_form(client, login):
    login("ann")
    response = client.post(
        "/", data=post_form("sent as multipart"), content_type="multipart/form-data"
    )
    assert response.status_code == 302
    assert "sent as multipart" in text_of(client.get("/"))


# --- What browsers and proxies may keep -----------------------------------------------------


# The hover card (/user/ann/popup) is the one exception: private, revalidated by its ETag, and
# without a form token (tests/test_profile.py).
@pytest.mark.parametrize("path", ["/", "/explore", "/user/ann", "/settings/profile", "/nothing"])
def test_every_answer_to_a_signed_in_user_is_no_store(client, login, path):
    login("ann")
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_the_json_answer_of_a_follow_is_no_store(client, login, make_user):
    make_user("bob")
    login("ann")
    response = client.post("/follow/bob", headers={"Accept": "application/json"})
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/auth/reset_password_request"])
def test_a_page_with_a_form_is_no_store_for_visitors_too(csrf_app, path):
    assert csrf_app.test_client().get(path).headers["Cache-Control"] == "no-store"


def test_public_pages_and_assets_stay_cacheable(client, login):
    assert "no-store" not in client.get("/explore").headers.get("Cache-Control", "")
    login("ann")
    for path in ("/static/css/app.css", "/js/flask-moment.js"):
        with client.get(path) as response:  # a static file is streamed: close it
            assert "no-store" not in response.headers.get("Cache-Control", ""), path


def test_the_csp_names_no_script_host_even_with_moment_js_on_a_cdn(client):
    csp = client.get("/explore").headers["Content-Security-Policy"]
    assert client.application.config["MOMENT_JS_URL"].startswith("https://cdnjs.cloudflare.com/")
    assert "cdnjs" not in csp


# --- Look-alike usernames -------------------------------------------------------------------

LOOKALIKE = "That username looks too much like an existing one"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Iauren", LOOKALIKE),  # a capital i
        ("1auren", LOOKALIKE),
        ("IAUREN", LOOKALIKE),
        ("lauRen", "That username is taken"),
    ],
)
def test_registration_refuses_a_name_that_looks_like_an_existing_one(
    client, make_user, name, message
):
    make_user("lauren")
    response = client.post(
        "/auth/register",
        data={
            "username": name,
            "email": "new@example.com",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert message in text_of(response)
    with client.application.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


@pytest.mark.parametrize(("existing", "lookalike"), [("mary", "rnary"), ("bob", "B0B")])
def test_renaming_to_a_look_alike_is_refused_but_ones_own_case_is_free(
    client, login, make_user, existing, lookalike
):
    make_user(existing)
    login("ann")
    response = client.post("/settings/profile", data={"username": lookalike})
    assert LOOKALIKE in text_of(response)
    assert client.post("/settings/profile", data={"username": "ANN"}).status_code == 302


def test_the_unique_index_refuses_a_look_alike_that_slips_past_the_form(ctx, make_user):
    make_user("lauren")
    db.session.add(User(username="Iauren", email="i@example.com", password_hash="x"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_look_alike_from_before_the_rule_keeps_its_name_and_can_save_its_profile(
    app, client, make_user, login
):
    user_id = login("Iauren")
    with app.app_context():  # what the migration leaves a look-alike that came second
        db.session.execute(sa.update(User).where(User.id == user_id).values(username_skeleton=None))
        db.session.commit()
    make_user("lauren")
    response = client.post("/settings/profile", data={"username": "Iauren", "about_me": "Hi"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).about_me == "Hi"
