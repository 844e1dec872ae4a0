import pytest
import sqlalchemy as sa
from flask_migrate import check, downgrade, upgrade

from app import create_app
from app.extensions import db
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
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


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


def test_migrated_database_enforces_case_insensitive_usernames(migrated_app):
    upgrade()
    insert_user("Ann", session_token="one")
    with pytest.raises(sa.exc.IntegrityError):
        insert_user("aNN", email="two@example.com", session_token="two")


def test_session_token_migration_keeps_users_and_gives_each_a_token(migrated_app):
    upgrade(revision="80a355632c6e")
    insert_user("ann")
    insert_user("bob")
    upgrade()
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text('SELECT username, session_token FROM "user"')).all()
    assert sorted(name for name, _ in rows) == ["ann", "bob"]
    tokens = [token for _, token in rows]
    assert all(len(token) >= 32 for token in tokens) and tokens[0] != tokens[1]
    with pytest.raises(sa.exc.IntegrityError):  # the username index survived the rebuild
        insert_user("ANN", email="other@example.com", session_token="three")


def test_upgrading_a_populated_database_keeps_every_row_and_counts_posts(migrated_app):
    upgrade(revision="d4f8d37d520a")  # users and posts, before follows and counts
    insert_user("ann", session_token="one")
    insert_user("bob", session_token="two")
    with db.engine.begin() as connection:
        ann_id, bob_id = connection.scalars(sa.text('SELECT id FROM "user" ORDER BY id')).all()
        for author_id, body in [(ann_id, "a1"), (ann_id, "a2"), (bob_id, "b1")]:
            connection.execute(
                sa.text(
                    "INSERT INTO post (body, created_at, author_id) "
                    "VALUES (:body, CURRENT_TIMESTAMP, :author_id)"
                ),
                {"body": body, "author_id": author_id},
            )
    upgrade()
    with db.engine.connect() as connection:
        users = connection.execute(
            sa.text(
                'SELECT username, posts_count, followers_count, following_count FROM "user" '
                "ORDER BY id"
            )
        ).all()
        posts = connection.scalars(sa.text("SELECT body FROM post ORDER BY id")).all()
    assert [tuple(row) for row in users] == [("ann", 2, 0, 0), ("bob", 1, 0, 0)]
    assert posts == ["a1", "a2", "b1"]
    downgrade(revision="d4f8d37d520a")
    with pytest.raises(sa.exc.IntegrityError):  # the username index survived the way back
        insert_user("ANN", email="again@example.com", session_token="three")
