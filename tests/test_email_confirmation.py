"""Confirmed email: registration that reveals no address, the confirmation link, and what an
unconfirmed account may do."""

import re
import time

import pytest
import sqlalchemy as sa
from itsdangerous.timed import TimestampSigner

from app.extensions import db
from app.models import Post, SecurityEvent, SecurityEventKind, User
from tests.conftest import PASSWORD
from tests.helpers import (
    field_value,
    link_in,
    post_form,
    refused_without_the_pages_csrf_token,
    text_of,
    wait_for_mail,
    writes_in,
)

INVALID_LINK = "That confirmation link is invalid, expired or already used."
UNCONFIRMED = "Confirm your email address first"


def registration(username: str, email: str) -> dict[str, str]:
    return {
        "username": username,
        "email": email,
        "password": PASSWORD,
        "confirm_password": PASSWORD,
    }


def register(client, username: str = "ann", email: str = "ann@example.com"):
    response = client.post("/auth/register", data=registration(username, email))
    wait_for_mail()
    return response


def user_named(app, username: str) -> User | None:
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.username == username))


def signed_in(client) -> bool:
    return "Signed in as" in text_of(client.get("/explore"))


# --- Registration ----------------------------------------------------------------------------


def test_a_new_and_a_taken_address_get_byte_identical_answers(app, make_user):
    make_user("owner", email="taken@example.com")
    app.config["WTF_CSRF_ENABLED"] = True  # as browsers meet the form

    def answer(username: str, email: str) -> tuple:
        client = app.test_client()
        form = client.get("/auth/register")
        token = field_value(form, "csrf_token")
        posted = client.post(
            "/auth/register", data=registration(username, email) | {"csrf_token": token}
        )
        page = client.get(posted.location)
        wait_for_mail()
        # Apart from the CSRF token, only the per-response CSP nonce may differ.
        body = re.sub(r'nonce="[^"]+"', "nonce", page.get_data(as_text=True).replace(token, "CSRF"))
        return (
            posted.status_code,
            posted.location,
            posted.get_data(),
            sorted(posted.headers.keys()),
            "Set-Cookie" in posted.headers,
            page.status_code,
            body,
        )

    new, taken = answer("newcomer", "new@example.com"), answer("intruder", "TAKEN@example.com")
    assert new == taken
    assert new[:2] == (302, "/auth/check_inbox")
    assert "Check your inbox" in new[-1]


def test_a_new_address_gets_an_unconfirmed_account_and_a_link_but_no_session(app, client, outbox):
    response = register(client, "Ann", "Ann@Example.com")
    assert response.location == "/auth/check_inbox"
    user = user_named(app, "Ann")
    assert user.email == "ann@example.com" and not user.email_confirmed
    assert not signed_in(client)
    [message] = outbox
    assert message.recipients == ["ann@example.com"]
    assert message.subject == "Confirm your Microblog email address"
    assert "expires in 2 days" in message.body
    assert "open this link and press Confirm on the page it opens" in " ".join(message.body.split())
    assert link_in(message, "/auth/confirm") in message.html


def test_a_taken_address_creates_nothing_and_its_owner_gets_a_working_reset_link(
    app, client, make_user, outbox
):
    make_user("owner", email="taken@example.com")
    response = register(client, "intruder", "Taken@Example.com")
    assert response.location == "/auth/check_inbox"
    assert user_named(app, "intruder") is None
    assert not signed_in(client)
    [message] = outbox
    assert message.recipients == ["taken@example.com"]
    assert message.subject == "Someone tried to register with your email address"
    assert "No new account was made." in message.body
    reset_page = client.get(link_in(message, "/auth/reset_password"))
    assert reset_page.status_code == 200
    assert "Choose a new password" in text_of(reset_page)


def test_a_taken_username_still_says_so(app, client, make_user, outbox):
    make_user("ann")
    response = register(client, "ANN", "someone@example.com")
    assert response.status_code == 200
    assert "That username is taken." in text_of(response)
    assert outbox == []


def test_an_address_taken_between_the_check_and_the_insert_answers_like_a_taken_one(
    app, client, make_user, monkeypatch, outbox
):
    make_user("owner", email="taken@example.com")
    # The other registration commits between this request's look-up and its insert.
    checks = iter([False, True])
    monkeypatch.setattr(User, "email_taken", classmethod(lambda cls, email: next(checks)))
    response = register(client, "intruder", "taken@example.com")
    assert response.location == "/auth/check_inbox"
    assert user_named(app, "intruder") is None
    assert [message.recipients for message in outbox] == [["taken@example.com"]]


# --- The link --------------------------------------------------------------------------------


