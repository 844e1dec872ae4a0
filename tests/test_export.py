"""Exporting an account's data as a JSON download."""

import json

import pytest

from app.extensions import db
from app.models import Post, User
from tests.conftest import PASSWORD

DOWNLOAD = "/settings/export/microblog.json"


def follow(app, follower: str, followed: str) -> None:
    with app.app_context():
        by_name = {user.username: user for user in db.session.scalars(db.select(User))}
        by_name[follower].follow(by_name[followed])
        db.session.commit()


def test_the_export_page_links_to_the_download(client, login):
    login("ann")
    page = client.get("/settings/export").get_data(as_text=True)
    assert f'href="{DOWNLOAD}"' in page
    assert 'aria-current="page">Export<' in page


def test_the_download_holds_profile_posts_following_and_followers(app, client, make_user, login):
    for name in ("bob", "cid"):
        make_user(name)
    make_user("Ann", email="Ann@Example.com", about_me="Hello <there>", posts=2)
    login("Ann", create=False)
    follow(app, "Ann", "bob")
    follow(app, "cid", "Ann")
    with app.app_context():
        first = db.session.scalar(db.select(Post).order_by(Post.id))
        first.edit("Edited ✓")
        db.session.commit()
        ann = db.session.scalar(db.select(User).where(User.username == "Ann"))
        member_since = ann.member_since.isoformat() + "Z"

    response = client.get(DOWNLOAD)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == "attachment; filename=microblog-Ann.json"
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert list(data) == [
        "profile",
        "avatar_picture",
        "posts",
        "following",
        "followers",
        "likes",
        "notifications",
        "blocked",
        "muted",
        "reports",
    ]
    assert data["profile"] == {
        "username": "Ann",
        "email": "ann@example.com",
        "about_me": "Hello <there>",
        "member_since": member_since,
        "avatar": "generated",
        "role": "user",
        "suspension": None,
    }
    assert [post["body"] for post in data["posts"]] == ["Edited ✓", "Post 1 by Ann"]
    assert data["posts"][0]["edited"].endswith("Z") and data["posts"][1]["edited"] is None
    assert all(
        set(post) == {"id", "body", "created", "edited", "reply_to", "hidden_by_moderator"}
        for post in data["posts"]
    )
    assert [person["username"] for person in data["following"]] == ["bob"]
    assert [person["username"] for person in data["followers"]] == ["cid"]
    assert data["followers"][0]["since"].endswith("Z")


def test_the_download_holds_replies_likes_and_notifications(app, client, make_user, login):
    make_user("bob", posts=1)
    login("ann")
    with app.app_context():
        ann, bob = (
            db.session.scalar(db.select(User).filter_by(username=n)) for n in ("ann", "bob")
        )
        bobs_post = db.session.scalar(db.select(Post))
        reply = ann.publish("Hi @bob", reply_to=bobs_post)
        ann.like(bobs_post)
        bob.like(reply)  # a reply is a post: it can be liked
        db.session.commit()
        ids = bobs_post.id, reply.id
    data = json.loads(client.get(DOWNLOAD).get_data(as_text=True))
    assert [(post["body"], post["reply_to"]) for post in data["posts"]] == [("Hi @bob", ids[0])]
    assert [like["post"] for like in data["likes"]] == [ids[0]]
    assert [(n["kind"], n["by"], n["post"]) for n in data["notifications"]] == [
        ("like", "bob", ids[1])
    ]


def test_an_account_with_nothing_exports_empty_lists(client, login):
    login("ann")
    data = json.loads(client.get(DOWNLOAD).get_data(as_text=True))
    assert data["posts"] == data["following"] == data["followers"] == []
    assert data["likes"] == data["notifications"] == []


def test_export_needs_a_signed_in_user(client):
    assert client.get(DOWNLOAD).status_code == 302


@pytest.mark.parametrize("posts", [10, 50])
def test_the_statements_do_not_grow_with_posts_or_follows(app, make_user, sql_log, posts):
    """The same count for 10 and 50 of everything (compared with a one-of-each account)."""

    def statements_for(username: str, rows: int) -> int:
        make_user(username, posts=rows)
        for n in range(rows):
            fan = f"{username}_fan{n}"
            make_user(fan)
            follow(app, fan, username)
            follow(app, username, fan)
        client = app.test_client()
        client.post("/auth/login", data={"username": username, "password": PASSWORD})
        sql_log.clear()
        body = client.get(DOWNLOAD).get_data(as_text=True)
        assert len(json.loads(body)["posts"]) == rows
        return len(sql_log)

    assert statements_for("small", 1) == statements_for("big", posts)
