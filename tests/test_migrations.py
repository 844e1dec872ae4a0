from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_migrate import check, downgrade, upgrade

from app import create_app
from app.extensions import db
from app.models import NEWEST, Post, SiteCount, Tag, User, recount, search_people, search_posts
from app.models.search import is_search_object
from app.search_query import SearchQuery
from config import TestingConfig
from tests.conftest import file_database_uri


@pytest.fixture
def migrated_app(tmp_path):
    """An app on an empty database (a SQLite file, or a PostgreSQL schema) for the migrations."""

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = file_database_uri(tmp_path)

    app = create_app(Config)
    with app.app_context():
        yield app
        db.engine.dispose()


def table_names() -> set[str]:
    """The models' tables there are (search's own are in no model: see the search test)."""
    names = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    return {name for name in names if not is_search_object(name)}


def test_upgrade_creates_the_schema_the_models_describe(migrated_app):
    upgrade()
    assert table_names() == set(db.metadata.tables)
    check()  # raises if autogenerate finds any difference between models and migrations


def test_downgrade_to_base_then_upgrade_again(migrated_app):
    upgrade()
    downgrade(revision="base")
    assert table_names() == set()
    upgrade()
    assert table_names() == set(db.metadata.tables)


def insert_user(name: str, **columns: str) -> None:
    """A row written with plain SQL, as it would be by the schema of that revision."""
    values = {"username": name, "email": f"{name}@example.com", "password_hash": "x"} | columns
    names = ", ".join(values)
    placeholders = ", ".join(f":{column}" for column in values)
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                f'INSERT INTO "user" ({names}, member_since, last_seen) '
                f"VALUES ({placeholders}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            values,
        )


def insert_posts(author: str, bodies: list[str]) -> None:
    """Posts by the user named ``author``, written with plain SQL like ``insert_user``."""
    with db.engine.begin() as connection:
        author_id = connection.scalar(
            sa.text('SELECT id FROM "user" WHERE username = :name'), {"name": author}
        )
        connection.execute(
            sa.text(
                "INSERT INTO post (body, created_at, author_id) "
                "VALUES (:body, CURRENT_TIMESTAMP, :author_id)"
            ),
            [{"body": body, "author_id": author_id} for body in bodies],
        )


def test_migrated_database_enforces_case_insensitive_usernames(migrated_app):
    upgrade()
    insert_user("Ann", avatar_key="k1")
    with pytest.raises(sa.exc.IntegrityError):
        insert_user("aNN", email="two@example.com", avatar_key="k2")


def test_session_token_migration_keeps_users_and_gives_each_a_token(migrated_app):
    upgrade(revision="80a355632c6e")
    insert_user("ann")
    insert_user("bob")
    upgrade(revision="d4f8d37d520a")
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text('SELECT username, session_token FROM "user"')).all()
    assert sorted(name for name, _ in rows) == ["ann", "bob"]
    tokens = [token for _, token in rows]
    assert all(len(token) >= 32 for token in tokens) and tokens[0] != tokens[1]
    with pytest.raises(sa.exc.IntegrityError):  # the username index survived the rebuild
        insert_user("ANN", email="other@example.com", session_token="three")


def test_avatar_key_migration_gives_each_user_a_random_key_and_the_generated_avatar(migrated_app):
    upgrade(revision="c92b1aa17caf")
    insert_user("ann", session_token="one")
    insert_user("bob", session_token="two")
    insert_posts("ann", ["kept"])
    upgrade(revision="7d90338c8f10")
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text('SELECT avatar_key, avatar_source FROM "user"')).all()
        posts = connection.scalars(sa.text("SELECT body FROM post")).all()
    keys = [key for key, _ in rows]
    assert all(len(key) == 32 for key in keys) and keys[0] != keys[1]
    assert [source for _, source in rows] == ["generated", "generated"]
    assert posts == ["kept"]  # rebuilding "user" did not cascade to its posts
    with pytest.raises(sa.exc.IntegrityError):  # the username index survived the rebuild
        insert_user("ANN", email="other@example.com", session_token="three", avatar_key="k3")


