"""Password reset by email, change password, and the sessions a new password ends."""

import re
import time

import pytest
from werkzeug.security import generate_password_hash

from app.auth.email import describe_duration
from app.extensions import db, mail
from app.models import User
from tests.conftest import PASSWORD
from tests.helpers import field_value, links_in, text_of, wait_for_mail

NEW_PASSWORD = "a brand new passphrase"
INVALID_LINK = "That password reset link is invalid, expired or already used."


def request_reset(client, email: str, **kwargs):
    response = client.post("/auth/reset_password_request", data={"email": email}, **kwargs)
    wait_for_mail()
    return response


def reset_link(message) -> str:
    return re.search(r"https?://\S+/auth/reset_password/\S+", message.body).group(0)


def logs_in(client, password: str, username: str = "ann") -> bool:
    response = client.post("/auth/login", data={"username": username, "password": password})
    return response.status_code == 302


def token_for(app, user_id: int) -> str:
    with app.test_request_context():
        return db.session.get(User, user_id).password_reset_token()


def test_login_page_links_to_the_reset_request(client):
    response = client.get("/auth/login")
    assert ("/auth/reset_password_request", "Forgot your password?") in links_in(response)


def test_full_reset_flow(app, client, make_user, outbox):
    make_user("ann")
    response = request_reset(client, "ann@example.com")
    assert response.status_code == 302 and response.location == "/auth/login"

    [message] = outbox
    assert message.recipients == ["ann@example.com"]
    assert message.subject == "Reset your Microblog password"
    link = reset_link(message)
    assert link.startswith("http://localhost/auth/reset_password/")
    assert "expires in 1 hour" in message.body
    assert f'href="{link}"' in message.html and "expires in 1 hour" in message.html

    path = link.removeprefix("http://localhost")
    form_page = client.get(path)
    assert form_page.status_code == 200
    assert form_page.headers["Referrer-Policy"] == "no-referrer"
    assert field_value(form_page, "password") == ""

    response = client.post(
        path,
        data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        follow_redirects=True,
    )
    assert response.request.path == "/auth/login"
    assert "Your password has been reset." in text_of(response)
    assert not logs_in(client, PASSWORD)
    assert logs_in(client, NEW_PASSWORD)


