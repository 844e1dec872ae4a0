"""Helpers shared by test modules."""

import html
import io
import re
import shutil
import socket
import subprocess
import time

import pytest
import redis

from app.email import background
from app.extensions import db
from app.models import Post, User, new_submission_key


def picture_file(fmt: str = "PNG", size=(120, 80), colour=(220, 20, 20), **options) -> bytes:
    """A picture of one colour, as a file in ``fmt`` (Pillow's name), saved with ``options``."""
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, fmt, **options)
    return output.getvalue()


def processed_picture(**picture_options):
    """``picture_file(**picture_options)`` as the app keeps an upload (``Picture``)."""
    from app.avatars.pictures import process_picture
    from config import TestingConfig

    limits = TestingConfig.AVATAR_MAX_PIXELS, TestingConfig.AVATAR_MAX_PIXELS_WHOLE
    data = picture_file(**picture_options)
    return process_picture(data, max_pixels=limits[0], max_pixels_whole=limits[1])


def text_of(response) -> str:
    """The response's HTML with tags removed and whitespace collapsed, as a reader sees it."""
    page = response.get_data(as_text=True)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).strip())


def links_in(response) -> list[tuple[str, str]]:
    """(href, text) of every link, surrounding whitespace trimmed from both."""
    page = response.get_data(as_text=True)
    found = re.findall(r'<a\b[^>]*?href="([^"]*)"[^>]*>(.*?)</a>', page, flags=re.S)
    return [(html.unescape(href.strip()), text.strip()) for href, text in found]


def field_value(response, name: str) -> str | None:
    """What the form field ``name`` holds in the page (an input's value or a textarea's text)."""
    page = response.get_data(as_text=True)
    tag = re.search(rf'<(input|textarea)\b[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    if tag is None:
        return None
    if tag.group(1) == "input":
        value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
        return html.unescape(value.group(1)) if value else ""
    text = page[tag.end() : page.index("</textarea>", tag.end())]
    return html.unescape(text.removeprefix("\r\n").removeprefix("\n"))


def post_form(body: str) -> dict[str, str]:
    """What the new-post form sends: the text and the one-time key the page carried."""
    return {"body": body, "submission_key": new_submission_key()}


def publish(app, author_id: int, body: str, reply_to: int | None = None) -> int:
    """A post by the user, through the model (counts, tags and notifications kept); its id."""
    with app.app_context():
        author = db.session.get(User, author_id)
        answered = db.session.get(Post, reply_to) if reply_to else None
        post = author.publish(body, reply_to=answered)
        db.session.commit()
        return post.id


def app_with_users(config: type, *usernames: str):
    """An app of its own, built from ``config``, with tables and these users (password PASSWORD,
    address confirmed).

    For tests that need settings the shared ``app`` fixture does not have.
    """
    from app import create_app
    from app.extensions import db
    from app.models import User
    from tests.conftest import PASSWORD, password_hash

    app = create_app(config)
    with app.app_context():
        db.create_all()
        for name in usernames:
            user = User(username=name, password_hash=password_hash(PASSWORD))
            user.set_email(f"{name}@example.com")
            user.confirm_email()
            db.session.add(user)
        db.session.commit()
    return app


def start_session(app, user_id: int, *, remembered: bool = False) -> str:
    """A session record for the user, as a sign-in would make; its raw key (the cookie value)."""
    from app.extensions import db
    from app.models import User, UserSession

    with app.app_context():
        user = db.session.get(User, user_id)
        user_session = UserSession.start(user, remembered=remembered, ip_address=None, device=None)
        db.session.commit()
        return user_session.key


def signed_in_client(app, user_id: int = 1):
    """A client signed in as the user (the first by default) without the login form."""
    client = app.test_client()
    key = start_session(app, user_id)
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True
    return client


def wait_for_mail() -> None:
    """Mail goes out from one background thread, in order: wait for what is queued."""
    background.submit(lambda: None).result(timeout=10)


def link_in(message, route: str) -> str:
    """The path of the first link to ``route`` (e.g. ``/auth/confirm``) in a mail's text."""
    return re.search(rf"https?://[^/\s]+({re.escape(route)}/\S+)", message.body).group(1)


def writes_in(statements: list[str]) -> list[str]:
    """The statements of an ``sql_log`` that change rows (plain or behind a WITH clause)."""
    return [
        statement
        for statement in statements
        if re.match(r"\s*(WITH\b.*?\)\s*)?(INSERT|UPDATE|DELETE)\b", statement, re.I | re.S)
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a free port of 127.0.0.1, to stop and start at will
    (the machine's shared Redis is never touched)."""

    def __init__(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.skip("needs redis-server: `sudo apt-get install -y redis-server`")
        self.executable = executable
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def refused_without_the_pages_csrf_token(app, client, link: str) -> dict[str, str]:
    """POST the button of the page at ``link`` with no token, then a forged one: each a 400
    that says why. Returns the form data that carries the page's own token."""
    app.config["WTF_CSRF_ENABLED"] = True  # as browsers meet the page
    page = client.get(link)
    for forged in ({}, {"csrf_token": "forged"}):
        response = client.post(link, data=forged)
        assert response.status_code == 400
        assert "If you sent a form, it may have expired" in text_of(response)
    return {"csrf_token": field_value(page, "csrf_token")}