def test_upgrading_a_populated_database_keeps_every_row_and_counts_posts(migrated_app):
    upgrade(revision="d4f8d37d520a")  # users and posts, before follows and counts
    insert_user("ann", session_token="one")
    insert_user("bob", session_token="two")
    insert_posts("ann", ["a1", "a2"])
    insert_posts("bob", ["b1"])
    upgrade()
    with db.engine.connect() as connection:
        users = connection.execute(
            sa.text(
                'SELECT username, posts_count, followers_count, following_count FROM "user" '
                "ORDER BY id"
            )
        ).all()
        posts = connection.scalars(sa.text("SELECT body FROM post ORDER BY id")).all()
        site_posts = connection.scalar(sa.text("SELECT value FROM site_count WHERE name = 'posts'"))
    assert [tuple(row) for row in users] == [("ann", 2, 0, 0), ("bob", 1, 0, 0)]
    assert posts == ["a1", "a2", "b1"]
    assert site_posts == 3
    downgrade(revision="d4f8d37d520a")
    with pytest.raises(sa.exc.IntegrityError):  # the username index survived the way back
        insert_user("ANN", email="again@example.com", session_token="three")


def user_columns() -> set[str]:
    return {column["name"] for column in sa.inspect(db.engine).get_columns("user")}


def test_server_side_sessions_migration_drops_the_token_and_keeps_users(migrated_app):
    upgrade(revision="c92b1aa17caf")  # the last revision with a session token per user
    insert_user("ann", session_token="one")
    insert_user("bob", session_token="two")
    upgrade()
    assert "session_token" not in user_columns() and "user_session" in table_names()
    with pytest.raises(sa.exc.IntegrityError):  # the username index survived the rebuild
        insert_user("ANN", email="other@example.com")
    downgrade(revision="c92b1aa17caf")
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text('SELECT username, session_token FROM "user"')).all()
    assert sorted(name for name, _ in rows) == ["ann", "bob"]
    tokens = [token for _, token in rows]  # new ones: every old cookie is logged out
    assert all(len(token) >= 32 for token in tokens) and tokens[0] != tokens[1]
    assert "user_session" not in table_names()
    with pytest.raises(sa.exc.IntegrityError):  # and survived the way back
        insert_user("ANN", email="again@example.com", session_token="three")


# Lightweight tables as the revisions before and after one-time keys shape them; SQLAlchemy
# quotes "user", a reserved word in PostgreSQL.
USERS = sa.table(
    "user",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("email", sa.String),
    sa.column("password_hash", sa.String),
    sa.column("session_token", sa.String),
    sa.column("member_since", sa.DateTime),
    sa.column("last_seen", sa.DateTime),
)
POST_COLUMNS = {
    "id": sa.Integer,
    "body": sa.String,
    "created_at": sa.DateTime,
    "author_id": sa.Integer,
}
POSTS = sa.table("post", *(sa.column(name, type_) for name, type_ in POST_COLUMNS.items()))
POSTS_WITH_KEYS = sa.table(
    "post",
    *(sa.column(name, type_) for name, type_ in POST_COLUMNS.items()),
    sa.column("submission_key", sa.String),
)


