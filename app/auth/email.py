from flask import current_app

from app.email import absolute_url, send_email
from app.extensions import db
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


def send_email_confirmation(user_id: int, link_base: str) -> None:
    """Mail a new account's owner the link that confirms their address."""
    user = db.session.get(User, user_id)
    if user is None or user.email_confirmed:
        return  # deleted or confirmed while the mail waited in the queue
    send_email(
        "Confirm your Microblog email address",
        user.email,
        "confirm_email",
        user=user,
        url=absolute_url(link_base, "auth.confirm_email", token=user.email_confirmation_token()),
        expires_in=describe_duration(current_app.config["EMAIL_CONFIRMATION_MAX_AGE"]),
    )


def send_registration_attempt_notice(address: str, link_base: str) -> None:
    """Tell an address's owner that someone tried to register with it, with a way back in.

    Registering with a taken address answers as for a free one; only the owner learns of it.
    """
    user = User.find_by_email(address)
    if user is None:
        return  # the account went away since the request
    send_email(
        "Someone tried to register with your email address",
        user.email,
        "registration_attempt",
        user=user,
        login_url=absolute_url(link_base, "auth.login"),
        url=absolute_url(link_base, "auth.reset_password", token=user.password_reset_token()),
        expires_in=describe_duration(current_app.config["PASSWORD_RESET_MAX_AGE"]),
    )


def send_email_change_link(user_id: int, new_address: str, link_base: str) -> None:
    """Mail the link that moves the account to ``new_address`` to that address."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    token = user.email_change_token(new_address)
    send_email(
        "Confirm your new Microblog email address",
        new_address,
        "change_email",
        user=user,
        url=absolute_url(link_base, "auth.confirm_email_change", token=token),
        expires_in=describe_duration(current_app.config["EMAIL_CONFIRMATION_MAX_AGE"]),
    )


def send_email_changed_notice(username: str, old_address: str, new_address: str) -> None:
    """Tell the address an account just left where it went, in case that was not its owner."""
    send_email(
        "Your Microblog email address was changed",
        old_address,
        "email_changed",
        username=username,
        new_address=new_address,
    )


def describe_duration(seconds: int) -> str:
    """``3600`` -> ``"1 hour"``, ``900`` -> ``"15 minutes"``: how long a link lasts, in words."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"
