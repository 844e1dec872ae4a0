"""/settings/email: a new address, taken only when the link mailed to it is opened."""

import re
import time

import pytest
from itsdangerous.timed import TimestampSigner

from app.extensions import db
from app.models import SecurityEvent, SecurityEventKind, User
from tests.conftest import PASSWORD
from tests.helpers import (
    link_in,
    refused_without_the_pages_csrf_token,
    text_of,
    wait_for_mail,
    writes_in,
)

INVALID_LINK = "That email change link is invalid, expired or already used."


def address_of(app, user_id: int) -> User:
    with app.app_context():
        return db.session.get(User, user_id)


def use_link(client, message, **kwargs):
    """Open the link in ``message`` and press the button on its page."""
    link = link_in(message, "/auth/confirm_email_change")
    assert client.get(link).status_code == 200
    return client.post(link, **kwargs)


def assert_dead(client, message) -> None:
    """The link says at once that it is dead, and so does its button."""
    link = link_in(message, "/auth/confirm_email_change")
    for method in ("GET", "POST"):
        response = client.open(link, method=method, follow_redirects=True)
        assert response.status_code == 200
        assert INVALID_LINK in text_of(response)


def ask_for(client, email: str, password: str = PASSWORD):
    response = client.post("/settings/email", data={"email": email, "current_password": password})
    wait_for_mail()
    return response


def events(app, user_id: int) -> list[SecurityEventKind]:
    with app.app_context():
        return [event.kind for event in SecurityEvent.recent_for(user_id)]


def test_the_settings_navigation_lists_email_after_profile_and_avatar(client, login):
    login()
    page = client.get("/settings/email")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    navigation = html[html.index('aria-label="Settings"') :].split("</nav>")[0]
    hrefs = re.findall(r'href="(/settings/[a-z]+)"', navigation)
    assert hrefs[:4] == [
        "/settings/profile",
        "/settings/avatar",
        "/settings/email",
        "/settings/password",
    ]
    assert "Your address is ann@example.com" in text_of(page)


def test_the_address_changes_only_when_the_link_is_opened(app, client, login, outbox):
    user_id = login()
    response = ask_for(client, "New@Example.com")
    assert response.status_code == 302 and response.location == "/settings/email"
    assert "We sent a link to new@example.com." in text_of(client.get("/settings/email"))
    assert address_of(app, user_id).email == "ann@example.com"
    [message] = outbox
    assert message.recipients == ["new@example.com"]
    assert message.subject == "Confirm your new Microblog email address"

    assert "open this link and press Confirm on the page it opens" in " ".join(message.body.split())
    link = link_in(message, "/auth/confirm_email_change")
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the page's links and assets
    html = page.get_data(as_text=True)
    assert "<title>Confirm your new email address · Microblog</title>" in html
    assert re.findall(r"<h1\b[^>]*>([^<]*)</h1>", html) == ["Confirm your new email address"]
    assert "move the account ann to new@example.com" in text_of(page)
    assert f'<form method="post" action="{link}" class="form">' in html
    assert re.search(r'<input[^>]*type="submit"[^>]*value="Confirm new address"', html)
    assert address_of(app, user_id).email == "ann@example.com"

    response = client.post(link)
    assert response.status_code == 302 and response.location == "/settings/email"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    wait_for_mail()
    assert "Your email address is now new@example.com." in text_of(client.get("/settings/email"))
    user = address_of(app, user_id)
    assert user.email == "new@example.com" and user.email_confirmed
    notice = outbox[1]
    assert notice.recipients == ["ann@example.com"]
    assert notice.subject == "Your Microblog email address was changed"
    assert "changed to new@example.com" in notice.body
    assert events(app, user_id)[:2] == [
        SecurityEventKind.EMAIL_CHANGED,
        SecurityEventKind.EMAIL_CHANGE_REQUESTED,
    ]


def test_the_link_works_signed_out_and_confirms_an_unconfirmed_account(
    app, client, make_user, login, outbox
):
    user_id = make_user("ann", confirmed=False)
    login("ann", create=False)
    ask_for(client, "right@example.com")
    client.post("/auth/logout")
    response = use_link(client, outbox[0])
    assert response.location == "/auth/login"
    user = address_of(app, user_id)
    assert user.email == "right@example.com" and user.email_confirmed


def test_a_wrong_password_changes_nothing_and_mails_nothing(app, client, login, outbox):
    user_id = login()
    response = ask_for(client, "new@example.com", password="not my password")
    assert response.status_code == 200
    assert "That is not your current password." in text_of(response)
    assert outbox == []
    assert SecurityEventKind.EMAIL_CHANGE_REQUESTED not in events(app, user_id)


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("ANN@example.com", "That is already your address."),
        ("not-an-address", "Invalid email address."),
        ("", "This field is required."),
    ],
)
def test_bad_addresses_get_a_form_error(client, login, outbox, email, message):
    login()
    response = ask_for(client, email)
    assert response.status_code == 200
    assert message in text_of(response)
    assert outbox == []


