"""full-text search: posts' and about-me texts' words, indexed by each database

Revision ID: 3a9c1f7e5b20
Revises: 870d966de984
Create Date: 2026-11-24 03:40:00.000000

"""
import logging

from alembic import op

logger = logging.getLogger("alembic.runtime.migration")


# revision identifiers, used by Alembic.
revision = '3a9c1f7e5b20'
down_revision = '870d966de984'
branch_labels = None
depends_on = None

# The objects app/models/search.py makes after create_all, as they were at this revision; they
# are in no model's metadata, so autogenerate neither writes nor compares them.
INDEXED = (("post", "body", "post_search"), ("user", "about_me", "user_search"))
FTS5_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* M* N* Co'"


def sqlite_ddl(table, column, name):
    index_row = f"INSERT INTO {name}(rowid, {column}) VALUES (new.id, new.{column});"
    forget_row = f"INSERT INTO {name}({name}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
    return [
        f"CREATE VIRTUAL TABLE {name} USING fts5({column}, content=\"{table}\", "
        f"content_rowid='id', tokenize=\"{FTS5_TOKENIZER}\")",
        f'CREATE TRIGGER {name}_insert AFTER INSERT ON "{table}" BEGIN {index_row} END',
        f'CREATE TRIGGER {name}_delete AFTER DELETE ON "{table}" BEGIN {forget_row} END',
        f'CREATE TRIGGER {name}_update AFTER UPDATE OF {column} ON "{table}" '
        f"BEGIN {forget_row} {index_row} END",
        # The words of every row already there.
        f"INSERT INTO {name}({name}) VALUES ('rebuild')",
    ]


def postgresql_ddl(table, column, name):
    return [
        # Computed for every row already there: the table is rewritten, under a lock that
        # holds its readers and writers until it is done (about 15 s a million posts).
        f'ALTER TABLE "{table}" ADD COLUMN search_vector tsvector GENERATED ALWAYS AS '
        f"(to_tsvector('simple'::regconfig, "
        f"regexp_replace(coalesce({column}, ''), '[[:punct:]]', ' ', 'g'))) STORED",
        f'CREATE INDEX {name} ON "{table}" USING gin (search_vector)',
    ]


def upgrade():
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    if not sqlite:
        # Longer than the app's 15 s for a statement, on a large site.
        op.execute("SET LOCAL statement_timeout = 0")
        collation = connection.exec_driver_sql(
            "SELECT datcollate FROM pg_database WHERE datname = current_database()"
        ).scalar_one()
        if collation not in ("C", "POSIX", "C.UTF-8", "C.utf8"):
            logger.warning(
                "This database sorts text by %s, not by code point: searches for names and "
                "tags by how they begin may miss some (README, Deploying).", collation
            )
    for table, column, name in INDEXED:
        for statement in (sqlite_ddl if sqlite else postgresql_ddl)(table, column, name):
            op.execute(statement)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, _, name in INDEXED:
        if sqlite:
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {name}_{trigger}")
            op.execute(f"DROP TABLE {name}")
        else:
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN search_vector')  # and its index
