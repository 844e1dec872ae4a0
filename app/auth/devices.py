"""Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").

After a successful sign-in the browser keeps a signed cookie naming the account and a random
nonce. An attempt from a browser that holds one for the account it names is counted against
that cookie instead of against the account, so guesses from elsewhere can lock out everyone
but the owner's own browsers. The cookie proves nothing by itself: the password is still
checked; it only says which counter a failure goes to.

Each entry is bound to the account's password as it was at that sign-in: a new password (a
reset after an intrusion, say) makes every earlier cookie for the account a stranger's, and so
does a deleted account whose id a new one gets.
"""

import hashlib
import hmac
import secrets

from flask import Response, current_app, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from app.extensions import is_row_id
from app.models import User

DEVICE_COOKIE_NAME = "device"
# A shared computer may be used by a few people; each gets their own entry, the oldest goes.
DEVICES_PER_BROWSER = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="device-cookie")


def _password_binding(user: User) -> str:
    # Keyed, so the cookie (signed, not encrypted) says nothing about the password hash.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def _known_devices() -> list[tuple[int, str, str]]:
    """The (user id, nonce, password binding) entries of this browser's cookie, newest first."""
    value = request.cookies.get(DEVICE_COOKIE_NAME)
    if not value:
        return []
    max_age = current_app.config["DEVICE_COOKIE_DURATION"].total_seconds()
    try:
        entries = _serializer().loads(value, max_age=max_age)
    except BadData:
        return []  # forged, expired, or signed with an older secret key
    try:
        return [
            (user_id, nonce, binding)
            for user_id, nonce, binding in entries
            if is_row_id(user_id) and isinstance(nonce, str) and isinstance(binding, str)
        ]
    except (TypeError, ValueError):
        return []  # a cookie from before entries were bound to the password


def device_nonce(user: User) -> str | None:
    """This browser's nonce for the account, if it signed in to it since its password was set."""
    binding = _password_binding(user)
    return next(
        (
            nonce
            for known_id, nonce, known_binding in _known_devices()
            if known_id == user.id and hmac.compare_digest(known_binding, binding)
        ),
        None,
    )


def remember_device(response: Response, user: User) -> None:
    """Give this browser a fresh device cookie entry for the account it just signed in to."""
    others = [entry for entry in _known_devices() if entry[0] != user.id]
    fresh = (user.id, secrets.token_urlsafe(16), _password_binding(user))
    entries = [fresh, *others][:DEVICES_PER_BROWSER]
    response.set_cookie(
        DEVICE_COOKIE_NAME,
        _serializer().dumps(entries),
        max_age=current_app.config["DEVICE_COOKIE_DURATION"],
        path=url_for("auth.login"),  # only sign-in reads it
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