def test_submission_keys_migration_keeps_posts_and_enforces_one_key_per_author(migrated_app):
    upgrade(revision="189a4d20b44f")  # before one-time keys
    now = datetime(2026, 1, 1)
    with db.engine.begin() as connection:
        for n, name in enumerate(("ann", "bob"), start=1):
            connection.execute(
                sa.insert(USERS).values(
                    id=n,
                    username=name,
                    email=f"{name}@example.com",
                    password_hash="x",
                    session_token=name,
                    member_since=now,
                    last_seen=now,
                )
            )
        connection.execute(
            sa.insert(POSTS),
            [{"body": body, "created_at": now, "author_id": 1} for body in ("a1", "a2")],
        )
    upgrade(revision="22128f073b5a")
    with db.engine.begin() as connection:
        keyless = connection.execute(
            sa.select(POSTS_WITH_KEYS.c.body, POSTS_WITH_KEYS.c.submission_key)
        )
        assert sorted(tuple(row) for row in keyless) == [("a1", None), ("a2", None)]
        for author_id in (1, 2):  # the same key from another author is another submission
            connection.execute(
                sa.insert(POSTS_WITH_KEYS).values(
                    body="k", created_at=now, author_id=author_id, submission_key="k" * 22
                )
            )
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
        connection.execute(
            sa.insert(POSTS_WITH_KEYS).values(
                body="again", created_at=now, author_id=1, submission_key="k" * 22
            )
        )
    downgrade(revision="189a4d20b44f")
    assert "submission_key" not in {c["name"] for c in sa.inspect(db.engine).get_columns("post")}
    with db.engine.connect() as connection:
        bodies = connection.scalars(sa.select(POSTS.c.body).order_by(POSTS.c.id)).all()
    assert bodies == ["a1", "a2", "k", "k"]


def test_look_alike_migration_keys_existing_names_and_keeps_the_oldest_of_look_alikes(
    migrated_app,
):
    upgrade(revision="c92b1aa17caf")  # before skeletons
    now = datetime(2026, 1, 1)
    with db.engine.begin() as connection:
        for n, name in enumerate(("lauren", "Iauren", "B0b"), start=1):
            connection.execute(
                sa.insert(USERS).values(
                    id=n,
                    username=name,
                    email=f"{n}@example.com",
                    password_hash="x",
                    session_token=str(n),
                    member_since=now,
                    last_seen=now,
                )
            )
    upgrade(revision="896b482717fe")
    skeletons = sa.table("user", sa.column("id"), sa.column("username_skeleton"))
    with db.engine.begin() as connection:
        rows = connection.execute(sa.select(skeletons).order_by(skeletons.c.id)).all()
    assert [tuple(row) for row in rows] == [(1, "lauren"), (2, None), (3, "bob")]
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
        connection.execute(
            skeletons.update().where(skeletons.c.id == 2).values(username_skeleton="bob")
        )
    downgrade(revision="c92b1aa17caf")
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:  # index kept
        connection.execute(
            sa.insert(USERS).values(
                username="LAUREN",
                email="x@example.com",
                password_hash="x",
                session_token="x",
                member_since=now,
                last_seen=now,
            )
        )


def test_email_confirmation_migration_counts_existing_accounts_as_confirmed(migrated_app):
    upgrade(revision="c92b1aa17caf")
    insert_user("ann", session_token="one")
    upgrade()
    with db.engine.connect() as connection:
        row = connection.execute(
            sa.text('SELECT member_since, email_confirmed_at FROM "user"')
        ).one()
    assert row.email_confirmed_at == row.member_since


def post_indexes() -> set[str]:
    return {index["name"] for index in sa.inspect(db.engine).get_indexes("post")}


def test_feeds_by_id_migration_counts_existing_posts_and_swaps_the_indexes(migrated_app):
    upgrade(revision="d4f8d37d520a")
    insert_user("ann", session_token="one")
    insert_posts("ann", [f"post {n}" for n in range(4)])
    upgrade(revision="49e0b56c08b0")
    assert "site_count" not in table_names()
    upgrade(revision="880c3fd30522")
    with db.engine.connect() as connection:
        counts = connection.execute(sa.text("SELECT name, value FROM site_count")).all()
    assert [tuple(row) for row in counts] == [("posts", 4)]
    assert "ix_post_author_id_id" in post_indexes()
    assert not {"ix_post_created_at", "ix_post_author_id_created_at"} & post_indexes()
    downgrade(revision="49e0b56c08b0")
    assert "site_count" not in table_names()
    assert {"ix_post_created_at", "ix_post_author_id_created_at"} <= post_indexes()


