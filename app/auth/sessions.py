"""Signing in and out: the one place that starts and ends a browser's session."""

from flask import current_app, g, session
from flask_login import current_user, login_user, logout_user

from app.clients import record_security_event
from app.models import SecurityEventKind, User


def sign_in(user: User, *, remember: bool = False) -> None:
    """Start a session for ``user`` in this browser (the caller commits)."""
    login_user(user, remember=remember)
    renew_csrf_token()
    record_security_event(user.id, SecurityEventKind.SIGNED_IN)


def sign_out(user: User) -> None:
    """End this browser's session (the caller commits)."""
    record_security_event(user.id, SecurityEventKind.SIGNED_OUT)
    logout_user()
    renew_csrf_token()


def renew_csrf_token() -> None:
    """A new CSRF token from here on: one an attacker planted or saw before cannot follow the
    browser across a sign-in."""
    field_name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field_name, None)
    g.pop(field_name, None)


def signed_in_user() -> str:
    """The rate-limit key of the signed-in user, for limits that follow an account, not an
    address."""
    return f"user:{current_user.id}"
