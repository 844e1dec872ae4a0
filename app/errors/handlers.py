"""App-wide error pages, in the site's layout."""

import contextlib
import time

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, current_app, g, render_template
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import (
    Forbidden,
    HTTPException,
    InternalServerError,
    NotFound,
    SecurityError,
    ServiceUnavailable,
    TooManyRequests,
)

from app.extensions import db, limiter, login
from app.models import User
from app.models.roles import NotAllowed
from app.throttle import describe_wait

bp = Blueprint("errors", __name__)

EXPLANATIONS = {
    400: "The request could not be understood. If you sent a form, it may have expired: "
    "go back, reload the page and try again.",
    403: "You are not allowed to do that.",
    404: "There is nothing here. The address may be mistyped, or the page was removed.",
    405: "That page does not accept this kind of request.",
    413: "What you sent is too large.",
    429: "Too many requests in a short time.",
    503: "The site is briefly unavailable, most likely for maintenance. Please try again in a "
    "minute; nothing you already saved is lost.",
    500: "Something went wrong on our side. It has been logged; please try again later.",
}
DELETED_MEANWHILE = (
    "It was deleted (in another tab or window, or by someone else) while you were working on it."
)


def error_page(error: HTTPException, explanation: str):
    code = error.code or 500
    body = render_template(
        "errors/error.html",
        title=f"{code} {error.name}",
        code=code,
        name=error.name,
        explanation=explanation,
    )
    # Keep what the exception adds for clients, e.g. Allow on a 405 or Retry-After on a 429.
    headers = [(key, value) for key, value in error.get_headers() if key != "Content-Type"]
    return body, code, headers


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    # A view's own words (abort(400, "...")) win over the generic explanation.
    if error.description != type(error).description:
        return error_page(error, error.description)
    return error_page(error, EXPLANATIONS.get(error.code, error.description))


@bp.app_errorhandler(CSRFError)
def error_with_internal_details(error: HTTPException):
    # Its descriptions ("The CSRF token is missing.") are for developers.
    return error_page(error, EXPLANATIONS[error.code])


@bp.app_errorhandler(TooManyRequests)
def too_many_requests(error: TooManyRequests):
    # A limit's own description ("10 per 1 minute") is for developers; the wait is for people.
    if isinstance(error, RateLimitExceeded):
        wait = limiter.current_limit.reset_at - int(time.time())
    else:
        wait = error.retry_after  # the app's own failure limits (app/throttle.py) set it
    if isinstance(wait, int):
        advice = f"Try again in {describe_wait(max(wait, 1))}."
    else:
        advice = "Please wait a while and try again."
    return error_page(error, f"{EXPLANATIONS[429]} {advice}")


@bp.app_errorhandler(SecurityError)
def untrusted_host(error: SecurityError):
    # No page in the layout: links cannot be built for a host the app does not serve.
    return f"{error.code} {error.name}: this site does not answer to that host name.", error.code


@bp.app_errorhandler(NotAllowed)
def not_allowed(error: NotAllowed):
    # The model refused halfway through an action: nothing it began may be committed.
    db.session.rollback()
    return error_page(Forbidden(), str(error))


# A row this request changes was deleted by a request in parallel (a post deleted in another
# tab while being edited or hidden): the ORM finds it gone when it reads it again once locked
# (ObjectDeletedError) or when its UPDATE matches nothing (StaleDataError). Logged with its
# traceback, so that a bug that ends the same way is still seen.
@bp.app_errorhandler(so.exc.ObjectDeletedError)
@bp.app_errorhandler(so.exc.StaleDataError)
def deleted_meanwhile(error: so.exc.ObjectDeletedError | so.exc.StaleDataError):
    current_app.logger.warning("Deleted by a request in parallel: %s", error, exc_info=error)
    db.session.rollback()  # nothing this request began is kept
    # What went may be the reader's own account (deleted in another tab): the page is then
    # drawn for a visitor, as the next request's would be.
    reader = g.get("_login_user")
    if reader and reader.is_authenticated and not db.session.get(User, sa.inspect(reader).identity):
        g._login_user = login.anonymous_user()
    return error_page(NotFound(), DELETED_MEANWHILE)


@bp.app_errorhandler(InternalServerError)
def internal_error(error: InternalServerError):
    # Flask has logged the exception already; the failed transaction would break this page.
    db.session.rollback()
    return http_error(error)


# How long clients are asked to wait while the database cannot be reached.
OUTAGE_RETRY_AFTER_SECONDS = 30


# Errors of reaching the database rather than of the statement: it is down or restarting,
# refuses connections, or every pooled connection is busy (DBAPIError subclasses for the first
# two, SQLAlchemy's own TimeoutError for the pool).
@bp.app_errorhandler(sa.exc.OperationalError)
@bp.app_errorhandler(sa.exc.InterfaceError)
@bp.app_errorhandler(sa.exc.TimeoutError)
def database_unavailable(error: sa.exc.SQLAlchemyError):
    # The driver's own words: the statement's parameters (user input) stay out of the log.
    current_app.logger.error("Database unavailable: %s", getattr(error, "orig", None) or error)
    with contextlib.suppress(sa.exc.SQLAlchemyError):  # the connection may be gone with it
        db.session.rollback()
    # The page is drawn for a visitor: showing the signed-in user would mean loading (or, after
    # the rollback, refreshing) them from the database that just failed.
    g._login_user = login.anonymous_user()
    unavailable = ServiceUnavailable(retry_after=OUTAGE_RETRY_AFTER_SECONDS)
    return error_page(unavailable, EXPLANATIONS[503])


@bp.teardown_app_request
def end_session(error: BaseException | None) -> None:
    # Ending the session rolls back on its connection. If the database went away after the
    # view ran (a restart), that fails once the response is made, and the server would answer
    # its own bare 500 instead; the failure has invalidated the connection, which the pool
    # replaces. (Flask-SQLAlchemy's own teardown then finds nothing left to close.)
    try:
        db.session.close()
    except sa.exc.DBAPIError as failure:
        current_app.logger.warning("Database gone while ending the request: %s", failure.orig)
