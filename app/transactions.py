"""Transactions: pages that only read need none, and changes allowed once may race.

On PostgreSQL a transaction is two more round trips to the server, its BEGIN and its
ROLLBACK, and a feed page makes only two or three statements of its own. A view marked
``@without_transaction`` runs its GET and HEAD requests on an autocommit connection: each
statement sees the latest commits, and none waits for a BEGIN.

Such a request still writes what every request may (a reader's ``last_seen`` and session
activity, an expired session's removal): single rows, each committed as it is written. A view
that writes more than that, or needs its reads to agree with each other, must not be marked.
"""

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, abort, g, request

from app.extensions import db

View = TypeVar("View", bound=Callable)
READ_METHODS = {"GET", "HEAD"}


def without_transaction(view: View) -> View:
    view.without_transaction = True
    return view


def commit_unless_done_in_parallel() -> None:
    """Commit a change that a unique key allows once (a follow, a like): when a request in
    parallel made the same change first, this one's is rolled back and theirs stands. When
    a request in parallel deleted a row this one changes (the post liked, the account
    followed), this one is rolled back and answered with a 404."""
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
    except so.exc.StaleDataError:
        db.session.rollback()
        abort(404)


def commit() -> None:
    """Commit what this request changed. A page read without a transaction has nothing to
    commit (each statement committed itself as it ran): it flushes, and keeps reading on its
    autocommit connection, which a commit would give back to the pool."""
    if g.get("reading_without_transaction"):
        db.session.flush()
    else:
        db.session.commit()


def start_reading_without_transaction(app: Flask) -> None:
    if request.method not in READ_METHODS:
        return
    view = app.view_functions.get(request.endpoint)
    if getattr(view, "without_transaction", False):
        # Only the connection's first procurement takes options: nothing may query before.
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        g.reading_without_transaction = True


def init_app(app: Flask) -> None:
    app.before_request(lambda: start_reading_without_transaction(app))
