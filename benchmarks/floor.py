"""The floors a page's cost is compared with: a minimal Flask app, no extensions.

- ``/bare``: a route returning a short string;
- ``/template``: a Jinja page of post cards (the app's markup) over in-memory posts;
- ``/join``: the same page over the newest posts and their authors, selected by one indexed
  join from the dataset's database.

Built by ``create_floor_app``; ``app`` (for gunicorn) reads ``BENCH_FLOOR_DATABASE_URL`` and
``POSTS_PER_PAGE``.
"""

import os
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask, render_template

# Lightweight table clauses: the floor knows only the columns it reads, not the app's models.
post_table = sa.table(
    "post",
    sa.column("id", sa.Integer),
    sa.column("body", sa.String),
    sa.column("created_at", sa.DateTime),
    sa.column("author_id", sa.Integer),
)
user_table = sa.table(
    "user", sa.column("id", sa.Integer), sa.column("username"), sa.column("avatar_key")
)


def newest_posts(limit: int) -> sa.Select:
    """One indexed join: the newest posts by primary key, each with its author by primary key."""
    return (
        sa.select(
            post_table.c.id,
            post_table.c.body,
            post_table.c.created_at,
            user_table.c.username,
            user_table.c.avatar_key,
        )
        .join(user_table, user_table.c.id == post_table.c.author_id)
        .order_by(post_table.c.id.desc())
        .limit(limit)
    )


def card(id: int, body: str, created_at: datetime, username: str, avatar_key: str) -> dict:
    """What the page shows of one post, as plain strings (no url_for)."""
    return {
        "id": id,
        "body": body,
        "username": username,
        "url": f"/post/{id}",
        "user_url": f"/user/{username}",
        "popup_url": f"/user/{username}/popup",
        "avatar_url": f"/avatar/{avatar_key}.svg?s=96",
        "iso": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "title": created_at.strftime("%Y-%m-%d %H:%M"),
        "shown": created_at.strftime("%d %b %Y, %H:%M"),
    }


def in_memory_posts(count: int) -> list[dict]:
    now = datetime.now(UTC).replace(tzinfo=None)
    body = "A post of about the usual length, with a few words in it to render. " * 2
    return [
        card(count - n, body.strip(), now - timedelta(minutes=n), f"writer{n}", f"{n:032x}")
        for n in range(count)
    ]


def create_floor_app(database_url: str | None, per_page: int) -> Flask:
    app = Flask(__name__)
    posts = in_memory_posts(per_page)
    engine = sa.create_engine(database_url) if database_url else None
    app.extensions["floor_engine"] = engine  # the caller disposes of it
    query = newest_posts(per_page)

    @app.get("/bare")
    def bare():
        return "Hello, World!"

    @app.get("/template")
    def template():
        return render_template("floor.html", posts=posts)

    @app.get("/join")
    def join():
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        return render_template("floor.html", posts=[card(*row) for row in rows])

    return app


def gunicorn_app() -> Flask:
    return create_floor_app(
        os.environ.get("BENCH_FLOOR_DATABASE_URL"), int(os.environ.get("POSTS_PER_PAGE", "10"))
    )


if os.environ.get("BENCH_FLOOR_GUNICORN"):
    app = gunicorn_app()
