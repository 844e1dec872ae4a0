"""Following, the home timeline, follower lists, and the counts that go with them."""

import random
import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Follow, Post, User, new_submission_key
from app.posting import publish_once
from config import TestingConfig
from tests.helpers import app_with_users, post_form, signed_in_client, text_of


def user_named(app, username: str) -> User:
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.username == username))


def follows(app) -> set[tuple[str, str]]:
    with app.app_context():
        follower, followed = sa.orm.aliased(User), sa.orm.aliased(User)
        rows = db.session.execute(
            sa.select(follower.username, followed.username)
            .join(Follow, Follow.follower_id == follower.id)
            .join(followed, Follow.followed_id == followed.id)
        )
        return {(follower_name, followed_name) for follower_name, followed_name in rows}


def test_follow_and_unfollow_change_the_graph_and_the_counts(app, client, login, make_user):
    make_user("bob")
    login("ann")
    response = client.post("/follow/bob", follow_redirects=True)
    assert response.request.path == "/user/bob"
    assert "You are following bob." in text_of(response)
    assert follows(app) == {("ann", "bob")}
    ann, bob = user_named(app, "ann"), user_named(app, "bob")
    assert (ann.following_count, ann.followers_count) == (1, 0)
    assert (bob.following_count, bob.followers_count) == (0, 1)

    response = client.post("/unfollow/bob", follow_redirects=True)
    assert "You are no longer following bob." in text_of(response)
    assert follows(app) == set()
    assert user_named(app, "bob").followers_count == 0
    assert user_named(app, "ann").following_count == 0


def test_following_twice_or_unfollowing_a_stranger_changes_nothing(app, client, login, make_user):
    make_user("bob")
    login("ann")
    client.post("/follow/bob")
    client.post("/follow/BOB")
    assert follows(app) == {("ann", "bob")}
    assert user_named(app, "bob").followers_count == 1
    client.post("/unfollow/bob")
    client.post("/unfollow/bob")
    assert user_named(app, "bob").followers_count == 0
    assert user_named(app, "ann").following_count == 0


@pytest.mark.parametrize("path", ["/follow/ann", "/unfollow/ann", "/follow/ANN"])
def test_nobody_can_follow_themself(app, client, login, path):
    login("ann")
    response = client.post(path)
    assert response.status_code == 400
    assert "You cannot follow yourself." in text_of(response)
    assert follows(app) == set()


def test_the_database_refuses_a_self_follow_too(app, make_user):
    user_id = make_user("ann")
    with app.app_context(), pytest.raises(sa.exc.IntegrityError):
        db.session.add(Follow(follower_id=user_id, followed_id=user_id))
        db.session.commit()


def test_the_model_refuses_a_self_follow(app, make_user):
    make_user("ann")
    with app.app_context():
        ann = User.find("ann")
        with pytest.raises(ValueError, match="cannot follow themselves"):
            ann.follow(ann)


@pytest.mark.parametrize("path", ["/follow/nobody", "/unfollow/nobody"])
def test_following_an_unknown_user_is_404(client, login, path):
    login("ann")
    assert client.post(path).status_code == 404


@pytest.mark.parametrize("path", ["/follow/bob", "/unfollow/bob"])
def test_anonymous_visitors_are_asked_to_log_in(app, client, make_user, path):
    make_user("bob")
    response = client.post(path)
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")
    assert follows(app) == set()


@pytest.mark.parametrize("path", ["/follow/bob", "/unfollow/bob"])
def test_follow_and_unfollow_refuse_get(app, client, login, make_user, path):
    make_user("bob")
    login("ann")
    assert client.get(path).status_code == 405
    assert follows(app) == set()


class CsrfConfig(TestingConfig):
    WTF_CSRF_ENABLED = True


def test_follow_without_a_csrf_token_is_refused():
    app = app_with_users(CsrfConfig, "ann", "bob")
    client = signed_in_client(app)
    assert client.post("/follow/bob").status_code == 400
    assert follows(app) == set()


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [("/explore?page=2", "/explore?page=2"), ("//evil.example", "/user/bob"), ("", "/user/bob")],
)
def test_follow_returns_to_a_same_site_page(client, login, make_user, next_value, expected):
    make_user("bob")
    login("ann")
    response = client.post("/follow/bob", data={"next": next_value})
    assert response.location == expected