def test_the_link_opens_a_page_whose_button_confirms_the_address_and_signs_in(app, client, outbox):
    register(client)
    link = link_in(outbox[0], "/auth/confirm")
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the page's links and assets
    html = page.get_data(as_text=True)
    assert "<title>Confirm your email address · Microblog</title>" in html
    assert re.findall(r"<h1\b[^>]*>([^<]*)</h1>", html) == ["Confirm your email address"]
    assert "confirm that ann@example.com is your address and sign in to Microblog as ann" in (
        text_of(page)
    )
    # A plain form posting back to the link: it works without JavaScript, and nothing sends it.
    assert f'<form method="post" action="{link}" class="form">' in html
    assert re.search(r'<input[^>]*type="submit"[^>]*value="Confirm my address"', html)
    assert "submit()" not in html
    assert not signed_in(client)

    response = client.post(link)
    assert response.status_code == 302 and response.location == "/"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    home = client.get("/")
    assert "Your email address is confirmed. Welcome to Microblog, ann!" in text_of(home)
    assert "Signed in as ann" in text_of(home)
    user = user_named(app, "ann")
    assert user.email_confirmed
    with app.app_context():
        kinds = [event.kind for event in SecurityEvent.recent_for(user.id)]
    assert kinds == [SecurityEventKind.SIGNED_IN, SecurityEventKind.EMAIL_CONFIRMED]


def test_opening_the_link_writes_nothing_and_leaves_it_working(app, client, outbox, sql_log):
    """Mail scanners open every link of a mail before its reader does."""
    register(client)
    link = link_in(outbox[0], "/auth/confirm")
    sql_log.clear()
    for _ in range(3):
        assert app.test_client().get(link).status_code == 200
    assert any(statement.startswith("SELECT") for statement in sql_log)  # the token was read
    assert writes_in(sql_log) == []
    assert not user_named(app, "ann").email_confirmed
    client.post(link)
    assert user_named(app, "ann").email_confirmed
    assert signed_in(client)


def test_the_button_without_a_csrf_token_is_refused(app, client, outbox):
    register(client)
    link = link_in(outbox[0], "/auth/confirm")
    form = refused_without_the_pages_csrf_token(app, client, link)
    assert not user_named(app, "ann").email_confirmed
    response = client.post(link, data=form)
    assert response.status_code == 302 and response.location == "/"
    assert user_named(app, "ann").email_confirmed


def test_a_link_works_only_once(app, client, outbox):
    register(client)
    link = link_in(outbox[0], "/auth/confirm")
    client.post(link)
    client.post("/auth/logout")
    for method in (client.get, client.post):
        response = method(link, follow_redirects=True)
        assert response.status_code == 200
        assert INVALID_LINK in text_of(response)
    assert not signed_in(client)


@pytest.mark.parametrize(("age", "works"), [(-60, True), (+60, False)])
def test_a_link_expires(app, client, outbox, monkeypatch, age, works):
    register(client)
    link = link_in(outbox[0], "/auth/confirm")
    later = int(time.time()) + app.config["EMAIL_CONFIRMATION_MAX_AGE"] + age
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    page = client.get(link, follow_redirects=True)
    assert (INVALID_LINK in text_of(page)) is not works
    response = client.post(link, follow_redirects=True)
    assert (INVALID_LINK in text_of(response)) is not works
    assert signed_in(client) is works


