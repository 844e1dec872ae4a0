"""Stored counts: changed with the rows they count, so recounting finds nothing to correct."""

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Follow,
    Moderation,
    NotAllowed,
    Notification,
    Post,
    SiteCount,
    Tag,
    User,
    delete_account,
    every_post,
    lift_ended_suspensions,
    recount,
    utcnow,
)
from app.models.feed import FROM_NEWEST
from tests.test_models import add_user


def stored_counts() -> dict[str, object]:
    users = db.session.execute(
        sa.select(
            User.id,
            User.posts_count,
            User.followers_count,
            User.following_count,
            User.unread_notifications,
            User.screened_count,
        )
    ).all()
    posts = db.session.execute(sa.select(Post.id, Post.replies_count, Post.likes_count)).all()
    tags = db.session.execute(sa.select(Tag.id, Tag.posts_count)).all()
    return {
        "users": sorted(tuple(row) for row in users),
        "posts": sorted(tuple(row) for row in posts),
        "tags": sorted(tuple(row) for row in tags),
        "site posts": SiteCount.of(SiteCount.POSTS),
    }


def random_activity(rng: random.Random, users: list[User], steps: int) -> None:
    """Posts, replies (with mentions), deletions, follows, unfollows, likes, unlikes, reading
    notifications, deleted accounts, hidden and restored posts, suspensions, blocks and mutes,
    each step committed."""
    moderation = Moderation(by=None)
    for step in range(steps):
        action = rng.choices(
            ["post", "reply", "delete post", "follow", "unfollow", "like", "unlike", "read"]
            + ["delete account", "join", "edit", "hide", "restore", "suspend", "unsuspend"]
            + ["block", "unblock", "mute", "unmute"],
            weights=[8, 6, 3, 5, 2, 6, 2, 1, 1, 1, 3, 2, 1, 1, 1, 1, 1, 1, 1],
        )[0]
        try:
            tag = f"#{rng.choice(['Flask', 'flask', 'sql', 'rust'])}"
            actor = rng.choice(users)
            some_post = db.session.scalar(sa.select(Post).order_by(sa.func.random()).limit(1))
            if action == "post":
                actor.publish(f"step {step} @{rng.choice(users).username} {tag}")
            elif action == "reply" and some_post is not None:
                actor.publish(f"reply {step} @{rng.choice(users).username}", reply_to=some_post)
            elif action == "edit":
                post = db.session.scalar(actor.posts_newest_first().limit(1))
                if post is not None:
                    actor.edit_post(post, f"edited {step} {tag} {rng.choice(['', '#sql'])}")
            elif action == "like" and some_post is not None:
                actor.like(some_post)
            elif action == "unlike" and some_post is not None:
                actor.unlike(some_post)
            elif action == "read":
                Notification.mark_all_read(actor.id)
            elif action == "delete post":
                post = db.session.scalar(actor.posts_newest_first().limit(1))
                if post is not None:
                    actor.delete_post(post)
            elif action in ("follow", "unfollow", "block", "unblock", "mute", "unmute"):
                other = rng.choice(users)
                if other.id != actor.id:
                    getattr(actor, action)(other)
            elif action == "hide" and some_post is not None:
                moderation.hide_post(some_post, "spam")
            elif action == "restore" and some_post is not None:
                moderation.restore_post(some_post)
            elif action == "suspend":
                moderation.suspend(actor, "spam", days=rng.choice([None, 1]))
            elif action == "unsuspend":
                moderation.unsuspend(actor)
            elif action == "delete account" and len(users) > 2:
                delete_account(actor)
                users.remove(actor)
            elif action == "join":
                users.append(add_user(f"joiner{step}"))
        except NotAllowed:  # a suspended author posting or editing, a follow across a block
            db.session.rollback()
            continue
        db.session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recounting_after_random_activity_finds_no_drift(ctx, seed):
    rng = random.Random(seed)
    users = [add_user(name) for name in ("ann", "bob", "cat", "dan", "eve")]
    db.session.commit()
    random_activity(rng, users, steps=150)
    db.session.expire_all()
    before = stored_counts()
    shown = db.session.scalar(sa.select(sa.func.count()).where(Post.shown()))
    assert before["site posts"] == shown
    assert sum(following for _, _, _, following, _, _ in before["users"]) == db.session.scalar(
        sa.select(sa.func.count()).select_from(Follow)
    )
    assert sum(unread for *_, unread, _ in before["users"]) == db.session.scalar(
        sa.select(sa.func.count()).where(sa.not_(Notification.read))
    )
    recount()
    db.session.commit()
    db.session.expire_all()
    assert stored_counts() == before


