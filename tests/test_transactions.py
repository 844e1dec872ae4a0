"""Pages that only read, read without a transaction (app/transactions.py); changes racing a
deletion are a 404 that keeps nothing (app/errors/handlers.py)."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Moderation,
    ModerationAction,
    Post,
    PostTag,
    Role,
    SiteCount,
    User,
    delete_account,
    recount,
)
from app.models.notification import lock_users
from config import TestingConfig
from tests.conftest import ON_POSTGRESQL, file_database_uri
from tests.helpers import app_with_users, post_form, publish, signed_in_client, text_of
from tests.test_counters import stored_counts

READ_PAGES = [
    "/",
    "/explore",
    "/post/{post}",
    "/user/ann",
    "/user/ann/popup",
    "/user/ann/followers",
    "/user/ann/following",
]


@pytest.fixture
def isolation_levels(app) -> Iterator[list[str]]:
    """The isolation level of each statement's connection, in order."""
    levels: list[str] = []

    def record(conn, *args) -> None:
        levels.append(conn.get_execution_options().get("isolation_level", "default"))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield levels
    sa.event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("path", READ_PAGES)
def test_read_pages_run_every_statement_on_an_autocommit_connection(
    app, make_user, isolation_levels, path
):
    ann = make_user("ann", posts=2)
    client = signed_in_client(app, ann)
    path = path.format(post=1)
    isolation_levels.clear()
    assert client.get(path).status_code == 200
    assert isolation_levels and set(isolation_levels) == {"AUTOCOMMIT"}


@pytest.mark.parametrize("path", ["/settings/profile", "/settings/sessions"])
def test_other_pages_keep_their_transaction(app, make_user, isolation_levels, path):
    client = signed_in_client(app, make_user("ann"))
    isolation_levels.clear()
    assert client.get(path).status_code == 200
    assert "AUTOCOMMIT" not in isolation_levels


def test_a_post_to_a_read_page_keeps_its_transaction(app, make_user, isolation_levels):
    client = signed_in_client(app, make_user("ann"))
    isolation_levels.clear()
    response = client.post("/", data=post_form("Hello"))
    assert response.status_code == 302
    assert "AUTOCOMMIT" not in isolation_levels


def test_the_visit_a_read_page_records_is_written_without_a_transaction_too(
    app, make_user, clock, isolation_levels
):
    ann = make_user("ann")
    client = signed_in_client(app, ann)
    clock.advance(minutes=5)
    isolation_levels.clear()
    assert client.get("/explore").status_code == 200
    assert set(isolation_levels) == {"AUTOCOMMIT"}  # the page's reads after the visit too
    with app.app_context():
        last_seen = db.session.scalar(sa.select(User.last_seen).where(User.id == ann))
    assert last_seen == clock.now.replace(tzinfo=None)


# Changes racing a deletion ------------------------------------------------------------------
# Each writer of posts takes the site count first (SiteCount.lock), then reads again what it
# changes. Here the deletion wins: it runs, in a request of its own, just before the lock.


def deleted_just_before_the_lock(app, monkeypatch, delete) -> None:
    lock = SiteCount.lock.__func__

    def deleted_then_locked(cls, name: str) -> None:
        monkeypatch.setattr(SiteCount, "lock", classmethod(lock))  # the deleter's own lock
        with app.app_context():
            delete()
            db.session.commit()
        lock(cls, name)

    monkeypatch.setattr(SiteCount, "lock", classmethod(deleted_then_locked))


def post_deleted_by_its_author(post_id: int):
    def delete() -> None:
        post = db.session.get(Post, post_id)
        assert post.author.delete_post(post)

    return delete


def account_deleted(user_id: int):
    return lambda: delete_account(db.session.get(User, user_id))


def nothing_drifted(app) -> None:
    with app.app_context():
        stored = stored_counts()
        recount()
        assert stored_counts() == stored
        db.session.rollback()


@pytest.mark.parametrize("body", ["Second #draft", "Second #final, @bob"])
def test_an_edit_racing_the_posts_deletion_is_a_404_that_keeps_nothing(
    app, make_user, monkeypatch, caplog, body
):
    ann_id, bob_id = make_user("ann"), make_user("bob")
    post_id = publish(app, ann_id, "First #draft")
    ann = signed_in_client(app, ann_id)
    deleted_just_before_the_lock(app, monkeypatch, post_deleted_by_its_author(post_id))
    response = ann.post(f"/post/{post_id}/edit", data={"body": body})
    assert response.status_code == 404
    assert "while you were working on it" in response.get_data(as_text=True)
    assert "Deleted by a request in parallel" in caplog.text
    with app.app_context():
        assert db.session.get(Post, post_id) is None
        assert db.session.scalars(sa.select(PostTag)).all() == []
        assert db.session.get(User, bob_id).unread_notifications == 0
    nothing_drifted(app)


