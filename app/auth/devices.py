"""Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").

After a successful sign-in the browser keeps a signed cookie naming the account and a random
nonce. An attempt from a browser that holds one for the account it names is counted against
that cookie instead of against the account, so guesses from elsewhere can lock out everyone
but the owner's own browsers. The cookie proves nothing by itself: the password is still
checked; it only says which counter a failure goes to.
"""

import secrets

from flask import Response, current_app, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

DEVICE_COOKIE_NAME = "device"
# A shared computer may be used by a few people; each gets their own entry, the oldest goes.
DEVICES_PER_BROWSER = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="device-cookie")


def _known_devices() -> list[tuple[int, str]]:
    """The (user id, nonce) pairs this browser's device cookie holds, newest first."""
    value = request.cookies.get(DEVICE_COOKIE_NAME)
    if not value:
        return []
    max_age = current_app.config["DEVICE_COOKIE_DURATION"].total_seconds()
    try:
        entries = _serializer().loads(value, max_age=max_age)
    except BadData:
        return []  # forged, expired, or signed with an older secret key
    return [(user_id, nonce) for user_id, nonce in entries]


def device_nonce(user_id: int) -> str | None:
    """This browser's nonce for the account, if it signed in to it before."""
    return next((nonce for known_id, nonce in _known_devices() if known_id == user_id), None)


def remember_device(response: Response, user_id: int) -> None:
    """Give this browser a fresh device cookie entry for the account it just signed in to."""
    others = [(known_id, nonce) for known_id, nonce in _known_devices() if known_id != user_id]
    entries = [(user_id, secrets.token_urlsafe(16)), *others][:DEVICES_PER_BROWSER]
    response.set_cookie(
        DEVICE_COOKIE_NAME,
        _serializer().dumps(entries),
        max_age=current_app.config["DEVICE_COOKIE_DURATION"],
        path=url_for("auth.login"),  # only sign-in reads it
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