def test_a_taken_address_gets_the_same_answer_and_its_link_fails_clearly(
    app, client, make_user, login, outbox
):
    make_user("bob", email="bob@example.com")
    user_id = login()
    taken = ask_for(client, "bob@example.com")
    free = ask_for(client, "free@example.com")
    assert (taken.status_code, taken.location) == (free.status_code, free.location)
    assert [message.recipients for message in outbox] == [
        ["bob@example.com"],
        ["free@example.com"],
    ]
    response = use_link(client, outbox[0], follow_redirects=True)
    assert "bob@example.com belongs to another account" in text_of(response)
    assert address_of(app, user_id).email == "ann@example.com"


def test_the_unique_index_has_the_final_word(app, client, make_user, login, monkeypatch, outbox):
    make_user("bob", email="bob@example.com")
    user_id = login()
    ask_for(client, "bob@example.com")
    # The address was free when looked at, and taken by the time of the insert.
    monkeypatch.setattr(User, "email_taken", classmethod(lambda cls, email: False))
    response = use_link(client, outbox[0], follow_redirects=True)
    assert response.status_code == 200
    assert "bob@example.com belongs to another account" in text_of(response)
    assert address_of(app, user_id).email == "ann@example.com"
    assert SecurityEventKind.EMAIL_CHANGED not in events(app, user_id)


def test_a_link_works_once(app, client, login, outbox):
    user_id = login()
    ask_for(client, "new@example.com")
    use_link(client, outbox[0])
    assert_dead(client, outbox[0])
    assert address_of(app, user_id).email == "new@example.com"


def test_an_older_link_dies_with_the_next_change(app, client, login, outbox):
    user_id = login()
    ask_for(client, "first@example.com")
    ask_for(client, "second@example.com")
    use_link(client, outbox[1])
    assert_dead(client, outbox[0])
    assert address_of(app, user_id).email == "second@example.com"


def test_a_new_password_kills_a_pending_link(app, client, login, outbox):
    """Whoever knew the password asked to move the account to their address; the owner noticed
    and set a new password: the link must be dead."""
    user_id = login()
    ask_for(client, "intruder@example.com")
    with app.app_context():
        db.session.get(User, user_id).set_password("the owner's new passphrase")
        db.session.commit()
    assert_dead(client, outbox[0])
    assert address_of(app, user_id).email == "ann@example.com"


def test_an_expired_link_fails(app, client, login, outbox, monkeypatch):
    user_id = login()
    ask_for(client, "new@example.com")
    later = int(time.time()) + app.config["EMAIL_CONFIRMATION_MAX_AGE"] + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert_dead(client, outbox[0])
    assert address_of(app, user_id).email == "ann@example.com"


@pytest.mark.parametrize("token", ["nonsense", "a" * 5000, "%00", "ä"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_broken_link_gets_a_clear_message(client, token, method):
    response = client.open(
        f"/auth/confirm_email_change/{token}", method=method, follow_redirects=True
    )
    assert response.status_code == 200
    assert INVALID_LINK in text_of(response)


def test_opening_the_link_writes_nothing_and_leaves_it_working(app, client, login, outbox, sql_log):
    """Mail scanners open every link of a mail before its reader does."""
    user_id = login()
    ask_for(client, "new@example.com")
    link = link_in(outbox[0], "/auth/confirm_email_change")
    sql_log.clear()
    for _ in range(3):
        assert app.test_client().get(link).status_code == 200
    assert any(statement.startswith("SELECT") for statement in sql_log)  # the token was read
    assert writes_in(sql_log) == []
    assert address_of(app, user_id).email == "ann@example.com"
    client.post(link)
    assert address_of(app, user_id).email == "new@example.com"


def test_the_button_without_a_csrf_token_is_refused(app, client, login, outbox):
    user_id = login()
    ask_for(client, "new@example.com")
    link = link_in(outbox[0], "/auth/confirm_email_change")
    form = refused_without_the_pages_csrf_token(app, client, link)
    assert address_of(app, user_id).email == "ann@example.com"
    response = client.post(link, data=form)
    assert response.status_code == 302 and response.location == "/settings/email"
    assert address_of(app, user_id).email == "new@example.com"


def test_change_requests_are_rate_limited_per_user(app, client, login, outbox):
    app.config["EMAIL_CHANGE_RATE_LIMIT"] = "2 per hour"
    login()
    statuses = [ask_for(client, f"new{n}@example.com").status_code for n in range(3)]
    assert statuses == [302, 302, 429]
    assert len(outbox) == 2


def test_the_email_page_needs_a_signed_in_user(client):
    response = client.get("/settings/email")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")
