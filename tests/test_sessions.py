"""Server-side sessions: cookies that die with their record, expiry, and the sessions page."""

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.models import Post, SecurityEvent, SecurityEventKind, User, UserSession
from config import TestingConfig
from tests.conftest import PASSWORD
from tests.helpers import app_with_users, post_form, start_session, text_of

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0"
NEW_PASSWORD = "a brand new passphrase"


def signed_in(app, *, remember: bool = False, username: str = "ann", **kwargs):
    client = app.test_client()
    data = {"username": username, "password": PASSWORD} | ({"remember_me": "y"} if remember else {})
    response = client.post("/auth/login", data=data, **kwargs)
    assert response.status_code == 302, "login failed"
    return client


def is_signed_in(client) -> bool:
    return "Signed in as" in text_of(client.get("/"))


def with_cookie(app, name: str, value: str):
    """Another browser, anywhere, holding a copy of one cookie."""
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def session_count(app, user_id: int | None = None) -> int:
    stmt = sa.select(sa.func.count()).select_from(UserSession)
    if user_id is not None:
        stmt = stmt.where(UserSession.user_id == user_id)
    with app.app_context():
        return db.session.scalar(stmt)


def session_ids(app, user_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(UserSession.id)
                .where(UserSession.user_id == user_id)
                .order_by(UserSession.id)
            )
        )


def events_of(app, user_id: int) -> list[SecurityEventKind]:
    with app.app_context():
        return [event.kind for event in SecurityEvent.recent_for(user_id)]


# --- Cookies carry a key the database knows only by its hash ---------------------------------


def test_the_cookie_carries_a_random_key_stored_only_as_its_hash(app, client, login):
    user_id = login()
    with client.session_transaction() as session:
        key = session["_user_id"]
    assert str(user_id) not in key.split(":") and len(key) >= 43
    with app.app_context():
        stored = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user_id))
        assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in repr(db.session.execute(sa.select(UserSession.__table__)).all())


