"""The settings area: its layout, its addresses old and new, and the account's security history."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.clients import describe_device
from app.extensions import db
from app.models import SecurityEvent, SecurityEventKind, utcnow
from tests.conftest import PASSWORD

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0"


def events_of(app, user_id: int) -> list[SecurityEventKind]:
    with app.app_context():
        return [event.kind for event in reversed(SecurityEvent.recent_for(user_id))]


@pytest.mark.parametrize("path", ["/settings/profile", "/settings/password"])
def test_settings_pages_need_a_signed_in_user(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/auth/login?next=")


def test_settings_pages_share_a_side_navigation_that_marks_the_current_page(client, login):
    login()
    page = client.get("/settings/password").get_data(as_text=True)
    nav = re.search(r'<nav class="col-md-3" aria-label="Settings">(.*?)</nav>', page, re.S)
    assert nav is not None
    assert 'href="/settings/profile"' in nav.group(1)
    assert re.search(r'href="/settings/password" aria-current="page">Password<', nav.group(1))


@pytest.mark.parametrize(
    ("old", "new"),
    [("/edit_profile", "/settings/profile"), ("/auth/change_password", "/settings/password")],
)
def test_the_old_addresses_keep_working_and_keep_a_post_a_post(client, login, old, new):
    login()
    assert client.get(old).location == new
    response = client.post(old, data={"username": "ann"})
    assert response.status_code == 308
    assert response.location == new


def test_sign_in_and_sign_out_are_recorded_with_address_and_device(app, client, make_user):
    user_id = make_user("ann")
    headers = {"User-Agent": FIREFOX}
    client.post(
        "/auth/login",
        data={"username": "ann", "password": PASSWORD},
        headers=headers,
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    client.post("/auth/logout", headers=headers)
    assert events_of(app, user_id) == [SecurityEventKind.SIGNED_IN, SecurityEventKind.SIGNED_OUT]
    with app.app_context():
        signed_in = SecurityEvent.recent_for(user_id)[-1]
        assert (signed_in.ip_address, signed_in.device) == ("10.1.2.3", "Firefox on Windows")


def test_a_password_change_is_recorded(app, client, login):
    user_id = login("ann")
    client.post(
        "/settings/password",
        data={
            "current_password": PASSWORD,
            "password": "a new passphrase",
            "confirm_password": "a new passphrase",
        },
    )
    assert SecurityEventKind.PASSWORD_CHANGED in events_of(app, user_id)


def test_events_older_than_90_days_are_forgotten_when_the_next_one_arrives(app, client, make_user):
    user_id = make_user("ann")
    gone_quiet = make_user("bob")  # an account nobody uses: its old events go too
    with app.app_context():
        for owner in (user_id, gone_quiet):
            old = SecurityEvent(
                user_id=owner,
                kind=SecurityEventKind.SIGNED_IN,
                created_at=utcnow() - timedelta(days=91),
            )
            db.session.add(old)
        db.session.commit()
    client.post("/auth/login", data={"username": "ann", "password": PASSWORD})
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(SecurityEvent))
    assert count == 1


def test_signing_in_renews_the_csrf_token(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("ann")
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    with client.session_transaction() as session:
        raw_before = session["csrf_token"]
    response = client.post(
        "/auth/login",
        data={"username": "ann", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session.get("csrf_token") != raw_before


@pytest.mark.parametrize(
    ("user_agent", "description"),
    [
        (FIREFOX, "Firefox on Windows"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "Mobile Safari on iOS",
        ),
        ("", "Unknown device"),
        ("\x00" * 5000, "Unknown device"),
    ],
)
def test_devices_are_described_in_a_few_words(user_agent, description):
    assert describe_device(user_agent) == description
