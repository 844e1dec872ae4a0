"""App-wide error pages, in the site's layout."""

from flask import Blueprint, render_template
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from app.extensions import db

bp = Blueprint("errors", __name__)

EXPLANATIONS = {
    400: "The request could not be understood. If you sent a form, it may have expired: "
    "go back, reload the page and try again.",
    403: "You are not allowed to do that.",
    404: "There is nothing here. The address may be mistyped, or the page was removed.",
    405: "That page does not accept this kind of request.",
    413: "What you sent is too large.",
    429: "Too many requests in a short time. Please wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged; please try again later.",
}


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
@bp.app_errorhandler(RateLimitExceeded)
def error_with_internal_details(error: HTTPException):
    # Their descriptions ("The CSRF token is missing.", "10 per 1 minute") are for developers.
    return error_page(error, EXPLANATIONS[error.code])


@bp.app_errorhandler(SecurityError)
def untrusted_host(error: SecurityError):
    # No page in the layout: links cannot be built for a host the app does not serve.
    return f"{error.code} {error.name}: this site does not answer to that host name.", error.code


@bp.app_errorhandler(InternalServerError)
def internal_error(error: InternalServerError):
    # Flask has logged the exception already; the failed transaction would break this page.
    db.session.rollback()
    return http_error(error)