def test_recount_corrects_counts_that_bulk_inserts_bypassed(ctx):
    ann = add_user("ann")
    db.session.execute(sa.insert(Post), [{"body": "bulk", "author_id": ann.id}] * 3)
    recount()
    db.session.commit()
    db.session.refresh(ann)
    assert (ann.posts_count, SiteCount.of(SiteCount.POSTS)) == (3, 3)


def test_every_site_count_exists_from_the_start(ctx):
    names = db.session.scalars(sa.select(SiteCount.name)).all()
    assert sorted(names) == sorted(SiteCount.NAMES)


def first_taken(statements: list[str]) -> str:
    """The first statement that writes or takes the site count: what a transaction locks first
    (on PostgreSQL; SQLite locks the whole database at its first write)."""
    taken = [
        s for s in statements if s.split()[0] in ("INSERT", "UPDATE", "DELETE") or "site_count" in s
    ]
    return taken[0] if taken else ""


WRITERS = ["publish", "edit post", "delete post", "delete account", "hide post", "suspend"]


@pytest.mark.parametrize("action", [*WRITERS, "lift a suspension at a sign-in that rehashes"])
def test_every_writer_takes_the_site_count_before_any_user_row(app, ctx, sql_log, action):
    # One order of locks everywhere: on PostgreSQL a writer that took a user's row first could
    # wait for the site count while another holds it and waits for that user (a deadlock).
    ann, bob = add_user("ann"), add_user("bob")
    post = ann.publish("hello")
    if action.startswith("lift"):
        Moderation(by=None).suspend(ann, "spam", days=1)
        ann.suspended_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    sql_log.clear()
    if action == "publish":
        ann.publish("again")
    elif action == "edit post":
        ann.edit_post(post, "hello @bob")
    elif action == "delete post":
        ann.delete_post(post)
    elif action == "delete account":
        delete_account(ann)
    elif action == "hide post":
        Moderation(by=None).hide_post(post, "spam")
    elif action == "suspend":
        Moderation(by=None).suspend(bob, "spam")
    else:
        ann_id = ann.id  # loaded at sign-in, before the password was checked
        ann.password_hash = "a stronger hash"  # what the sign-in's check left to flush
        assert lift_ended_suspensions(user_id=ann_id) == ["ann"]
    db.session.flush()
    first = first_taken(sql_log)
    assert "site_count" in first.split("WHERE")[0], sql_log
    if db.engine.dialect.name == "postgresql" and first.startswith("SELECT"):
        assert "FOR UPDATE" in first


def test_a_missing_site_count_is_an_error_not_a_silent_zero(ctx):
    add_user().publish("a post")
    db.session.execute(sa.delete(SiteCount))
    with pytest.raises(LookupError):
        SiteCount.add(SiteCount.POSTS, 1)
    with pytest.raises(sa.exc.NoResultFound):
        SiteCount.of(SiteCount.POSTS)
    with pytest.raises(LookupError):  # read with a page of posts
        every_post().seen_by(None).page(FROM_NEWEST, offset=0, limit=10)
    with pytest.raises(LookupError):  # read first, for a page asked for by number
        every_post().total()
