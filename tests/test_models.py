from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import Post, User, every_post, normalize_email, posts_by, timeline_of, utcnow
from app.models.feed import FROM_NEWEST, NEWER_THAN_CURSOR, OLDER_THAN_CURSOR
from tests.conftest import PASSWORD

LEGACY_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:260000")


def add_user(username: str = "ann", email: str | None = None) -> User:
    user = User(username=username)
    user.set_email(email or f"{username}@example.com")
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.flush()
    return user


def test_password_is_hashed_with_werkzeugs_default_and_checks(ctx):
    user = add_user()
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)
    assert not user.check_password("wrong password")
    assert not user.password_needs_rehash()


def test_authenticate_accepts_username_in_any_case_and_email_in_any_case(ctx):
    user = add_user("Ann", "Ann@Example.com")
    assert User.authenticate("ann", PASSWORD) is user
    assert User.authenticate("ANN@example.COM", PASSWORD) is user
    assert User.authenticate("  Ann  ", PASSWORD) is user


@pytest.mark.parametrize("identifier", ["ann", "nobody", "nobody@example.com", ""])
def test_authenticate_refuses_a_wrong_password_or_an_unknown_user(ctx, identifier):
    add_user("ann")
    assert User.authenticate(identifier, "not the password") is None


def test_legacy_pbkdf2_hash_still_authenticates_and_is_upgraded(ctx):
    user = add_user()
    user.password_hash = LEGACY_HASH
    assert user.password_needs_rehash()
    assert User.authenticate("ann", PASSWORD) is user
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password(PASSWORD)


def test_emails_are_stored_normalised_and_case_folded(ctx):
    user = add_user("ann", "  Ann.Smith@EXAMPLE.com ")
    assert user.email == "ann.smith@example.com"
    assert normalize_email("Ann@Example.COM") == "ann@example.com"


def test_usernames_are_unique_regardless_of_case_in_the_database(ctx):
    add_user("Ann")
    with pytest.raises(sa.exc.IntegrityError):
        add_user("aNN", "other@example.com")


def test_emails_are_unique_in_the_database(ctx):
    add_user("ann", "same@example.com")
    with pytest.raises(sa.exc.IntegrityError):
        add_user("bob", "SAME@example.com")


def test_username_taken_ignores_case_and_can_exclude_the_user_themself(ctx):
    user = add_user("Ann")
    assert User.username_taken("aNn")
    assert not User.username_taken("ANN", excluding=user)
    assert not User.username_taken("bob")


def test_find_looks_up_by_username_or_email(ctx):
    user = add_user("Ann")
    assert User.find("ANN") is user
    assert User.find("ann@EXAMPLE.com") is user
    assert User.find("nobody") is None


def test_record_visit_writes_at_most_once_a_minute(ctx):
    user = add_user()
    start = user.last_seen
    assert not user.record_visit(start + timedelta(seconds=59))
    assert user.last_seen == start
    assert user.record_visit(start + timedelta(seconds=60))
    assert user.last_seen == start + timedelta(seconds=60)


def test_feeds_are_in_publication_order_whatever_the_clock_says(ctx):
    # Ids follow publication; a clock stepped back (or a server's skewed clock) cannot move a
    # post down the feed and off the reader's page.
    user = add_user()
    now = utcnow()
    for body, created_at in (("first", now), ("second", now - timedelta(minutes=1))):
        db.session.add(Post(body=body, author=user, created_at=created_at))
        db.session.flush()
    bodies = [post.body for post in db.session.scalars(Post.newest_first())]
    assert bodies == ["second", "first"]


def test_publish_counts_the_post_and_a_users_posts_are_theirs(ctx):
    ann, bob = add_user("ann"), add_user("bob")
    ann.publish("one")
    bob.publish("two")
    db.session.flush()
    db.session.refresh(ann)
    assert ann.posts_count == 1
    assert [post.body for post in db.session.scalars(ann.posts_newest_first())] == ["one"]


def test_a_feed_page_keeps_feed_order_and_loads_authors(ctx):
    user = add_user()
    for n in range(3):
        user.publish(str(n))
    db.session.flush()
    db.session.expunge_all()
    loaded, total = posts_by(user).seen_by(None).page(FROM_NEWEST, 7, offset=1, limit=5)
    assert [post.body for post in loaded] == ["1", "0"]
    assert all("author" in post.__dict__ for post in loaded)
    assert total == 7  # a total given is given back as it is
    assert posts_by(user).seen_by(None).page(
        OLDER_THAN_CURSOR, 7, cursor=loaded[-1].id, limit=5
    ) == ([], 7)


def test_a_feed_page_reads_the_feeds_stored_count_in_the_same_statement(ctx, sql_log):
    user = add_user()
    for n in range(3):
        user.publish(str(n))
    db.session.commit()
    timeline = timeline_of(user).seen_by(None)  # (reloads the user the commit expired)
    sql_log.clear()
    posts, total = timeline.page(FROM_NEWEST, offset=0, limit=10)
    assert ([post.body for post in posts], total) == (["2", "1", "0"], 3)
    assert len(sql_log) == 1
    # No posts, no count: an empty page has none, whatever the stored count says.
    assert every_post().seen_by(None).page(NEWER_THAN_CURSOR, cursor=posts[0].id, limit=10) == (
        [],
        0,
    )
    with pytest.raises(ValueError):  # an author's count is at hand, and never read here
        posts_by(user).seen_by(None).page(FROM_NEWEST, offset=0, limit=10)
    with pytest.raises(ValueError):
        every_post().seen_by(None).page("from the middle", offset=0, limit=10)


def test_time_defaults_are_called_per_row_not_once_at_import(ctx):
    for column in (User.member_since, User.last_seen, Post.created_at):
        assert column.default.is_callable
    assert add_user().member_since.tzinfo is None  # stored times are naive UTC


def test_reprs_name_the_user_and_post_for_the_shell(ctx):
    user = add_user("ann")
    post = Post(body="hi", author=user)
    db.session.add(post)
    db.session.flush()
    assert repr(user) == "<User ann>"
    assert repr(post) == f"<Post {post.id} by user {user.id}>"
