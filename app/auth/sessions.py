"""Signing in and out: the one place that starts and ends a browser's session."""

from flask import current_app, g, session
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from app import transactions
from app.clients import client_address, client_device, record_security_event
from app.extensions import login
from app.models import NotAllowed, SecurityEventKind, User, UserSession


def sign_in(user: User, *, remember: bool = False) -> None:
    """Start a session for ``user`` in this browser (the caller commits). A suspended account
    gets none, whichever way it came (the login form, a confirmation link, a reset)."""
    if user.is_suspended:
        raise NotAllowed(user.suspension_notice())
    start_session(user, remember=remember)
    record_security_event(user.id, SecurityEventKind.SIGNED_IN)


def sign_out(user: User) -> None:
    """End this browser's session, here and wherever its cookies were copied (the caller
    commits)."""
    record_security_event(user.id, SecurityEventKind.SIGNED_OUT)
    user.current_session.end()
    user.current_session = None
    logout_user()
    renew_csrf_token()


def start_session(user: User, *, remember: bool) -> None:
    """A new session record for this browser, its key in fresh cookies (the caller commits).

    Also how a browser keeps its sign-in after a new password ended every session: its old
    cookies, and any copy of them, stay dead. A session this browser already had (signed in
    when it opened a confirmation link, perhaps as someone else) ends here too, or a copy of
    its cookies would outlive the next logout.
    """
    if current_user.is_authenticated and current_user.current_session is not None:
        current_user.current_session.end()
    user.current_session = UserSession.start(
        user, remembered=remember, ip_address=client_address(), device=client_device()
    )
    login_user(user, remember=remember)
    renew_csrf_token()


def renew_csrf_token() -> None:
    """A new CSRF token from here on: one an attacker planted or saw before cannot follow the
    browser across a sign-in."""
    field_name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field_name, None)
    g.pop(field_name, None)


def session_key_in_cookie() -> str | None:
    """The key of the session this browser's cookie names, if any, unchecked and without
    loading anyone (Flask-Login keeps it as the "user id"): see UserSession.read_if_live."""
    key = session.get("_user_id")
    return key if isinstance(key, str) else None


def signed_in_user() -> str:
    """The rate-limit key of the signed-in user, for limits that follow an account, not an
    address."""
    return f"user:{current_user.id}"


def user_or_address() -> str:
    """The rate-limit key of the signed-in user, or else of the client's address."""
    return signed_in_user() if current_user.is_authenticated else get_remote_address()


@login.user_loader
def load_user(session_key: str) -> User | None:
    """The user of the live session a cookie names (a cookie from before server-side sessions,
    ``id:token``, names none)."""
    if not isinstance(session_key, str):  # not a key this app writes
        return None
    user_session = UserSession.find(session_key)
    if user_session is None:
        return None
    if user_session.has_expired():
        user_session.end()
        transactions.commit()  # refused for good, whatever the rest of this request does
        return None
    user = user_session.user
    user.current_session = user_session
    return user
