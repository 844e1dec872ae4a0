"""Lockout nobody can weaponise: device cookies, name-only counter keys, resets that clear the
counters, honest waits, and throttled re-verification in settings (issue 11, findings 1, 2, 6)."""

import itertools
import re
import uuid

import pytest
import sqlalchemy as sa

from app.auth.devices import DEVICE_COOKIE_NAME, DEVICES_PER_BROWSER
from app.extensions import db
from app.models import SecurityEvent, SecurityEventKind, User, delete_account
from app.throttle import describe_wait
from config import TestingConfig
from tests.conftest import PASSWORD
from tests.helpers import app_with_users, text_of

NEW_PASSWORD = "a brand new passphrase"
WRONG = "wrong password"


def attempt(client, username: str, password: str = WRONG, address: str = "10.0.0.1"):
    return client.post(
        "/auth/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def known_browser(app, username: str = "ann", address: str = "192.0.2.10"):
    """A browser that has signed in to ``username`` before (and signed out since)."""
    browser = app.test_client()
    assert attempt(browser, username, PASSWORD, address).status_code == 302
    browser.post("/auth/logout", environ_base={"REMOTE_ADDR": address})
    return browser


ATTACKS = itertools.count()


def attack(app, username: str, failures: int = 20) -> None:
    """``failures`` wrong passwords for ``username``, from two addresses of an attacker (new
    ones each time: the per-client limit is not what these tests are about)."""
    attacker = app.test_client()
    subnet = next(ATTACKS)
    for n in range(failures):
        assert attempt(attacker, username, address=f"198.51.{subnet}.{n % 2}").status_code == 200


def without_nonce(header: str) -> str:
    return re.sub(r"'nonce-[^']+'", "'nonce-...'", header)


def events_of(app, user_id: int, kind: SecurityEventKind) -> int:
    with app.app_context():
        return len([e for e in SecurityEvent.recent_for(user_id) if e.kind == kind])


# --- Sign-in: the owner's browsers stay in -----------------------------------------------------


@pytest.mark.parametrize("identifier", ["ann", "ann@example.com"])
def test_twenty_failures_from_elsewhere_do_not_stop_the_owners_known_browser(
    app, make_user, identifier
):
    make_user("ann")
    owner = known_browser(app)
    attack(app, identifier)

    assert attempt(owner, identifier, PASSWORD, "192.0.2.10").status_code == 302

    stranger = attempt(app.test_client(), identifier, PASSWORD, "203.0.113.7")
    assert stranger.status_code == 429
    assert 3500 < int(stranger.headers["Retry-After"]) <= 3600
    assert "Too many requests in a short time. Try again in 60 minutes." in text_of(stranger)


@pytest.mark.parametrize("change", ["password", "account"])
def test_a_device_cookie_dies_with_the_password_it_was_earned_with(app, make_user, change):
    """Someone who once knew the password keeps no trusted browser after the owner resets it,
    nor after the account is deleted and a new one (on SQLite, perhaps with the same id) made."""
    user_id = make_user("ann")
    intruder = known_browser(app)
    with app.app_context():
        user = db.session.get(User, user_id)
        if change == "password":
            user.set_password(NEW_PASSWORD)
        else:
            delete_account(user)
            db.session.flush()
            newcomer = User(id=user_id, username="ann2", email="ann2@example.com")
            newcomer.set_password(NEW_PASSWORD)
            db.session.add(newcomer)
        db.session.commit()
    name = "ann" if change == "password" else "ann2"
    attack(app, name)
    assert attempt(intruder, name, NEW_PASSWORD, "192.0.2.10").status_code == 429


def test_a_known_browser_has_its_own_failures_then_meets_the_account_limit(app, make_user):
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per hour"
    make_user("ann")
    owner = known_browser(app)
    for _ in range(10):  # LOGIN_DEVICE_RATE_LIMIT
        assert attempt(owner, "ann").status_code == 200
    # None of them counted against the account: another client still signs in.
    assert attempt(app.test_client(), "ann", PASSWORD, "203.0.113.7").status_code == 302

    # The device cookie is trusted no more: the owner's browser is one client among others.
    for _ in range(3):
        assert attempt(owner, "ann").status_code == 200
    assert attempt(owner, "ann", PASSWORD).status_code == 429


def test_a_device_cookie_counts_only_for_its_own_account_and_only_if_genuine(app, make_user):
    make_user("ann")
    make_user("bob")
    bobs_browser = known_browser(app, "bob")
    attack(app, "ann")
    assert attempt(bobs_browser, "ann", PASSWORD, "192.0.2.10").status_code == 429

    forger = app.test_client()
    forger.set_cookie(DEVICE_COOKIE_NAME, "W1sxLCAibm9uY2UiXV0.forged", path="/auth/login")
    assert attempt(forger, "ann", PASSWORD, "192.0.2.11").status_code == 429


def test_the_device_cookie_is_signed_http_only_lax_long_lived_and_keeps_the_last_accounts(
    app, make_user
):
    browser = app.test_client()
    names = [f"user{n}" for n in range(DEVICES_PER_BROWSER + 1)]
    for name in names:
        make_user(name)
        response = attempt(browser, name, PASSWORD)
        browser.post("/auth/logout")
    cookie = next(
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith(f"{DEVICE_COOKIE_NAME}=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/auth/login" in cookie
    assert "Max-Age=31536000" in cookie and "Secure" not in cookie

    # The first account has dropped out of the browser's list; the five latest are known.
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "1 per hour"
    for name in names:
        attack(app, name, failures=1)
    assert attempt(browser, names[0], PASSWORD, "192.0.2.20").status_code == 429
    for name in names[1:]:
        assert attempt(browser, name, PASSWORD, "192.0.2.20").status_code == 302
        browser.post("/auth/logout")


def test_the_device_cookie_is_secure_where_session_cookies_are(app, make_user):
    app.config["SESSION_COOKIE_SECURE"] = True
    make_user("ann")
    response = attempt(app.test_client(), "ann", PASSWORD)
    assert any(
        header.startswith(f"{DEVICE_COOKIE_NAME}=") and "Secure" in header
        for header in response.headers.getlist("Set-Cookie")
    )


# --- Counter keys: no existence oracle ------------------------------------------------------


def test_known_and_unknown_names_get_identical_answers_through_a_lockout(app, make_user):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per hour"
    make_user("ann")
    # The same sequence (username and address mixed) for an account and for nobody, in step so
    # their time headers match, with names of one length so that even lengths may be compared.
    known_client, unknown_client = app.test_client(), app.test_client()
    statuses = []
    for n, form in enumerate(["{}", "{}@example.com"] * 4):
        known = attempt(known_client, form.format("ann"), address=f"198.18.0.{n % 2}")
        unknown = attempt(unknown_client, form.format("zoe"), address=f"198.18.1.{n % 2}")
        statuses.append(known.status_code)
        assert known.status_code == unknown.status_code
        assert text_of(known).replace("ann", "zoe") == text_of(unknown)
        assert set(known.headers.keys()) == set(unknown.headers.keys())
        for name, value in known.headers.items():
            if name in ("Retry-After", "X-RateLimit-Reset"):
                assert abs(int(value) - int(unknown.headers[name])) <= 2
            elif name not in ("Date", "Set-Cookie", "X-Request-ID"):  # per request anyway
                assert without_nonce(unknown.headers[name]) == without_nonce(value), name
    assert statuses == [200] * 6 + [429] * 2  # 3 per name form, each counted on its own


def test_failed_sign_ins_of_an_account_are_in_its_history(app, make_user):
    user_id = make_user("ann")
    attempt(app.test_client(), "ann")
    attempt(app.test_client(), "ANN@example.com")
    attempt(app.test_client(), "nobody")
    assert events_of(app, user_id, SecurityEventKind.SIGN_IN_FAILED) == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SecurityEvent)) == 2


# --- A completed reset lets the owner in at once ----------------------------------------------


def test_a_completed_password_reset_clears_the_counters_of_name_and_address(app, make_user):
    user_id = make_user("ann")
    for identifier in ("ann", "ann@example.com"):
        attack(app, identifier)
        assert attempt(app.test_client(), identifier, PASSWORD, "203.0.113.7").status_code == 429
    attack(app, "bob")  # someone else's counter is not the reset's business

    with app.test_request_context():
        token = db.session.get(User, user_id).password_reset_token()
    reset = app.test_client().post(
        f"/auth/reset_password/{token}",
        data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert reset.status_code == 302

    for identifier in ("Ann", "ANN@example.com"):
        signed_in = attempt(app.test_client(), identifier, NEW_PASSWORD, "203.0.113.8")
        assert signed_in.status_code == 302
    assert attempt(app.test_client(), "bob", PASSWORD, "203.0.113.9").status_code == 429


# --- The 429 page -------------------------------------------------------------------------


def test_the_per_client_limit_says_how_long_to_wait(app, make_user):
    make_user("ann")
    client = app.test_client()
    for _ in range(10):
        attempt(client, "ann")
    response = attempt(client, "ann")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "Try again in " in text_of(response)
    assert "wait a moment" not in text_of(response)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 second"),
        (42, "42 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (2520, "42 minutes"),
        (3600, "60 minutes"),
        (5401, "2 hours"),
    ],
)
def test_waits_are_told_in_words_rounded_up(seconds, words):
    assert describe_wait(seconds) == words


# --- Re-verification in settings ----------------------------------------------------------


def change_password(client, current: str, address: str = "10.0.0.1"):
    return client.post(
        "/settings/password",
        data={
            "current_password": current,
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        environ_base={"REMOTE_ADDR": address},
    )


def test_wrong_current_passwords_end_the_session_and_stop_the_guessing(app, make_user):
    user_id = make_user("ann")
    thief = app.test_client()
    assert attempt(thief, "ann", PASSWORD).status_code == 302
    second_session = app.test_client()
    assert attempt(second_session, "ann", PASSWORD, "10.0.0.2").status_code == 302

    for n in range(4):  # REVERIFY_RATE_LIMIT is 5 per 15 minutes
        response = change_password(thief, f"guess {n}")
        assert response.status_code == 200
        assert "That is not your current password." in text_of(response)
    response = change_password(thief, "guess 5")
    assert response.status_code == 302 and response.location == "/auth/login"
    page = thief.get("/auth/login")
    assert "You were signed out after too many wrong passwords." in text_of(page)

    # That session is over, and the account's other sessions cannot guess either: not even the
    # right password is looked at until the window ends.
    assert change_password(thief, PASSWORD).location.startswith("/auth/login?next=")
    response = change_password(second_session, PASSWORD, "10.0.0.2")
    assert response.status_code == 200
    assert "Too many wrong passwords. Try again in 15 minutes." in text_of(response)
    assert attempt(app.test_client(), "ann", PASSWORD).status_code == 302  # unchanged
    assert events_of(app, user_id, SecurityEventKind.PASSWORD_CHECK_FAILED) == 5


def test_wrong_current_passwords_count_per_client_too(app, make_user):
    make_user("ann")
    make_user("bob")
    ann, bob = app.test_client(), app.test_client()
    attempt(ann, "ann", PASSWORD)
    attempt(bob, "bob", PASSWORD)
    for _ in range(3):
        change_password(ann, "guess")
    assert change_password(bob, "guess").status_code == 200
    assert change_password(bob, "guess").location == "/auth/login"


def test_the_right_current_password_still_changes_it(app, client, login):
    login("ann")
    change_password(client, "guess")
    response = change_password(client, PASSWORD)
    assert response.status_code == 302 and response.location == "/settings/password"


# --- Counted where every worker sees them ---------------------------------------------------


def test_failures_are_counted_in_redis_across_app_processes(own_redis):
    class RedisConfig(TestingConfig):
        RATELIMIT_STORAGE_URI = own_redis.url
        LOGIN_ACCOUNT_RATE_LIMIT = "3 per hour"

    first = app_with_users(RedisConfig, "ann").test_client()
    for n in range(3):
        assert attempt(first, "ann", address=f"10.8.0.{n}").status_code == 200
    assert own_redis.client().keys("*login-account*")
    # Another process (a second worker, or this one restarted) knows them too.
    second = app_with_users(RedisConfig).test_client()
    assert attempt(second, "ann", PASSWORD, "10.8.1.1").status_code == 429


def test_wrong_current_passwords_are_counted_in_memory_while_redis_is_down(own_redis, caplog):
    class RedisConfig(TestingConfig):
        RATELIMIT_STORAGE_URI = own_redis.url
        RATELIMIT_KEY_PREFIX = f"lockout-{uuid.uuid4().hex}"  # the fallback lives on
        REVERIFY_RATE_LIMIT = "2 per 15 minutes"

    client = app_with_users(RedisConfig, "ann").test_client()
    assert attempt(client, "ann", PASSWORD).status_code == 302
    own_redis.stop()
    response = change_password(client, "guess")
    assert response.status_code == 200
    assert "That is not your current password." in text_of(response)
    assert change_password(client, "guess").location == "/auth/login"
    assert "Rate limit storage unreachable" in caplog.text