@pytest.mark.parametrize("action", ["hide", "restore"])
def test_hiding_or_restoring_a_post_its_author_deletes_meanwhile_is_a_404(
    app, make_user, monkeypatch, action
):
    mod_id, ann_id = make_user("mod"), make_user("ann")
    with app.app_context():
        db.session.get(User, mod_id).role = Role.MODERATOR
        db.session.commit()
    post_id = publish(app, ann_id, "Hide me #tag")
    if action == "restore":
        with app.app_context():
            mod = db.session.get(User, mod_id)
            Moderation(by=mod).hide_post(db.session.get(Post, post_id), "spam")
            db.session.commit()
    mod = signed_in_client(app, mod_id)
    assert mod.get(f"/post/{post_id}").status_code == 200  # the form is on the post's page
    deleted_just_before_the_lock(app, monkeypatch, post_deleted_by_its_author(post_id))
    response = mod.post(f"/admin/posts/{post_id}/{action}", data={"reason": "spam"})
    assert response.status_code == 404
    assert "while you were working on it" in response.get_data(as_text=True)
    with app.app_context():
        recorded = db.session.scalars(sa.select(ModerationAction.kind)).all()
        assert len(recorded) == (1 if action == "restore" else 0)  # the hide before, only
    nothing_drifted(app)


@pytest.mark.parametrize("action", ["suspend", "unsuspend"])
def test_suspending_or_lifting_an_account_deleted_meanwhile_is_a_404(
    app, make_user, monkeypatch, action
):
    admin_id, ann_id = make_user("admin"), make_user("ann", posts=2)
    with app.app_context():
        db.session.get(User, admin_id).role = Role.ADMIN
        db.session.commit()
    if action == "unsuspend":
        with app.app_context():
            admin, ann = db.session.get(User, admin_id), db.session.get(User, ann_id)
            Moderation(by=admin).suspend(ann, "spam")
            db.session.commit()
    admin = signed_in_client(app, admin_id)
    deleted_just_before_the_lock(app, monkeypatch, account_deleted(ann_id))
    form = {"reason": "spam", "days": ""} if action == "suspend" else {}
    response = admin.post(f"/admin/users/ann/{action}", data=form)
    assert response.status_code == 404
    assert "while you were working on it" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, ann_id) is None
    nothing_drifted(app)


def test_a_suspension_saved_just_before_the_account_is_deleted_says_it_was_saved(
    app, make_user, monkeypatch
):
    admin_id, ann_id = make_user("admin"), make_user("ann")
    with app.app_context():
        db.session.get(User, admin_id).role = Role.ADMIN
        db.session.commit()
    admin = signed_in_client(app, admin_id)
    suspend, commit = Moderation.suspend, db.session.commit
    suspended = []

    def suspend_and_remember(*args, **kwargs):
        suspend(*args, **kwargs)
        suspended.append(True)

    def commit_then_deleted() -> None:
        commit()
        if suspended:  # the account goes the moment the suspension is saved
            suspended.clear()
            with app.app_context():
                account_deleted(ann_id)()
                db.session.commit()

    monkeypatch.setattr(Moderation, "suspend", suspend_and_remember)
    monkeypatch.setattr(db.session, "commit", commit_then_deleted)
    response = admin.post("/admin/users/ann/suspend", data={"reason": "spam", "days": ""})
    assert response.status_code == 302
    assert "ann is suspended." in text_of(admin.get(response.headers["Location"]))
    with app.app_context():
        assert db.session.get(User, ann_id) is None
        assert db.session.scalars(sa.select(ModerationAction.kind)).all() != []


def test_an_edit_racing_the_deletion_of_its_authors_account_is_a_404_for_a_visitor(
    app, make_user, monkeypatch
):
    ann_id = make_user("ann")
    post_id = publish(app, ann_id, "First")
    ann = signed_in_client(app, ann_id)
    deleted_just_before_the_lock(app, monkeypatch, account_deleted(ann_id))
    response = ann.post(f"/post/{post_id}/edit", data={"body": "Second"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "while you were working on it" in page and "Log in" in page
    nothing_drifted(app)


LOCKS = {
    "the site count": lambda: SiteCount.lock(SiteCount.POSTS),
    "a user": lambda: lock_users([1]),
}


@pytest.mark.parametrize("lock", LOCKS.values(), ids=LOCKS.keys())
def test_a_lock_is_held_until_the_transaction_ends(tmp_path, lock):
    """What writers queue on (the site count, then users): on SQLite too, which has no row
    locks."""

    class FileConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = file_database_uri(tmp_path)

    app = app_with_users(FileConfig, "ann")

    def lock_in_another_request() -> None:
        with app.app_context():
            connection = db.session.connection()
            if ON_POSTGRESQL:
                connection.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            else:
                connection.exec_driver_sql("PRAGMA busy_timeout = 200")
            try:
                lock()
            finally:
                db.session.rollback()

    with app.app_context():
        lock()
        with pytest.raises(sa.exc.OperationalError, match="lock"):
            lock_in_another_request()
        db.session.rollback()
    lock_in_another_request()  # free once the holder's transaction ended