def test_a_reset_link_works_only_once(app, client, make_user, outbox):
    make_user("ann")
    request_reset(client, "ann@example.com")
    path = reset_link(outbox[0]).removeprefix("http://localhost")
    client.post(path, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    response = client.get(path, follow_redirects=True)
    assert response.request.path == "/auth/reset_password_request"
    assert INVALID_LINK in text_of(response)
    response = client.post(
        path, data={"password": "another one!", "confirm_password": "another one!"}
    )
    assert response.location == "/auth/reset_password_request"
    assert logs_in(client, NEW_PASSWORD)


def test_a_new_password_set_elsewhere_also_kills_the_link(app, client, make_user):
    user_id = make_user("ann")
    token = token_for(app, user_id)
    with app.app_context():
        db.session.get(User, user_id).set_password("changed in the shell")
        db.session.commit()
    assert client.get(f"/auth/reset_password/{token}").location == "/auth/reset_password_request"


def test_an_expired_link_is_refused(app, client, make_user, monkeypatch):
    user_id = make_user("ann")
    token = token_for(app, user_id)
    assert client.get(f"/auth/reset_password/{token}").status_code == 200
    later = time.time() + app.config["PASSWORD_RESET_MAX_AGE"] + 1
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    response = client.get(f"/auth/reset_password/{token}", follow_redirects=True)
    assert INVALID_LINK in text_of(response)


def test_a_tampered_link_is_refused(app, client, make_user):
    token = token_for(app, make_user("ann"))
    payload, timestamp, signature = token.split(".")
    forged = f"{payload}.{timestamp}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    response = client.get(f"/auth/reset_password/{forged}", follow_redirects=True)
    assert INVALID_LINK in text_of(response)


def test_a_link_signed_with_another_key_is_refused(app, client, make_user):
    user_id = make_user("ann")
    app.config["SECRET_KEY"] = "some other key that is long enough to be used"
    token = token_for(app, user_id)
    app.config["SECRET_KEY"] = "testing-secret-key-that-is-long-enough-to-pass"
    assert client.get(f"/auth/reset_password/{token}").location == "/auth/reset_password_request"


def test_a_link_for_a_deleted_user_is_refused(app, client, make_user):
    user_id = make_user("ann")
    token = token_for(app, user_id)
    with app.app_context():
        db.session.delete(db.session.get(User, user_id))
        db.session.commit()
    response = client.get(f"/auth/reset_password/{token}", follow_redirects=True)
    assert INVALID_LINK in text_of(response)


@pytest.mark.parametrize(
    "token", ["x", "not.a.token", "a" * 2000, "%00", "eyJ1c2VyIjoxfQ.AAAA.BBBB"]
)
def test_garbage_tokens_are_refused_without_an_error_page(client, token):
    response = client.get(f"/auth/reset_password/{token}")
    assert response.status_code == 302
    assert response.location == "/auth/reset_password_request"


def test_unknown_email_gets_the_same_answer_and_no_mail(app, client, make_user, outbox):
    make_user("ann")
    known = request_reset(client, "ann@example.com", follow_redirects=True)
    unknown = request_reset(app.test_client(), "nobody@example.com", follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert known.request.path == unknown.request.path == "/auth/login"
    assert text_of(known) == text_of(unknown)
    assert len(outbox) == 1


def test_reset_request_matches_the_email_in_any_case(client, make_user, outbox):
    make_user("ann")
    request_reset(client, "  ANN@Example.COM ")
    assert [message.recipients for message in outbox] == [["ann@example.com"]]


def test_reset_request_with_a_malformed_email_is_a_form_error(client, outbox):
    response = request_reset(client, "not an address")
    assert response.status_code == 200
    assert "Invalid email address." in text_of(response)
    assert outbox == []


def test_reset_form_refuses_a_mismatch_and_a_short_password(app, client, make_user):
    user_id = make_user("ann")
    path = f"/auth/reset_password/{token_for(app, user_id)}"
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm_password": "other"})
    assert "The passwords do not match." in text_of(response)
    response = client.post(path, data={"password": "short", "confirm_password": "short"})
    assert "between 8 and 128 characters" in text_of(response)
    assert logs_in(client, PASSWORD)


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("APP_BASE_URL", "https://microblog.example/blog", "https://microblog.example/blog/auth/"),
        ("SERVER_NAME", "microblog.example", "http://microblog.example/auth/"),
    ],
)
def test_forged_host_header_does_not_change_the_link(
    app, make_user, outbox, setting, value, expected
):
    app.config[setting] = value
    make_user("ann")
    client = app.test_client()
    request_reset(client, "ann@example.com", headers={"Host": "evil.example"})
    link = reset_link(outbox[0])
    assert link.startswith(expected)
    assert "evil" not in outbox[0].body and "evil" not in outbox[0].html


def test_mail_failure_is_logged_not_shown(app, client, make_user, monkeypatch, caplog):
    make_user("ann")

    def refuse(message):
        raise ConnectionRefusedError("SMTP server is down")

    monkeypatch.setattr(mail, "send", refuse)
    response = request_reset(client, "ann@example.com")
    assert response.status_code == 302 and response.location == "/auth/login"
    assert "Background job send_password_reset failed" in caplog.text
    assert "SMTP server is down" in caplog.text


def test_without_a_mail_server_the_mail_is_written_to_the_log(app, client, make_user, caplog):
    make_user("ann")
    request_reset(client, "ann@example.com")
    assert "MAIL_SERVER is not set, so this mail was not sent" in caplog.text
    assert "To: ann@example.com" in caplog.text
    assert "http://localhost/auth/reset_password/" in caplog.text


def remembered_client(app, username: str = "ann", password: str = PASSWORD):
    client = app.test_client()
    client.post(
        "/auth/login", data={"username": username, "password": password, "remember_me": "y"}
    )
    return client, client.get_cookie("remember_token").value


def is_logged_in(client) -> bool:
    return "Signed in as" in text_of(client.get("/"))


def restarted_browser(app, remember_cookie: str):
    client = app.test_client()
    client.set_cookie("remember_token", remember_cookie)
    return client


