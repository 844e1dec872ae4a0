"""Asking a signed-in user for their password again, before a sensitive change.

Every form with a current-password field checks it here, so a stolen session cannot guess the
password there without limit: failures count per user and per client address like sign-ins,
and reaching the limit ends the session.
"""

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from wtforms import Field

from app.auth.sessions import sign_out
from app.clients import client_address, record_security_event
from app.extensions import db
from app.models import SecurityEventKind
from app.throttle import FailureLimit, describe_wait

USER_FAILURES = FailureLimit("REVERIFY_RATE_LIMIT", "reverify-user")
CLIENT_FAILURES = FailureLimit("REVERIFY_RATE_LIMIT", "reverify-client")


def confirm_current_password(field: Field) -> bool:
    """Whether ``field`` holds the signed-in user's password; if not, the field says why.

    The failure that reaches the limit signs this browser out and sends it to the login page
    (the request ends there). While over the limit, no password is checked at all, the right
    one included, so an owner who signed in again is told how long to wait instead.
    """
    user = current_user._get_current_object()
    counters = ((USER_FAILURES, str(user.id)), (CLIENT_FAILURES, client_address()))
    wait = max(limit.wait(key) for limit, key in counters)
    if wait:
        field.errors.append(f"Too many wrong passwords. Try again in {describe_wait(wait)}.")
        return False
    if user.check_password(field.data):
        return True
    for limit, key in counters:
        limit.fail(key)
    record_security_event(user.id, SecurityEventKind.PASSWORD_CHECK_FAILED)
    if any(limit.wait(key) for limit, key in counters):
        sign_out(user)
        db.session.commit()
        flash(
            "You were signed out after too many wrong passwords. "
            "Sign in again with your password to continue.",
            "warning",
        )
        abort(redirect(url_for("auth.login")))
    db.session.commit()
    field.errors.append("That is not your current password.")
    return False
