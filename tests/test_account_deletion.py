"""Deleting an account: everything of it goes in one transaction, its name rests 30 days."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

import app.models.account as account_module
from app.extensions import db
from app.models import Follow, Post, ReservedUsername, SecurityEvent, User, recount, utcnow
from tests.conftest import ON_POSTGRESQL, PASSWORD
from tests.helpers import text_of

PEOPLE = ("bob", "cid", "dan", "eve")


def delete_form(password: str = PASSWORD, confirm: str = "ann") -> dict[str, str]:
    return {"current_password": password, "confirm_username": confirm}


def follow(app, follower_id: int, followed_id: int) -> None:
    with app.app_context():
        users = db.session.get(User, follower_id), db.session.get(User, followed_id)
        users[0].follow(users[1])
        db.session.commit()


def stored_counts(app) -> dict[str, tuple[int, int, int]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(User.username, User.posts_count, User.followers_count, User.following_count)
        )
        return {name: tuple(counts) for name, *counts in rows}


def recounted(app) -> dict[str, tuple[int, int, int]]:
    with app.app_context():
        recount()
        db.session.commit()
    return stored_counts(app)


def rows_of(app, model, column, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).where(column == user_id))


@pytest.fixture
def ann_in_a_network(app, client, make_user, login):
    """ann (signed in, 3 posts) follows bob and cid; bob and dan follow her; bob follows cid."""
    ids = {name: make_user(name, posts=1) for name in PEOPLE}
    ids["ann"] = make_user("ann", posts=3)  # created last: SQLite would give her id again
    login("ann", create=False)
    for follower, followed in [("ann", "bob"), ("ann", "cid"), ("bob", "ann"), ("dan", "ann")]:
        follow(app, ids[follower], ids[followed])
    follow(app, ids["bob"], ids["cid"])
    return ids


def test_deleting_removes_posts_follows_events_and_corrects_every_count(
    app, client, ann_in_a_network
):
    ann_id = ann_in_a_network["ann"]
    assert rows_of(app, SecurityEvent, SecurityEvent.user_id, ann_id) > 0
    response = client.post("/settings/delete", data=delete_form(), follow_redirects=True)
    assert response.request.path == "/"
    assert "Your account and everything in it have been deleted." in text_of(response)
    with app.app_context():
        assert db.session.get(User, ann_id) is None
    assert rows_of(app, Post, Post.author_id, ann_id) == 0
    assert rows_of(app, SecurityEvent, SecurityEvent.user_id, ann_id) == 0
    assert rows_of(app, Follow, Follow.follower_id, ann_id) == 0
    assert rows_of(app, Follow, Follow.followed_id, ann_id) == 0
    counts = stored_counts(app)
    assert counts == {
        "bob": (1, 0, 1),  # lost his follower ann; still follows cid
        "cid": (1, 1, 0),  # lost ann, kept bob
        "dan": (1, 0, 0),  # no longer follows anyone
        "eve": (1, 0, 0),
    }
    assert recounted(app) == counts  # no drift


def test_the_browser_is_signed_out_and_the_profile_is_gone(client, ann_in_a_network):
    client.post("/settings/delete", data=delete_form())
    assert client.get("/settings/profile").status_code == 302  # to the login page
    assert client.get("/user/ann").status_code == 404
    login = client.post("/auth/login", data={"username": "ann", "password": PASSWORD})
    assert login.status_code == 200  # the form again: no such account


def test_a_copied_session_cookie_is_dead_even_for_a_new_account_with_the_same_id(
    app, client, ann_in_a_network
):
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/settings/profile").status_code == 200
    client.post("/settings/delete", data=delete_form())
    make_account_with_id(app, ann_in_a_network["ann"], "newcomer")
    assert copy.get("/settings/profile").status_code == 302


def make_account_with_id(app, user_id: int, username: str) -> None:
    """A new account holding a deleted one's id, as SQLite hands out the highest id again.

    Given explicitly so that PostgreSQL, whose sequences never reuse an id, tests it too.
    """
    with app.app_context():
        user = User(id=user_id, username=username)
        user.set_email(f"{username}@example.com")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()


def test_an_old_reset_link_does_not_work_for_a_new_account_with_the_same_id(
    app, client, ann_in_a_network
):
    ann_id = ann_in_a_network["ann"]
    with app.app_context():
        token = db.session.get(User, ann_id).password_reset_token()
    client.post("/settings/delete", data=delete_form())
    make_account_with_id(app, ann_id, "newcomer")
    response = client.post(
        f"/auth/reset_password/{token}",
        data={"password": "taken over!", "confirm_password": "taken over!"},
        follow_redirects=True,
    )
    assert "That password reset link is invalid" in text_of(response)
    with app.app_context():
        assert db.session.get(User, ann_id).check_password(PASSWORD)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (delete_form(password="wrong password"), "That is not your current password."),
        (delete_form(password=""), "This field is required."),
        (delete_form(confirm=""), "This field is required."),
        (delete_form(confirm="bob"), "Type your username, ann, to confirm."),
    ],
)
def test_a_wrong_password_or_missing_confirmation_deletes_nothing(
    app, client, ann_in_a_network, form, message
):
    before = stored_counts(app)
    response = client.post("/settings/delete", data=form)
    assert response.status_code == 200
    assert message in text_of(response)
    assert stored_counts(app) == before
    assert client.get("/settings/delete").status_code == 200  # still signed in


def test_the_confirmation_accepts_the_username_in_any_case(app, client, ann_in_a_network):
    client.post("/settings/delete", data=delete_form(confirm=" ANN "))
    assert "ann" not in stored_counts(app)


def test_the_statements_do_not_grow_with_followers(app, client, make_user, login, sql_log):
    counts = []
    for name, followers in (("ann", 2), ("amy", 10)):
        user_id = make_user(name, posts=3)
        for n in range(followers):
            follow(app, make_user(f"{name}_fan{n}"), user_id)
            follow(app, user_id, make_user(f"{name}_idol{n}"))
        login(name, create=False)
        sql_log.clear()
        response = client.post("/settings/delete", data=delete_form(confirm=name))
        assert response.status_code == 302
        counts.append(len(sql_log))
    assert counts[0] == counts[1]
    assert recounted(app) == stored_counts(app)


def test_every_user_row_it_changes_is_locked_first_in_order_of_id(
    app, client, ann_in_a_network, sql_log
):
    # As every writer locks users (lock_users): a follow, a block or a like between the same
    # people in parallel then waits for the deletion rather than deadlocks with it.
    sql_log.clear()
    assert client.post("/settings/delete", data=delete_form()).status_code == 302
    statements = [s.replace('"', "") for s in sql_log]  # PostgreSQL quotes "user"
    # lock_users' one statement: FOR UPDATE on PostgreSQL; on SQLite, which has no row locks,
    # an update that changes nothing (the database's write lock).
    lock = (
        "SELECT user.id \nFROM user \nWHERE user.id IN (SELECT"
        if ON_POSTGRESQL
        else "UPDATE user SET screened_count=user.screened_count WHERE user.id IN (SELECT"
    )
    first_lock = next((n for n, s in enumerate(statements) if s.startswith(lock)), None)
    assert first_lock is not None, statements
    user_writes = [n for n, s in enumerate(statements) if s.startswith("UPDATE user ")]
    assert [n for n in user_writes if n < first_lock] == [], statements
    assert [n for n in user_writes if n > first_lock], statements  # the counts it changes
    if ON_POSTGRESQL:
        assert statements[first_lock].rstrip().endswith("FOR UPDATE")


def register(client, username: str):
    return client.post(
        "/auth/register",
        data={
            "username": username,
            "email": f"{username.lower()}.new@example.com",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )


def test_the_name_is_reserved_for_30_days_then_free(app, client, ann_in_a_network, monkeypatch):
    client.post("/settings/delete", data=delete_form())
    response = register(client, "ANN")
    assert response.status_code == 200
    assert "belonged to an account deleted in the last 30 days" in text_of(response)

    bob = app.test_client()
    bob.post("/auth/login", data={"username": "bob", "password": PASSWORD})
    renamed = bob.post("/settings/profile", data={"username": "Ann", "about_me": ""})
    assert "belonged to an account deleted in the last 30 days" in text_of(renamed)

    later = utcnow() + timedelta(days=30, minutes=1)
    monkeypatch.setattr(account_module, "utcnow", lambda: later)
    assert (
        bob.post("/settings/profile", data={"username": "Ann", "about_me": ""}).status_code == 302
    )


def test_a_reserved_name_holds_its_look_alikes_too(ctx):
    ReservedUsername.reserve("lauren")
    assert all(ReservedUsername.is_reserved(name) for name in ("Iauren", "1AUREN", "LAUREN"))
    assert not ReservedUsername.is_reserved("laurent")


def test_expired_reservations_are_purged_as_new_ones_arrive(app, ctx, monkeypatch):
    ReservedUsername.reserve("Old")
    later = utcnow() + timedelta(days=31)
    monkeypatch.setattr(account_module, "utcnow", lambda: later)
    assert not ReservedUsername.is_reserved("old")
    ReservedUsername.reserve("New")
    db.session.commit()
    assert db.session.scalars(sa.select(ReservedUsername.skeleton)).all() == ["new"]


def test_a_failure_midway_leaves_the_account_whole(app, client, ann_in_a_network, monkeypatch):
    before = stored_counts(app)

    def fail(username: str) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(ReservedUsername, "reserve", fail)
    with pytest.raises(RuntimeError):
        client.post("/settings/delete", data=delete_form())
    assert stored_counts(app) == before
    assert rows_of(app, Post, Post.author_id, ann_in_a_network["ann"]) == 3
