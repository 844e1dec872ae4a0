import pytest
import sqlalchemy as sa
from flask_migrate import check, downgrade, upgrade

from app import create_app
from app.extensions import db
from config import TestingConfig


@pytest.fixture
def migrated_app(tmp_path):
    """An app on an empty SQLite file, for running the real migrations."""

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'migrated.db'}"

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
                f"INSERT INTO user ({names}, member_since, last_seen) "
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
        rows = connection.execute(sa.text("SELECT username, session_token FROM user")).all()
    assert sorted(name for name, _ in rows) == ["ann", "bob"]
    tokens = [token for _, token in rows]
    assert all(len(token) >= 32 for token in tokens) and tokens[0] != tokens[1]
    with pytest.raises(sa.exc.IntegrityError):  # the username index survived the rebuild
        insert_user("ANN", email="other@example.com", session_token="three")
