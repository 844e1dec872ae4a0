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


def test_migrated_database_enforces_case_insensitive_usernames(migrated_app):
    upgrade()
    insert = sa.text(
        "INSERT INTO user (username, email, password_hash, member_since, last_seen) "
        "VALUES (:name, :email, 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    with db.engine.begin() as connection:
        connection.execute(insert, {"name": "Ann", "email": "one@example.com"})
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
        connection.execute(insert, {"name": "aNN", "email": "two@example.com"})
