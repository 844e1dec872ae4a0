"""Blocking and muting: what each does to follows, replies, mentions, feeds, searches and
notifications, and how it is undone."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Block, Moderation, Mute, Notification, Post, User, delete_account
from tests.helpers import post_form, publish, signed_in_client, text_of


def user(app, user_id: int) -> User:
    with app.app_context():
        return db.session.get(User, user_id)


def follow(app, follower_id: int, followed_id: int) -> None:
    with app.app_context():
        db.session.get(User, follower_id).follow(db.session.get(User, followed_id))
        db.session.commit()


@pytest.fixture
def ann_and_bob(app, make_user):
    """ann and bob follow each other and each wrote a post with a tag."""
    ann_id, bob_id = make_user("ann"), make_user("bob")
    follow(app, ann_id, bob_id)
    follow(app, bob_id, ann_id)
    publish(app, ann_id, "Ann writes about #tea")
    publish(app, bob_id, "Bob writes about #tea")
    return ann_id, bob_id


FEEDS = ("/", "/explore", "/tag/tea", "/search?q=writes")


def test_a_block_ends_follows_both_ways_and_hides_posts_both_ways(app, ann_and_bob):
    ann_id, bob_id = ann_and_bob
    ann, bob = signed_in_client(app, ann_id), signed_in_client(app, bob_id)
    response = ann.post("/user/bob/block", follow_redirects=True)
    assert "You blocked bob." in text_of(response)
    assert user(app, ann_id).following_count == 0 and user(app, ann_id).followers_count == 0
    assert (user(app, ann_id).screened_count, user(app, bob_id).screened_count) == (1, 1)
    for path in FEEDS:
        assert "Bob writes" not in text_of(ann.get(path)), path
        assert "Ann writes" not in text_of(bob.get(path)), path
    assert "bob blocked" not in text_of(bob.get("/user/ann"))
    assert "ann blocked you" in text_of(bob.get("/user/ann"))
    assert "You blocked bob" in text_of(ann.get("/user/bob"))
    # A visitor sees both.
    visitor = app.test_client()
    assert "Bob writes" in text_of(visitor.get("/explore"))


def test_the_blocked_cannot_follow_answer_like_or_mention_the_blocker(app, ann_and_bob):
    ann_id, bob_id = ann_and_bob
    post_id = publish(app, ann_id, "Another post by ann")
    signed_in_client(app, ann_id).post("/user/bob/block")
    bob = signed_in_client(app, bob_id)
    response = bob.post("/follow/ann")
    assert response.status_code == 403 and "You cannot follow ann." in text_of(response)
    assert bob.post(f"/post/{post_id}/reply", data=post_form("hi")).status_code == 404
    assert bob.post(f"/post/{post_id}/like").status_code == 404
    assert bob.get(f"/post/{post_id}").status_code == 404
    unread = user(app, ann_id).unread_notifications
    bob.post("/", data=post_form("Hey @ann, look"))
    assert user(app, ann_id).unread_notifications == unread
    # The blocker cannot follow the blocked either, until they unblock.
    ann = signed_in_client(app, ann_id)
    assert ann.post("/follow/bob").status_code == 403
    ann.post("/user/bob/unblock")
    assert ann.post("/follow/bob").status_code == 302
    assert (user(app, ann_id).screened_count, user(app, bob_id).screened_count) == (0, 0)


def test_a_block_removes_the_notifications_between_them(app, make_user):
    ann_id, bob_id = make_user("ann"), make_user("bob")
    post_id = publish(app, ann_id, "Ann's post")
    with app.app_context():
        bob = db.session.get(User, bob_id)
        bob.like(db.session.get(Post, post_id))
        bob.follow(db.session.get(User, ann_id))
        db.session.commit()
    assert user(app, ann_id).unread_notifications == 2
    signed_in_client(app, ann_id).post("/user/bob/block")
    assert user(app, ann_id).unread_notifications == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_a_mute_takes_their_posts_out_of_feeds_and_notifications_quietly(app, ann_and_bob):
    ann_id, bob_id = ann_and_bob
    publish(app, bob_id, "Hello @ann")
    assert user(app, ann_id).unread_notifications == 2  # bob's follow, and the mention
    ann = signed_in_client(app, ann_id)
    response = ann.post("/user/bob/mute", follow_redirects=True)
    assert "You muted bob." in text_of(response)
    assert user(app, ann_id).unread_notifications == 0
    for path in FEEDS:
        assert "Bob writes" not in text_of(ann.get(path)), path
    assert "Bob writes" in text_of(ann.get("/user/bob"))  # a visit is a choice
    publish(app, bob_id, "Again @ann")
    assert user(app, ann_id).unread_notifications == 0
    # bob sees nothing changed, and still follows ann.
    assert "Ann writes" in text_of(signed_in_client(app, bob_id).get("/"))
    assert user(app, bob_id).following_count == 1
    ann.post("/user/bob/unmute")
    assert "Bob writes" in text_of(ann.get("/"))


@pytest.mark.parametrize("screen", ["mute", "block"])
def test_screened_feeds_page_exactly(app, make_user, screen):
    """A reader who screens someone out gets full pages and a pager that adds up."""
    app.config["POSTS_PER_PAGE"] = 5
    ann_id, bob_id, cyd_id = make_user("ann"), make_user("bob"), make_user("cyd")
    follow(app, ann_id, cyd_id)
    follow(app, ann_id, bob_id)
    for n in range(12):
        publish(app, bob_id if n % 2 else cyd_id, f"Post {n} #mixed")
    ann = signed_in_client(app, ann_id)
    ann.post(f"/user/bob/{screen}")
    for path in ("/", "/explore", "/tag/mixed"):
        seen, page = [], 1
        while True:
            response = ann.get(path, query_string={"page": page})
            assert response.status_code == 200
            html = text_of(response)
            seen += [n for n in range(12) if f"Post {n} " in html]
            if f"?page={page + 1}" not in response.get_data(as_text=True):
                break
            page += 1
        assert sorted(seen) == [0, 2, 4, 6, 8, 10], path
        assert page == 2, path
        assert ann.get(path, query_string={"page": 3}).status_code == 404


def test_a_screened_feed_costs_no_more_statements(app, make_user, sql_log):
    ann_id = make_user("ann")
    make_user("bob", posts=3)
    make_user("cyd", posts=3)
    ann = signed_in_client(app, ann_id)
    counts = []
    for _ in range(2):
        sql_log.clear()
        assert ann.get("/explore").status_code == 200
        counts.append(len(sql_log))
        ann.post("/user/bob/mute")
    assert counts[1] == counts[0]


def test_blocked_and_muted_are_listed_in_settings_and_undone_there(app, make_user):
    ann_id = make_user("ann")
    make_user("bob")
    make_user("cyd")
    ann = signed_in_client(app, ann_id)
    ann.post("/user/bob/block")
    ann.post("/user/cyd/mute")
    page = text_of(ann.get("/settings/blocked"))
    assert "Unblock bob" in page and "Unmute cyd" in page
    response = ann.post("/user/bob/unblock", data={"next": "/settings/blocked"})
    assert response.location.endswith("/settings/blocked")
    assert "You have blocked nobody." in text_of(ann.get("/settings/blocked"))


def test_the_safety_page_is_reached_from_the_profile_and_the_hover_card(app, make_user):
    ann_id = make_user("ann")
    make_user("bob")
    ann = signed_in_client(app, ann_id)
    for path in ("/user/bob", "/user/bob/popup"):
        assert 'href="/user/bob/safety"' in ann.get(path).get_data(as_text=True)
    page = text_of(ann.get("/user/bob/safety"))
    assert "Block bob" in page and "Mute bob" in page and "Report bob" in page
    assert "/user/bob/safety" not in app.test_client().get("/user/bob").get_data(as_text=True)


@pytest.mark.parametrize("action", ["block", "unblock", "mute", "unmute"])
def test_nobody_blocks_or_mutes_themself_or_a_stranger_who_is_not_there(app, make_user, action):
    ann = signed_in_client(app, make_user("ann"))
    assert ann.post(f"/user/ann/{action}").status_code == 400
    assert ann.post(f"/user/nobody/{action}").status_code == 404
    assert ann.post(f"/user/{'x' * 5000}/{action}").status_code == 404
    assert app.test_client().post(f"/user/ann/{action}").status_code == 302  # to sign in


def test_blocking_twice_or_unblocking_a_stranger_changes_no_count(app, make_user):
    ann_id, bob_id = make_user("ann"), make_user("bob")
    ann = signed_in_client(app, ann_id)
    for _ in range(2):
        ann.post("/user/bob/block")
        ann.post("/user/bob/mute")
    assert (user(app, ann_id).screened_count, user(app, bob_id).screened_count) == (2, 1)
    for _ in range(2):
        ann.post("/user/bob/unblock")
        ann.post("/user/bob/unmute")
    assert (user(app, ann_id).screened_count, user(app, bob_id).screened_count) == (0, 0)


def test_deleting_an_account_releases_whom_it_screened(app, make_user):
    ann_id, bob_id, cyd_id = make_user("ann"), make_user("bob"), make_user("cyd")
    signed_in_client(app, ann_id).post("/user/bob/block")
    signed_in_client(app, cyd_id).post("/user/ann/mute")
    signed_in_client(app, bob_id).post("/user/ann/mute")
    with app.app_context():
        delete_account(db.session.get(User, ann_id))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Block)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Mute)) == 0
    assert (user(app, bob_id).screened_count, user(app, cyd_id).screened_count) == (0, 0)


def test_the_export_lists_blocks_mutes_and_reports(app, make_user):
    ann_id = make_user("ann")
    bob_id = make_user("bob")
    make_user("cyd")
    post_id = publish(app, bob_id, "Spam")
    ann = signed_in_client(app, ann_id)
    ann.post(f"/post/{post_id}/report", data={"reason": "spam"})
    ann.post("/user/bob/block")
    ann.post("/user/cyd/mute")
    ann.post("/user/cyd/report", data={"reason": "abuse", "note": "rude"})
    data = ann.get("/settings/export/microblog.json").get_json()
    assert [entry["username"] for entry in data["blocked"]] == ["bob"]
    assert [entry["username"] for entry in data["muted"]] == ["cyd"]
    assert [(r["account"], r["post"], r["reason"], r["note"]) for r in data["reports"]] == [
        ("bob", post_id, "spam", None),
        ("cyd", None, "abuse", "rude"),
    ]


def test_who_to_follow_leaves_out_the_screened_and_the_suspended(app, make_user):
    ann_id, bob_id = make_user("ann"), make_user("bob")
    for name in ("cyd", "dee", "eve"):
        follow(app, bob_id, make_user(name))
    follow(app, ann_id, bob_id)
    with app.app_context():
        ann = db.session.get(User, ann_id)
        assert {s.user.username for s in ann.suggested_for(limit=5)} == {"cyd", "dee", "eve"}
    ann = signed_in_client(app, ann_id)
    ann.post("/user/cyd/mute")
    signed_in_client(app, user_id_of(app, "dee")).post("/user/ann/block")
    with app.app_context():
        Moderation(by=None).suspend(
            db.session.scalar(sa.select(User).filter_by(username="eve")), "x"
        )
        db.session.commit()
        assert db.session.get(User, ann_id).suggested_for(limit=5) == []


def user_id_of(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == username))


def test_the_blocked_see_none_of_the_blockers_posts_in_threads_or_live_updates(app, make_user):
    ann_id, bob_id, cyd_id = make_user("ann"), make_user("bob"), make_user("cyd")
    question = publish(app, cyd_id, "A question")
    answer = publish(app, ann_id, "Ann answers", reply_to=question)
    follow_up = publish(app, cyd_id, "Cyd answers ann", reply_to=answer)
    publish(app, ann_id, "Ann again", reply_to=follow_up)
    signed_in_client(app, ann_id).post("/user/bob/block")
    bob = signed_in_client(app, bob_id)
    page = text_of(bob.get(f"/post/{follow_up}"))
    assert "Cyd answers ann" in page
    assert "Ann answers" not in page and "Ann again" not in page
    assert "0 replies" in text_of(bob.get(f"/post/{question}"))
    assert bob.get(f"/live/posts?feed=user:{ann_id}&after=1").status_code == 404
    assert "Ann answers" in text_of(signed_in_client(app, cyd_id).get(f"/post/{question}"))