def test_follow_called_by_fetch_answers_json(client, login, make_user):
    make_user("bob")
    login("ann")
    response = client.post("/follow/bob", headers={"Accept": "application/json"})
    assert response.get_json() == {"following": True, "followers": 1}
    response = client.post("/unfollow/bob", headers={"Accept": "application/json"})
    assert response.get_json() == {"following": False, "followers": 0}


def post_bodies(response) -> list[str]:
    return re.findall(r'<p class="post-body mb-0">(.*?)</p>', response.text, flags=re.S)


def test_home_timeline_has_own_and_followed_posts_newest_first(app, client, login, make_user):
    make_user("bob", posts=2)
    make_user("carl", posts=1)  # not followed
    make_user("dora", posts=1)
    login("ann")
    client.post("/follow/bob")
    client.post("/follow/dora")
    client.post("/", data=post_form("Ann's own post"))
    assert post_bodies(client.get("/")) == [
        "Ann&#39;s own post",
        "Post 0 by dora",
        "Post 1 by bob",
        "Post 0 by bob",
    ]
    client.post("/unfollow/bob")
    assert post_bodies(client.get("/")) == ["Ann&#39;s own post", "Post 0 by dora"]


def test_explore_still_shows_everyone(client, login, make_user):
    make_user("carl", posts=1)
    login("ann")
    assert "Post 0 by carl" in text_of(client.get("/explore"))


def test_profile_shows_counts_and_the_follow_button_state(client, login, make_user):
    make_user("bob", posts=3)
    login("ann")
    text = text_of(client.get("/user/bob"))
    assert "3 posts 0 followers 0 following" in text
    assert "Follow" in text and "Unfollow" not in text
    client.post("/follow/bob")
    response = client.get("/user/bob")
    assert "3 posts 1 follower 0 following" in text_of(response)
    assert "Unfollow" in text_of(response)
    assert 'href="/user/bob/followers"><strong class="followers-of-' in response.text


def test_no_follow_button_for_visitors_or_on_ones_own_profile(client, login, make_user):
    make_user("bob")
    assert 'class="follow-form"' not in client.get("/user/bob").get_data(as_text=True)
    assert 'class="follow-form"' not in client.get("/user/bob/popup").get_data(as_text=True)
    login("ann")
    assert 'class="follow-form"' not in client.get("/user/ann").get_data(as_text=True)
    assert 'class="follow-form"' not in client.get("/user/ann/popup").get_data(as_text=True)


def test_hover_card_has_counts_and_a_follow_button_for_the_reader(client, login, make_user):
    make_user("bob", posts=2)
    login("ann")
    response = client.get("/user/bob/popup")
    html = response.get_data(as_text=True)
    assert "2 posts 0 followers 0 following" in text_of(response)
    assert 'data-follow-url="/follow/bob"' in html and 'data-following="false"' in html
    client.post("/follow/bob")
    html = client.get("/user/bob/popup").get_data(as_text=True)
    assert 'data-following="true"' in html and ">Unfollow</button>" in html


def test_follower_and_following_lists_newest_first_with_state(app, client, login, make_user):
    for name in ("bob", "carl", "dora"):
        make_user(name)
    login("ann")
    for name in ("bob", "carl", "dora"):
        client.post(f"/follow/{name}")
    client.post("/auth/logout")
    login("bob", create=False)
    client.post("/follow/carl")

    following = client.get("/user/ann/following")
    html = following.get_data(as_text=True)
    listed = re.findall(r'<a class="user_popup fw-semibold" href="/user/(\w+)"', html)
    assert listed == ["dora", "carl", "bob"]
    assert html.count(">Unfollow</button>") == 1  # bob follows carl only; bob sees no own button
    assert html.count(">Follow</button>") == 1  # dora

    followers = client.get("/user/carl/followers")
    assert "People following carl" in text_of(followers)
    listed = re.findall(r'class="user_popup fw-semibold" href="/user/(\w+)"', followers.text)
    assert listed == ["bob", "ann"]


