import re

import sqlalchemy as sa

from app.extensions import db
from app.models import USERNAME_PATTERN, Post, User


def counts(app) -> tuple[int, int]:
    with app.app_context():
        users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        posts = db.session.scalar(sa.select(sa.func.count()).select_from(Post))
        return users, posts


def test_seed_adds_valid_users_who_can_log_in_and_their_posts(app, client):
    result = app.test_cli_runner().invoke(args=["seed", "--users", "5", "--posts", "40"])
    assert result.exit_code == 0, result.output
    assert "Added 5 users (password: microblog), 40 posts and 20 follows" in result.output
    assert counts(app) == (5, 40)
    with app.app_context():
        users = db.session.scalars(sa.select(User)).all()
        assert sum(user.posts_count for user in users) == 40  # counters match the bulk rows
        assert all(user.following_count == 4 for user in users)
        assert sum(user.followers_count for user in users) == 20
        assert all(re.fullmatch(USERNAME_PATTERN, user.username) for user in users)
        assert all(3 <= len(user.username) <= 32 for user in users)
        assert all(user.email_confirmed for user in users)  # demo users can post at once
        assert all(len(post.body) <= 280 for post in db.session.scalars(sa.select(Post)))
        username = users[0].username
    response = client.post("/auth/login", data={"username": username, "password": "microblog"})
    assert response.status_code == 302


def test_seed_adds_to_existing_data_without_clashing(app, make_user):
    make_user("ann")
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["seed", "--users", "30", "--posts", "5", "--random-seed", "1"])
        assert result.exit_code == 0, result.output
    assert counts(app) == (61, 10)


def test_seed_posts_need_someone_to_write_them(app):
    result = app.test_cli_runner().invoke(args=["seed", "--users", "0", "--posts", "5"])
    assert result.exit_code != 0
    assert "There are no users to write the posts" in result.output
    assert counts(app) == (0, 0)


def test_shell_context_has_the_admin_tools(monkeypatch):
    monkeypatch.setenv("MICROBLOG_CONFIG", "testing")
    import microblog

    context = microblog.make_shell_context()
    assert {"db", "sa", "so", "User", "Post", "SiteCount", "recount"} <= context.keys()