def test_sign_in_records_the_client_and_sign_out_deletes_the_record(app, make_user):
    user_id = make_user("ann")
    client = signed_in(
        app, headers={"User-Agent": FIREFOX}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    with app.app_context():
        [record] = db.session.scalars(sa.select(UserSession))
        assert (record.user_id, record.ip_address, record.device) == (
            user_id,
            "10.1.2.3",
            "Firefox on Windows",
        )
        assert not record.remembered
    client.post("/auth/logout")
    assert session_count(app) == 0


# --- Logout kills copied cookies (issue 11, finding 3) ---------------------------------------


def test_a_session_cookie_copied_before_logout_is_dead_after_it(app, make_user):
    make_user("ann")
    victim = signed_in(app)
    stolen = victim.get_cookie("session").value
    thief = with_cookie(app, "session", stolen)
    assert is_signed_in(thief)  # before logout the copy works: it is the same session

    victim.post("/auth/logout")
    thief = with_cookie(app, "session", stolen)  # from another address and browser
    assert not is_signed_in(thief)
    response = thief.post("/", data=post_form("posted with a stolen cookie"))
    assert response.status_code == 302 and response.location.startswith("/auth/login")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0


def test_a_remember_me_cookie_copied_before_logout_is_dead_after_it(app, make_user):
    make_user("ann")
    victim = signed_in(app, remember=True)
    stolen = victim.get_cookie("remember_token").value
    assert is_signed_in(with_cookie(app, "remember_token", stolen))

    victim.post("/auth/logout")
    assert not is_signed_in(with_cookie(app, "remember_token", stolen))


# --- Expiry on the server --------------------------------------------------------------------


def test_a_remember_me_cookie_works_for_30_days_and_not_after(app, make_user, clock):
    make_user("ann")
    remember = signed_in(app, remember=True).get_cookie("remember_token").value
    for _ in range(2):  # used every 10 days, so never idle for long: only the 30 days count
        clock.advance(days=10)
        assert is_signed_in(with_cookie(app, "remember_token", remember))
    clock.advance(days=9, hours=23)
    assert is_signed_in(with_cookie(app, "remember_token", remember))  # day 29 and 23 hours

    clock.advance(hours=2)  # day 30 and 1 hour: the cookie's own 30 days mean nothing here
    assert not is_signed_in(with_cookie(app, "remember_token", remember))
    assert session_count(app) == 0  # refused and deleted


def test_a_plain_session_ends_after_12_idle_hours(app, make_user, clock):
    make_user("ann")
    client = signed_in(app)
    clock.advance(hours=11, minutes=59)
    assert is_signed_in(client)  # activity moves the idle end forward
    clock.advance(hours=11, minutes=59)
    assert is_signed_in(client)
    clock.advance(hours=12)
    assert not is_signed_in(client)
    assert session_count(app) == 0


def test_a_remembered_session_ends_after_14_idle_days(app, make_user, clock):
    make_user("ann")
    remember = signed_in(app, remember=True).get_cookie("remember_token").value
    clock.advance(days=13, hours=23)
    assert is_signed_in(with_cookie(app, "remember_token", remember))
    clock.advance(days=14)
    assert not is_signed_in(with_cookie(app, "remember_token", remember))


def test_idle_limits_come_from_the_config(clock):
    class ShortIdle(TestingConfig):
        SESSION_IDLE_TIMEOUT = timedelta(minutes=30)

    client = signed_in(app_with_users(ShortIdle, "ann"))
    clock.advance(minutes=29)
    assert is_signed_in(client)
    clock.advance(minutes=30)
    assert not is_signed_in(client)


@pytest.mark.parametrize("name", ["SESSION_IDLE_TIMEOUT", "REMEMBER_IDLE_TIMEOUT"])
def test_an_idle_limit_shorter_than_five_minutes_is_refused_at_start(name):
    config = type("TooShort", (TestingConfig,), {name: timedelta(seconds=60)})
    with pytest.raises(RuntimeError, match=f"{name} must be at least 300 seconds"):
        create_app(config)


def test_each_sign_in_purges_expired_sessions_site_wide(app, make_user, clock):
    ann, bob = make_user("ann"), make_user("bob")
    start_session(app, ann)
    start_session(app, bob, remembered=True)
    clock.advance(hours=13)  # ann's plain session is past its idle end, bob's is not
    signed_in(app, username="bob")
    with app.app_context():
        left = db.session.scalars(sa.select(UserSession.user_id)).all()
    assert sorted(left) == [bob, bob]


def test_last_activity_is_written_at_most_once_a_minute(app, make_user, clock, sql_log):
    user_id = make_user("ann")
    client = signed_in(app)

    def writes_for_one_page_view() -> list[str]:
        sql_log.clear()
        client.get("/explore")
        writes = [s for s in sql_log if s.startswith(("UPDATE", "INSERT", "DELETE"))]
        return sorted(statement.split()[1].strip('"') for statement in writes)

    clock.advance(seconds=30)
    assert writes_for_one_page_view() == []
    clock.advance(seconds=31)
    assert writes_for_one_page_view() == ["user", "user_session"]
    assert writes_for_one_page_view() == []
    with app.app_context():
        record = db.session.scalar(sa.select(UserSession))
        assert record.last_active_at == clock.now.replace(tzinfo=None)
        assert db.session.get(User, user_id).last_seen == record.last_active_at


# --- New passwords ---------------------------------------------------------------------------


def test_a_password_change_ends_the_other_sessions_and_renews_this_one(app, make_user):
    user_id = make_user("ann")
    other = signed_in(app, remember=True)
    this = signed_in(app)
    [_, this_id] = session_ids(app, user_id)
    this.post(
        "/settings/password",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert is_signed_in(this) and not is_signed_in(other)
    [renewed_id] = session_ids(app, user_id)
    assert renewed_id != this_id  # a copy of this browser's old cookie died with the rest


def test_a_password_reset_ends_every_session(app, make_user):
    user_id = make_user("ann")
    sessions = [signed_in(app), signed_in(app, remember=True)]
    with app.test_request_context():
        token = db.session.get(User, user_id).password_reset_token()
    app.test_client().post(
        f"/auth/reset_password/{token}",
        data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert not any(is_signed_in(client) for client in sessions)
    assert session_count(app, user_id) == 0


# --- The sessions page -----------------------------------------------------------------------


def test_the_sessions_page_lists_every_session_and_marks_this_one(app, make_user):
    make_user("ann")
    signed_in(app, headers={"User-Agent": FIREFOX}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    this = signed_in(app)
    response = this.get("/settings/sessions")
    text = text_of(response)
    assert "Firefox on Windows" in text and "10.9.8.7" in text
    assert text.count("This device") == 1
    assert text.count("End session") == 1  # not for this one: that is "Log out"
    assert "End all other sessions" in text
    assert 'href="/settings/sessions" aria-current="page">Sessions<' in response.get_data(
        as_text=True
    )


def test_the_sessions_page_shows_the_security_history(app, make_user):
    make_user("ann")
    signed_in(app).post("/auth/logout")
    text = text_of(signed_in(app).get("/settings/sessions"))
    history = text.split("Recent security events", 1)[1]
    newest_first = re.findall(r"Signed (?:in|out)", history)
    assert newest_first == ["Signed in", "Signed out", "Signed in"]


def test_ending_a_session_from_the_page_signs_that_device_out(app, make_user):
    user_id = make_user("ann")
    other = signed_in(app, remember=True)
    other_remember = other.get_cookie("remember_token").value
    this = signed_in(app)
    [other_id, _] = session_ids(app, user_id)

    response = this.post(f"/settings/sessions/{other_id}/end", follow_redirects=True)
    assert "That session has been ended" in text_of(response)
    assert not is_signed_in(other)
    assert not is_signed_in(with_cookie(app, "remember_token", other_remember))
    assert is_signed_in(this)
    assert SecurityEventKind.SESSION_ENDED in events_of(app, user_id)


def test_ending_this_session_from_the_page_asks_to_log_out_instead(app, make_user):
    user_id = make_user("ann")
    this = signed_in(app)
    [this_id] = session_ids(app, user_id)
    response = this.post(f"/settings/sessions/{this_id}/end", follow_redirects=True)
    assert "log out to end it" in text_of(response)
    assert is_signed_in(this)


def test_end_all_other_sessions(app, make_user):
    user_id = make_user("ann")
    others = [signed_in(app), signed_in(app, remember=True)]
    this = signed_in(app)
    response = this.post("/settings/sessions/end-others", follow_redirects=True)
    assert "Every other session has been ended" in text_of(response)
    assert not any(is_signed_in(client) for client in others)
    assert is_signed_in(this) and session_count(app, user_id) == 1
    assert SecurityEventKind.OTHER_SESSIONS_ENDED in events_of(app, user_id)


def test_another_accounts_session_or_an_unknown_one_is_a_404(app, make_user):
    make_user("ann")
    bob_id = make_user("bob")
    bob = signed_in(app, username="bob")
    ann = signed_in(app)
    [bob_session] = session_ids(app, bob_id)
    assert ann.post(f"/settings/sessions/{bob_session}/end").status_code == 404
    assert ann.post("/settings/sessions/999999/end").status_code == 404
    assert is_signed_in(bob)


def test_the_session_routes_need_a_signed_in_user_and_post(client, login):
    assert client.get("/settings/sessions").location.startswith("/auth/login?next=")
    assert client.post("/settings/sessions/end-others").location.startswith("/auth/login")
    login()
    assert client.get("/settings/sessions/end-others").status_code == 405


def test_the_sessions_page_costs_the_same_statements_for_1_or_10_sessions(
    app, client, login, sql_log
):
    user_id = login()
    counts = []
    for extra in (0, 9):
        for _ in range(extra):
            start_session(app, user_id)
        with app.app_context():
            for _ in range(extra):
                SecurityEvent.record(
                    user_id, SecurityEventKind.SIGNED_IN, ip_address="10.0.0.1", device="X"
                )
            db.session.commit()
        sql_log.clear()
        page = client.get("/settings/sessions")
        counts.append(len(sql_log))
    assert len(re.findall(r"End session", page.get_data(as_text=True))) == 9
    assert counts[0] == counts[1]


def test_a_session_ended_by_another_request_meanwhile_costs_this_one_nothing(app, make_user, clock):
    """A logout in one tab while a page loads in another: the late write matches no row."""
    user_id = make_user("ann")
    key = start_session(app, user_id)
    clock.advance(minutes=2)
    with app.test_request_context():
        user_session = UserSession.find(key)
        # The other request, straight to the table: this session's objects know nothing of it.
        db.session.execute(sa.delete(UserSession.__table__))
        assert user_session.record_activity()
        user_session.end()
        db.session.commit()
    assert session_count(app) == 0


def test_a_sign_in_over_a_live_session_ends_it(app, client, make_user):
    """Opening a confirmation link while signed in starts a new session: the old one, and
    any copy of its cookies, must not outlive the next logout."""
    user_id = make_user("ann", confirmed=False)
    victim = signed_in(app, remember=True)
    stolen = victim.get_cookie("remember_token").value
    with app.app_context():
        token = db.session.get(User, user_id).email_confirmation_token()
    victim.post(f"/auth/confirm/{token}")
    victim.post("/auth/logout")
    assert not is_signed_in(with_cookie(app, "remember_token", stolen))
    assert session_count(app, user_id) == 0
