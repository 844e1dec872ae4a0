"""Confirmed email: what an account may do before its owner has opened the link mailed to it."""

import functools
from collections.abc import Callable

from flask import current_app, flash, request, url_for
from flask_login import current_user

from app.clients import wants_json
from app.redirects import back_to_next_or

UNCONFIRMED_MESSAGE = "Confirm your email address first: open the link we mailed you."


def awaiting_confirmation() -> bool:
    """True for a signed-in user who must still confirm their address before acting."""
    return (
        current_app.config["REQUIRE_EMAIL_CONFIRMATION"]
        and current_user.is_authenticated
        and not current_user.email_confirmed
    )


def confirmed_required(view: Callable) -> Callable:
    """Refuse changes (POST) by a user who has not confirmed their address; reading stays open.

    Forms get a flash and a redirect; fetch() calls asking for JSON get a 403 with a message.
    """

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if request.method != "POST" or not awaiting_confirmation():
            return view(*args, **kwargs)
        if wants_json():
            return {"error": UNCONFIRMED_MESSAGE}, 403
        flash(UNCONFIRMED_MESSAGE, "warning")
        return back_to_next_or(url_for("main.index"))

    return guarded
