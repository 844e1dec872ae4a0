import re
from collections import Counter

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from app.avatars import AvatarSource
from app.extensions import db
from app.models import (
    USERNAME_PATTERN,
    Follow,
    Notification,
    Post,
    PostTag,
    SiteCount,
    Tag,
    User,
    username_skeleton,
)
from app.post_text import hashtags


def counts(app) -> tuple[int, int]:
    with app.app_context():
        users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        posts = db.session.scalar(sa.select(sa.func.count()).select_from(Post))
        return users, posts


def test_seed_adds_valid_users_who_can_log_in_and_their_posts(app, client):
    result = app.test_cli_runner().invoke(args=["seed", "--users", "5", "--posts", "40"])
    assert result.exit_code == 0, result.output
    assert "Added 5 users (password: microblog), 40 posts and 20 follows" in result.output
    assert counts(app) == (5, 40)
    with app.app_context():
        users = db.session.scalars(sa.select(User)).all()
        assert sum(user.posts_count for user in users) == 40  # counters match the bulk rows
        assert SiteCount.of(SiteCount.POSTS) == 40
        assert all(user.following_count == 4 for user in users)
        assert sum(user.followers_count for user in users) == 20
        assert all(re.fullmatch(USERNAME_PATTERN, user.username) for user in users)
        assert all(3 <= len(user.username) <= 32 for user in users)
        assert all(user.email_confirmed for user in users)  # demo users can post at once
        assert all(len(post.body) <= 280 for post in db.session.scalars(sa.select(Post)))
        username = users[0].username
    response = client.post("/auth/login", data={"username": username, "password": "microblog"})
    assert response.status_code == 302


def test_seed_adds_to_existing_data_without_clashing(app, make_user):
    make_user("ann")
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["seed", "--users", "30", "--posts", "5", "--random-seed", "1"])
        assert result.exit_code == 0, result.output
    assert counts(app) == (61, 10)


def test_seed_posts_need_someone_to_write_them(app):
    result = app.test_cli_runner().invoke(args=["seed", "--users", "0", "--posts", "5"])
    assert result.exit_code != 0
    assert "There are no users to write the posts" in result.output
    assert counts(app) == (0, 0)


def test_shell_context_has_the_admin_tools(monkeypatch):
    monkeypatch.setenv("MICROBLOG_CONFIG", "testing")
    import microblog

    context = microblog.make_shell_context()
    assert {"db", "sa", "so", "User", "Post", "SiteCount", "recount"} <= context.keys()


def test_seed_inserts_posts_oldest_first_after_the_newest_post(app, make_user):
    make_user("ann", posts=3)  # dated in the last few seconds
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["seed", "--users", "10", "--posts", "200"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        times = db.session.scalars(sa.select(Post.created_at).order_by(Post.id)).all()
        assert len(times) == 403
        assert times == sorted(times)  # ids follow time, across runs too
        assert len(set(times)) == len(times)


def test_seed_replies_answer_earlier_posts_of_the_run_and_notify_their_authors(app, make_user):
    make_user("ann", posts=3)  # posts from before the run are never answered
    result = app.test_cli_runner().invoke(
        args=["seed", "--users", "10", "--posts", "300", "--random-seed", "2"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        answered = so.aliased(Post)
        pairs = db.session.execute(
            sa.select(Post.id, Post.author_id, answered.id, answered.author_id).join(
                answered, answered.id == Post.reply_to_id
            )
        ).all()
        replies = db.session.scalar(sa.select(sa.func.count()).where(Post.reply_to_id.is_not(None)))
        assert len(pairs) == replies > 10  # about one in ten, each answering a post that exists
        assert all(3 < answered_id < reply_id for reply_id, _, answered_id, _ in pairs)
        told = set(
            db.session.execute(
                sa.select(Notification.post_id, Notification.user_id, Notification.actor_id)
            ).all()
        )
        assert told == {
            (reply_id, answered_by, by)
            for reply_id, by, _, answered_by in pairs
            if by != answered_by
        }
        counted = db.session.scalar(sa.select(sa.func.sum(Post.replies_count)))
        unread = db.session.scalar(sa.select(sa.func.sum(User.unread_notifications)))
        assert (counted, unread) == (replies, len(told))


def test_seed_gives_left_out_columns_their_defaults(app):
    result = app.test_cli_runner().invoke(args=["seed", "--users", "3", "--posts", "0"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        users = db.session.scalars(sa.select(User)).all()
        assert len({user.avatar_key for user in users}) == 3  # a random key each
        assert all(user.avatar_source == AvatarSource.GENERATED for user in users)
        assert all(user.username_skeleton == username_skeleton(user.username) for user in users)
        follows = db.session.scalars(sa.select(Follow)).all()
        assert len(follows) == 6
        assert all(follow.created_at is not None for follow in follows)


def test_seed_with_the_same_random_seed_writes_the_same_texts(app):
    runner = app.test_cli_runner()
    bodies = []
    for _ in range(2):
        result = runner.invoke(args=["seed", "--users", "5", "--posts", "20", "--random-seed", "7"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            bodies.append(db.session.scalars(sa.select(Post.body).order_by(Post.id)).all())
            for model in (Follow, Post, User):  # the second run starts from an empty site
                db.session.execute(sa.delete(model))
            db.session.commit()
    assert bodies[0] == bodies[1]


def test_seed_keeps_the_foreign_keys(app):
    # On PostgreSQL they are dropped while rows are copied, then added back (and checked).
    with app.app_context():
        before = foreign_keys(db.engine)
    result = app.test_cli_runner().invoke(args=["seed", "--users", "4", "--posts", "10"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert foreign_keys(db.engine) == before
        assert before["post"] and before["follow"]
        post_id = db.session.scalar(sa.select(Post.id).limit(1))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.update(Post).where(Post.id == post_id).values(author_id=10**6))
            db.session.flush()
        db.session.rollback()


def foreign_keys(engine: sa.Engine) -> dict[str, list]:
    inspector = sa.inspect(engine)
    return {
        table: sorted((key["name"], key["options"].get("ondelete")) for key in keys)
        for table, keys in (
            (table, inspector.get_foreign_keys(table)) for table in ("post", "follow")
        )
    }


def test_seed_makes_some_authors_far_busier_than_most(app):
    args = ["seed", "--users", "50", "--posts", "2000", "--random-seed", "3"]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    with app.app_context():
        counts = sorted(db.session.scalars(sa.select(User.posts_count)))
    assert counts[-1] > 5 * counts[len(counts) // 2]


def test_seed_tags_one_post_in_five_and_stores_the_tags_as_posting_does(app):
    runner = app.test_cli_runner()
    for _ in range(2):  # a second run reuses the tags of the first
        result = runner.invoke(args=["seed", "--users", "5", "--posts", "500"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        posts = db.session.scalars(sa.select(Post)).all()
        stored = {
            (post_id, key)
            for post_id, key in db.session.execute(
                sa.select(PostTag.post_id, Tag.key).join(Tag, Tag.id == PostTag.tag_id)
            )
        }
        parsed = {(post.id, key) for post in posts for key in hashtags(post.body)}
        assert stored == parsed
        assert 120 < len(stored) < 280  # about one in five of 1,000
        tags = db.session.scalars(sa.select(Tag)).all()
        counted = {tag.key: tag.posts_count for tag in tags}
        assert counted == dict(Counter(key for _, key in stored))
        assert max(counted.values()) > 5 * sorted(counted.values())[len(counted) // 2]  # skewed
