import logging
import warnings
from logging.config import fileConfig

from alembic import context
from flask import current_app

from app.models.search import is_search_object

config = context.config
# Keep the app's loggers alive when migrations run inside a process that set them up (tests).
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")
# SQLite cannot reflect expression indexes (lower(username)), so autogenerate cannot compare
# them and both SQLAlchemy and Alembic say so on every run; tests check that index directly.
for message in (
    "autogenerate skipping metadata-specified expression-based index",
    "Skipped unsupported reflection of expression-based index",
):
    warnings.filterwarnings("ignore", message=message)

# Flask-SQLAlchemy 3.1 deprecates db.get_engine(), which `flask db init` writes here.
db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline():
    """Emit the SQL to stdout (``flask db upgrade --sql``) without a database connection."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=db.metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def include_object(object, name, type_, reflected, compare_to):
    # Search's objects (an FTS5 table and its shadow tables on SQLite, a generated tsvector
    # column and its index on PostgreSQL) are made by DDL of their own, in no model's
    # metadata: autogenerate must neither drop them nor try to make them.
    return not is_search_object(name)


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        # An autogenerate run that finds no change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("include_object", include_object)

    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by dropping it; with foreign keys enforced (as the app
            # sets on every connection) dropping "user" would cascade to every post and follow.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # else the migrations would run inside this transaction
        context.configure(connection=connection, target_metadata=db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")  # the connection goes back
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
