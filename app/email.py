"""Outgoing mail: rendered from templates, sent from a background thread, logged if unsent."""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request
from flask_mail import Message, email_dispatched

from app.extensions import mail

# One worker: mail goes out in the order it was asked for, and a flood of requests queues
# rather than opening a connection each.
background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")


def run_in_background(job: Callable[..., object], *args: object) -> Future:
    """Run ``job(*args)`` in the mail thread inside an app context; log, never raise."""
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            try:
                job(*args)
            except Exception:
                app.logger.exception("Background job %s failed", job.__name__)

    return background.submit(run)


def link_base() -> str:
    """Scheme, host and prefix for absolute links in mails.

    The configured address when there is one; only without it (development) the address the
    browser used, since a forged Host header would otherwise put the attacker's site in a mail.
    """
    config = current_app.config
    if config["APP_BASE_URL"]:
        return config["APP_BASE_URL"]
    if config["SERVER_NAME"]:
        root = config["APPLICATION_ROOT"].rstrip("/")
        return f"{config['PREFERRED_URL_SCHEME']}://{config['SERVER_NAME']}{root}"
    return request.host_url.rstrip("/")


def absolute_url(base: str, endpoint: str, **values: object) -> str:
    """``url_for(endpoint, **values)`` under ``base``, usable outside a request."""
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def send_email(subject: str, recipient: str, template: str, **context: object) -> None:
    """Send ``email/<template>.txt`` and ``.html`` to one recipient (call it in the background)."""
    message = Message(
        subject,
        recipients=[recipient],
        body=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
    )
    mail.send(message)


@email_dispatched.connect
def log_unsent_mail(app: Flask, message: Message) -> None:
    # With no MAIL_SERVER nothing is sent; a developer can still follow the links.
    if app.config["MAIL_SUPPRESS_SEND"]:
        app.logger.warning(
            "MAIL_SERVER is not set, so this mail was not sent:\nTo: %s\nSubject: %s\n\n%s",
            ", ".join(message.recipients),
            message.subject,
            message.body,
        )
