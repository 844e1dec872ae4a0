"""Extensions, created unbound here and bound to an app in ``create_app``."""

import sqlite3
from collections.abc import Callable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_bootstrap import Bootstrap5
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_mail import Mail
from flask_migrate import Migrate
from flask_moment import Moment
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect


class Base(so.DeclarativeBase):
    # Named constraints let later migrations drop or alter them (SQLite batch mode needs names).
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "pk": "pk_%(table_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
# The largest id an INTEGER column holds on both databases (PostgreSQL refuses a larger number
# in a comparison with one, where SQLite would just find nothing).
ROW_ID_MAX = 2**31 - 1


def is_row_id(value: object) -> bool:
    """Whether a decoded value (from a signed token or cookie) is an id a row can have: what
    the app signs is, but a value it did not sign as such must not reach a query."""
    return type(value) is int and 0 < value <= ROW_ID_MAX


@sa.event.listens_for(sa.Engine, "connect")
def configure_sqlite_connection(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys, ON DELETE CASCADE included, unless each connection asks;
    # without it deleting an account would leave its posts, follows and sessions behind.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Readers and the writer no longer block each other (a file database; memory ignores it),
    # and a commit waits for the log, not for the disk: a crash may lose the last commits but
    # never corrupts the file.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A statement that meets another writer's lock waits up to pysqlite's ``timeout`` (5 s
    # unless connect_args says otherwise) before it gives up: SQLite's busy timeout.
    cursor.close()


migrate = Migrate(render_as_batch=True)  # SQLite can't ALTER most things in place
login = LoginManager()
login.login_view = "auth.login"
login.login_message_category = "info"
# A session cookie replayed from another address or browser is marked not fresh; "strong"
# would log out phone users whenever their address changes.
login.session_protection = "basic"


def signed_in_reader():
    """The signed-in user, or None for a visitor (for whom current_user is a stand-in)."""
    return current_user if current_user.is_authenticated else None


bootstrap = Bootstrap5()
moment = Moment()
mail = Mail()
compress = Compress()
csrf = CSRFProtect()  # every POST, forms and fetch() calls alike, needs the token
# Limits are per client address unless a route says otherwise; which storage counts them comes
# from RATELIMIT_STORAGE_URI (memory for one process, Redis for several).
limiter = Limiter(get_remote_address)


def config_limit(name: str) -> Callable[[], str]:
    """A limit read from the config at request time, so each deployment and test sets its own."""
    return lambda: current_app.config[name]
