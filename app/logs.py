"""Request ids on every response; with LOG_FORMAT=json, every log record as one JSON line.

In JSON mode the app writes the access line itself, one per request (gunicorn's own access log
is off then, see gunicorn.conf.py): only the app knows the request id, the signed-in user and
the client address that ProxyFix recovered from the proxy's headers.
"""

import logging
import re
import sys
import time
import uuid

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_request_context, request
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

from app.health.routes import PROBE_ENDPOINTS

REQUEST_ID_HEADER = "X-Request-ID"
# What nginx's $request_id, UUIDs and tracing ids look like. Anything else (overlong values,
# quotes, control characters that could forge log lines) is replaced by an id of our own.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Paths that carry a secret (a live reset or confirmation token): the log gets the route instead.
SECRET_PATH_ENDPOINTS = {"auth.reset_password", "auth.confirm_email", "auth.confirm_email_change"}


def json_formatter() -> JsonFormatter:
    """The one JSON shape for the app's records and gunicorn's own (see gunicorn.conf.py)."""
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        timestamp="time",
        rename_fields={"levelname": "level", "name": "logger", "exc_info": "traceback"},
    )


# Created once: every app built in this process writes through the same handler, never two.
json_handler = logging.StreamHandler(sys.stdout)
json_handler.setFormatter(json_formatter())


def add_request_id(record: logging.LogRecord) -> bool:
    """Stamp records logged while a request is handled (errors included) with its id."""
    record.request_id = request_id() if has_request_context() else None
    return True


json_handler.addFilter(add_request_id)


def request_id() -> str:
    """This request's id: the one a trusted proxy sent, if sane, or a new one."""
    if "request_id" not in g:
        g.request_id = forwarded_request_id() or uuid.uuid4().hex
    return g.request_id


def forwarded_request_id() -> str | None:
    # Without a trusted proxy in front, the header is whatever the client chose to send.
    if not current_app.config["TRUSTED_PROXIES"]:
        return None
    value = request.headers.get(REQUEST_ID_HEADER, "")
    return value if SANE_REQUEST_ID.fullmatch(value) else None


def start_request() -> None:
    g.request_started = time.perf_counter()
    request_id()


def finish_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    # A load balancer probing every few seconds would bury the requests that matter; a probe
    # that fails is still logged.
    quiet_probe = request.endpoint in PROBE_ENDPOINTS and response.status_code < 400
    if current_app.config["LOG_FORMAT"] == "json" and not quiet_probe:
        log_request(response)
    return response


def log_request(response: Response) -> None:
    duration_ms = (time.perf_counter() - g.request_started) * 1000
    path = request.path
    if request.endpoint in SECRET_PATH_ENDPOINTS:
        path = request.url_rule.rule
    current_app.logger.info(
        "%s %s %s",
        request.method,
        path,
        response.status_code,
        extra={
            "method": request.method,
            "path": path,
            "status": response.status_code,
            "duration_ms": round(duration_ms, 2),
            "user_id": signed_in_user_id(),
            "client": request.remote_addr,
        },
    )


def signed_in_user_id() -> int | None:
    """The user Flask-Login loaded for this request, if it loaded one: logging costs no query."""
    user = g.get("_login_user")  # where Flask-Login keeps the user once something asked for it
    if user is None or not user.is_authenticated:
        return None
    # The identity key, not user.id: after a commit the row is expired and .id would reload it.
    identity = sa.inspect(user).identity
    return identity[0] if identity else None


def init_app(app: Flask) -> None:
    app.before_request(start_request)
    app.after_request(finish_request)
    if app.config["LOG_FORMAT"] == "json":
        # On the root logger, so libraries' warnings (Flask-Limiter's, SQLAlchemy's) are JSON too.
        root = logging.getLogger()
        if json_handler not in root.handlers:
            root.addHandler(json_handler)
        app.logger.removeHandler(default_handler)  # its text copy would double every record
        app.logger.setLevel(logging.INFO)