def test_follow_lists_paginate_and_404(app, client, login, make_user):
    app.config["POSTS_PER_PAGE"] = 2
    login("ann")
    for n in range(3):
        make_user(f"user{n}")
        client.post(f"/follow/user{n}")
    assert "user0" in text_of(client.get("/user/ann/following?page=2"))
    assert client.get("/user/ann/following?page=3").status_code == 404
    assert client.get("/user/nobody/followers").status_code == 404
    assert "Nobody yet." in text_of(client.get("/user/ann/followers"))


@pytest.mark.parametrize("relation", ["followers", "following"])
def test_follow_list_statement_count_does_not_grow_with_page_size(
    app, client, login, make_user, sql_log, relation
):
    login("ann")
    counts = []
    for per_page in (10, 50):
        app.config["POSTS_PER_PAGE"] = per_page
        star = f"star{per_page}"
        star_id = make_user(star)
        for n in range(per_page):
            fan_id = make_user(f"fan{per_page}_{n}")
            with app.app_context():
                fan, star_user = db.session.get(User, fan_id), db.session.get(User, star_id)
                (fan.follow(star_user) if relation == "followers" else star_user.follow(fan))
                db.session.commit()
        sql_log.clear()
        response = client.get(f"/user/{star}/{relation}")
        assert response.get_data(as_text=True).count('class="list-group-item d-flex') == per_page
        counts.append(len(sql_log))
    print(f"statements for /user/<name>/{relation}: {counts[0]} (10), {counts[1]} (50)")
    assert counts[0] == counts[1]


FORM_KEYS = [new_submission_key() for _ in range(3)]


@pytest.mark.parametrize("seed", range(5))
def test_stored_counts_never_drift(app, make_user, seed):
    rng = random.Random(seed)
    ids = [make_user(f"user{n}") for n in range(6)]
    with app.app_context():
        for _ in range(200):
            actor = db.session.get(User, rng.choice(ids))
            other = db.session.get(User, rng.choice(ids))
            action = rng.choice(["follow", "unfollow", "post", "post form", "delete"])
            if action == "follow" and actor is not other:
                actor.follow(other)
            elif action == "unfollow":
                actor.unfollow(other)
            elif action == "post":
                actor.publish(f"post {rng.random()}")
            elif action == "post form":  # a few forms, each sent several times
                publish_once(actor, "from a form", rng.choice(FORM_KEYS))
            elif action == "delete":
                post = db.session.scalar(actor.posts_newest_first().limit(1))
                if post is not None:
                    actor.delete_post(post)
            db.session.commit()

        stored = {u.id: (u.posts_count, u.followers_count, u.following_count) for u in all_users()}
        actual = {
            user_id: (
                count(sa.select(Post).where(Post.author_id == user_id)),
                count(sa.select(Follow).where(Follow.followed_id == user_id)),
                count(sa.select(Follow).where(Follow.follower_id == user_id)),
            )
            for user_id in ids
        }
        assert stored == actual
        User.recount()
        db.session.commit()
        assert {
            u.id: (u.posts_count, u.followers_count, u.following_count) for u in all_users()
        } == actual


def all_users() -> list[User]:
    db.session.expire_all()
    return db.session.scalars(sa.select(User)).all()


def count(stmt: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


def test_a_follow_race_lost_at_the_primary_key_changes_nothing_twice(
    app, client, login, make_user, monkeypatch
):
    make_user("bob")
    login("ann")
    client.post("/follow/bob")
    # A second request that checked before the first one committed.
    monkeypatch.setattr(User, "is_following", lambda self, user: False)
    response = client.post("/follow/bob", headers={"Accept": "application/json"})
    assert response.get_json() == {"following": True, "followers": 1}
    assert user_named(app, "bob").followers_count == 1
    assert user_named(app, "ann").following_count == 1


def test_only_the_author_can_delete_a_post_in_the_model(app, make_user):
    make_user("ann")
    make_user("bob")
    with app.app_context():
        post = User.find("ann").publish("mine")
        db.session.flush()
        with pytest.raises(ValueError, match="Only the author"):
            User.find("bob").delete_post(post)