@pytest.mark.parametrize(
    "token", ["nonsense", "eyJ1c2VyIjoxfQ.forged.signature", "a" * 5000, "%00", "ä"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_broken_link_gets_a_clear_message(app, client, make_user, token, method):
    make_user("ann", confirmed=False)
    response = client.open(f"/auth/confirm/{token}", method=method, follow_redirects=True)
    assert response.status_code == 200
    assert INVALID_LINK in text_of(response)
    assert not signed_in(client)


def test_a_link_for_an_address_since_changed_fails(app, client, outbox):
    register(client)
    with app.app_context():
        db.session.scalar(sa.select(User)).set_email("other@example.com")
        db.session.commit()
    response = client.get(link_in(outbox[0], "/auth/confirm"), follow_redirects=True)
    assert INVALID_LINK in text_of(response)


# --- Unconfirmed accounts --------------------------------------------------------------------


@pytest.fixture
def unconfirmed(client, make_user, login):
    """Signed in as ann, whose address is not confirmed; bob exists, with a post."""
    make_user("bob", posts=1)
    user_id = make_user("ann", confirmed=False)
    login("ann", create=False)
    return user_id


def test_an_unconfirmed_user_can_read_but_sees_no_post_form(client, unconfirmed):
    home = client.get("/")
    assert field_value(home, "body") is None
    assert "You can post once your email address is confirmed" in text_of(home)
    assert "Confirm your email address to post and follow people" in text_of(home)
    for path in ("/explore", "/user/bob", "/user/bob/popup"):
        assert client.get(path).status_code == 200


def test_a_confirmed_user_sees_the_post_form_and_no_banner(client, login):
    login()
    home = client.get("/")
    assert field_value(home, "body") == ""
    assert "Confirm your email address" not in text_of(home)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_an_unconfirmed_user_cannot_post(app, client, unconfirmed):
    response = client.post("/", data=post_form("Hello"), follow_redirects=True)
    assert UNCONFIRMED in text_of(response)
    assert count(app, Post) == 1  # bob's


def test_an_unconfirmed_user_cannot_edit_a_post(app, client, make_user, login):
    make_user("ann", posts=1, confirmed=False)
    login("ann", create=False)
    with app.app_context():
        post_id = db.session.scalar(sa.select(Post.id))
    response = client.post(f"/post/{post_id}/edit", data={"body": "Changed"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Post, post_id).body == "Post 0 by ann"


@pytest.mark.parametrize("action", ["follow", "unfollow"])
def test_an_unconfirmed_user_cannot_follow_by_form(app, client, unconfirmed, action):
    response = client.post(f"/{action}/bob", data={"next": "/user/bob"})
    assert response.status_code == 302 and response.location == "/user/bob"
    assert UNCONFIRMED in text_of(client.get("/user/bob"))
    assert user_named(app, "bob").followers_count == 0


def test_an_unconfirmed_user_cannot_follow_by_fetch(app, client, unconfirmed):
    response = client.post("/follow/bob", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert UNCONFIRMED in response.json["error"]
    assert user_named(app, "bob").followers_count == 0


def test_with_confirmation_off_an_unconfirmed_user_posts_and_follows(app, client, unconfirmed):
    app.config["REQUIRE_EMAIL_CONFIRMATION"] = False
    assert "Confirm your email address" not in text_of(client.get("/"))
    client.post("/", data=post_form("Hello"))
    client.post("/follow/bob")
    assert count(app, Post) == 2
    assert user_named(app, "bob").followers_count == 1


def test_with_confirmation_off_registering_signs_in_at_once_and_mails_nothing(app, client, outbox):
    app.config["REQUIRE_EMAIL_CONFIRMATION"] = False
    response = register(client)
    assert response.location == "/"
    assert signed_in(client)
    assert outbox == []


# --- Resending the link ----------------------------------------------------------------------


def test_resend_mails_a_new_link_that_works(app, client, unconfirmed, outbox):
    response = client.post("/auth/confirm/resend")
    wait_for_mail()
    assert response.status_code == 302
    assert "A new confirmation link is on its way to ann@example.com" in text_of(client.get("/"))
    [message] = outbox
    client.post(link_in(message, "/auth/confirm"))
    assert user_named(app, "ann").email_confirmed


def test_resend_for_a_confirmed_address_mails_nothing(client, login, outbox):
    login()
    client.post("/auth/confirm/resend")
    wait_for_mail()
    assert "Your email address is already confirmed." in text_of(client.get("/"))
    assert outbox == []


def test_resend_is_rate_limited_per_user(app, client, unconfirmed, outbox):
    app.config["CONFIRMATION_RESEND_RATE_LIMIT"] = "2 per hour"
    statuses = [client.post("/auth/confirm/resend").status_code for _ in range(3)]
    wait_for_mail()
    assert statuses == [302, 302, 429]
    assert len(outbox) == 2


def test_resend_needs_a_signed_in_user(client):
    response = client.post("/auth/confirm/resend")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")


@pytest.mark.parametrize("taken", [True, False])
def test_mails_to_one_address_share_a_budget_whoever_asks(app, make_user, outbox, taken):
    """Registration and reset requests naming one address cannot flood its inbox, and the
    limit answers alike whether or not the address has an account."""
    app.config["RESET_EMAIL_RATE_LIMIT"] = "3 per hour"
    if taken:
        make_user("owner", email="target@example.com")
    statuses = []
    for n in range(3):
        client = app.test_client()
        address = {"REMOTE_ADDR": f"10.7.0.{n}"}
        if n == 2:
            response = client.post(
                "/auth/reset_password_request",
                data={"email": "Target@example.com"},
                environ_base=address,
            )
        else:
            data = registration(f"probe{n}", "target@example.com")
            response = client.post("/auth/register", data=data, environ_base=address)
        statuses.append(response.status_code)
    wait_for_mail()
    refused = app.test_client().post(
        "/auth/register",
        data=registration("probe9", "target@example.com"),
        environ_base={"REMOTE_ADDR": "10.7.0.9"},
    )
    assert statuses == [302, 302, 302]
    assert refused.status_code == 429
    assert all(message.recipients == ["target@example.com"] for message in outbox)
    assert len(outbox) <= 3