def test_reset_logs_out_every_other_session_and_remember_cookie(app, make_user):
    user_id = make_user("ann")
    other, other_remember = remembered_client(app)
    assert is_logged_in(other) and is_logged_in(restarted_browser(app, other_remember))

    resetter = app.test_client()
    resetter.post(
        f"/auth/reset_password/{token_for(app, user_id)}",
        data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert not is_logged_in(other)
    assert not is_logged_in(restarted_browser(app, other_remember))
    assert not is_logged_in(resetter)  # sent to log in with the new password


def test_reset_while_logged_in_sends_that_browser_to_log_in(app, client, login):
    user_id = login("ann")
    client.post(
        f"/auth/reset_password/{token_for(app, user_id)}",
        data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert not is_logged_in(client)


def change_password(client, current: str, new: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(
        "/settings/password",
        data={"current_password": current, "password": new, "confirm_password": confirm or new},
    )


def test_edit_profile_links_to_change_password(client, login):
    login()
    assert 'href="/settings/password"' in client.get("/settings/profile").get_data(as_text=True)


def test_change_password_keeps_this_browser_and_logs_out_the_others(app, make_user):
    make_user("ann")
    other, other_remember = remembered_client(app)
    this, this_remember = remembered_client(app)

    response = change_password(this, PASSWORD)
    assert response.location == "/settings/password"
    assert "Your password has been changed." in text_of(this.get("/settings/password"))
    assert is_logged_in(this)
    renewed = this.get_cookie("remember_token").value
    assert renewed != this_remember
    assert is_logged_in(restarted_browser(app, renewed))

    assert not is_logged_in(other)
    assert not is_logged_in(restarted_browser(app, other_remember))
    assert not is_logged_in(restarted_browser(app, this_remember))
    assert logs_in(app.test_client(), NEW_PASSWORD)


def test_change_password_without_remember_me_sets_no_remember_cookie(client, login):
    login()
    change_password(client, PASSWORD)
    assert is_logged_in(client)
    assert client.get_cookie("remember_token") is None


def test_change_password_with_a_wrong_current_password_is_a_form_error(app, client, login):
    login()
    response = change_password(client, "not my password")
    assert response.status_code == 200
    assert "That is not your current password." in text_of(response)
    assert is_logged_in(client)
    assert logs_in(app.test_client(), PASSWORD)


def test_change_password_with_a_mismatched_confirmation_is_a_form_error(app, client, login):
    login()
    response = change_password(client, PASSWORD, confirm="something else")
    assert "The passwords do not match." in text_of(response)
    assert logs_in(app.test_client(), PASSWORD)


def test_change_password_needs_login(client):
    assert client.get("/settings/password").location.startswith("/auth/login")


def test_a_session_cookie_from_before_session_tokens_is_just_logged_out(app, client, make_user):
    user_id = make_user("ann")
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)  # the old format: the bare id
    assert not is_logged_in(client)


def test_legacy_rehash_on_login_keeps_other_sessions(app, make_user):
    user_id = make_user("ann")
    other, _ = remembered_client(app)
    with app.app_context():
        db.session.get(User, user_id).password_hash = generate_password_hash(
            PASSWORD, method="pbkdf2:sha256:1000"
        )
        db.session.commit()
    assert logs_in(app.test_client(), PASSWORD)
    with app.app_context():
        assert db.session.get(User, user_id).password_hash.startswith("scrypt:")
    assert is_logged_in(other)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (3600, "1 hour"),
        (7200, "2 hours"),
        (900, "15 minutes"),
        (86400, "1 day"),
        (90, "90 seconds"),
    ],
)
def test_link_lifetimes_are_described_in_words(seconds, words):
    assert describe_duration(seconds) == words


def test_a_reset_link_dies_when_the_address_changes(app, make_user):
    """The link sits in the old mailbox, which may be why the address was changed."""
    user_id = make_user("ann")
    with app.app_context():
        user = db.session.get(User, user_id)
        token = user.password_reset_token()
        user.change_email("new@example.com")
        db.session.commit()
        assert User.from_password_reset_token(token) is None
