from flask import current_app

from app.email import absolute_url, send_email
from app.models import User


def send_password_reset(address: str, link_base: str) -> None:
    """Mail a reset link if an account has this address; otherwise do nothing, quietly.

    Runs in the background, so the page that asked answers alike either way.
    """
    user = User.find_by_email(address)
    if user is None:
        return
    token = user.password_reset_token()
    send_email(
        "Reset your Microblog password",
        user.email,
        "reset_password",
        user=user,
        url=absolute_url(link_base, "auth.reset_password", token=token),
        expires_in=describe_duration(current_app.config["PASSWORD_RESET_MAX_AGE"]),
    )


def describe_duration(seconds: int) -> str:
    """``3600`` -> ``"1 hour"``, ``900`` -> ``"15 minutes"``: how long a link lasts, in words."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"