def test_hashtags_migration_tags_the_posts_written_before(migrated_app):
    upgrade(revision="6308aa0ab898")  # conversations, before tags
    insert_user("ann", username_skeleton="ann", avatar_key="a" * 32)
    insert_posts(
        "ann",
        [
            "First #Flask post",
            "again #flask and #Python, not C# nor https://example.com/#anchor",
            "no tags, #123 is a number",
        ],
    )
    upgrade()
    with db.engine.connect() as connection:
        tags = connection.execute(sa.text("SELECT name, key, posts_count FROM tag ORDER BY key"))
        tagged = connection.execute(
            sa.text(
                "SELECT tag.key, post.body FROM post_tag JOIN tag ON tag.id = post_tag.tag_id "
                "JOIN post ON post.id = post_tag.post_id ORDER BY tag.key, post.id"
            )
        ).all()
    assert [tuple(row) for row in tags] == [("Flask", "flask", 2), ("Python", "python", 1)]
    assert [key for key, _ in tagged] == ["flask", "flask", "python"]
    with migrated_app.test_request_context():
        ann = db.session.scalar(sa.select(User))
        ann.publish("and a new one #rust")  # the tags' ids go on after the migration's
        db.session.commit()
        assert db.session.scalar(sa.select(Tag.posts_count).where(Tag.key == "rust")) == 1


def test_search_migration_indexes_what_was_written_before_and_keeps_up_after(migrated_app):
    upgrade(revision="870d966de984")  # who to follow, before search
    insert_user("ann", username_skeleton="ann", avatar_key="a" * 32, about_me="Grows tomatoes")
    insert_posts("ann", ["tomatoes before search", "and basil"])
    upgrade()

    def found(words: str) -> list[str]:
        query = SearchQuery.parse(words)
        return [post.body for post in search_posts(query, NEWEST, None, 0, 10).items]

    with migrated_app.test_request_context():
        assert found("tomatoes") == ["tomatoes before search"]
        assert [
            user.username for user in search_people(None, SearchQuery.parse("grows"), 0, 10).items
        ] == ["ann"]
        ann = db.session.scalar(sa.select(User))
        ann.publish("tomatoes after search")  # the index keeps up with what comes
        db.session.commit()
        assert found("tomatoes") == ["tomatoes after search", "tomatoes before search"]
        ann.delete_post(db.session.scalar(sa.select(Post).where(Post.body == "and basil")))
        db.session.commit()
        assert found("basil") == []
    downgrade(revision="870d966de984")
    upgrade()  # and again, from the rows as they are now
    with migrated_app.test_request_context():
        assert found("tomatoes") == ["tomatoes after search", "tomatoes before search"]


def test_moderation_migration_keeps_every_post_shown_and_search_on_post_working(migrated_app):
    upgrade(revision="3a9c1f7e5b20")  # search, before moderation
    insert_user("ann", username_skeleton="ann", avatar_key="a" * 32)
    insert_posts("ann", ["kept through the migration", "and this one"])
    upgrade()
    assert {"ix_post_author_id_hidden_id", "ix_post_hidden_id_author_id"} <= post_indexes()
    assert "ix_post_author_id_id" not in post_indexes()
    with migrated_app.test_request_context():
        ann = db.session.scalar(sa.select(User))
        assert (ann.role, ann.screened_count, ann.is_suspended) == ("user", 0, False)
        assert db.session.scalars(sa.select(Post.hidden)).all() == [False, False]
        recount()
        db.session.commit()
        assert SiteCount.of(SiteCount.POSTS) == 2
    downgrade(revision="3a9c1f7e5b20")
    assert "ix_post_author_id_id" in post_indexes()
    upgrade()
    with migrated_app.test_request_context():
        # The post table was altered in place both ways: search's triggers are still on it.
        ann = db.session.scalar(sa.select(User))
        ann.publish("written after both ways")
        db.session.commit()
        found = search_posts(SearchQuery.parse("written"), NEWEST, None, 0, 10)
        assert [post.body for post in found.items] == ["written after both ways"]
