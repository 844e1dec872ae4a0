"""Replies and threads, mentions, likes and notifications."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Moderation, Notification, Post, PostLike, Role, User, delete_account
from tests.helpers import post_form, publish, signed_in_client


def user_named(name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == name))


def only_post_of(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Post.id).join(User).where(User.username == name).order_by(Post.id.desc())
        )


def reply(client, post_id: int, body: str):
    return client.post(f"/post/{post_id}/reply", data=post_form(body))


def notifications_of(app, name: str) -> list[tuple[str, str, int | None, bool]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Notification.kind, User.username, Notification.post_id, Notification.read)
            .join(User, User.id == Notification.actor_id)
            .where(Notification.user_id == user_named(name).id)
            .order_by(Notification.id)
        ).all()
        return [(kind.value, actor, post_id, read) for kind, actor, post_id, read in rows]


def unread_count(app, name: str) -> int:
    with app.app_context():
        return user_named(name).unread_notifications


def card_of(html: str, post_id: int) -> str:
    start = html.index(f'id="post-{post_id}"')
    return html[start : html.index("</article>", start)]


@pytest.fixture
def ann_and_bob(app, make_user):
    """bob wrote one post; a client signed in as ann."""
    make_user("bob", posts=1)
    ann = make_user("ann")
    return signed_in_client(app, ann), only_post_of(app, "bob")


# Replies -------------------------------------------------------------------------------------


def test_a_reply_lands_in_the_thread_counts_and_notifies(app, ann_and_bob):
    client, bobs = ann_and_bob
    response = reply(client, bobs, "Nice <b>post</b>")
    reply_id = only_post_of(app, "ann")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/post/{reply_id}"
    thread = client.get(f"/post/{bobs}").get_data(as_text=True)
    assert "1 reply" in thread
    replies = thread[thread.index('id="replies"') :]
    assert "Nice &lt;b&gt;post&lt;/b&gt;" in card_of(replies, reply_id)
    # The reply's own page shows what it answers above it, and says whom it answers.
    own = client.get(f"/post/{reply_id}").get_data(as_text=True)
    assert own.index(f'id="post-{bobs}"') < own.index(f'id="post-{reply_id}"')
    assert "Replying to" in card_of(own, reply_id) and "@bob</a>" in card_of(own, reply_id)
    assert notifications_of(app, "bob") == [("reply", "ann", reply_id, False)]
    # A reply is a post: in its author's profile and in explore.
    assert f'id="post-{reply_id}"' in client.get("/user/ann").get_data(as_text=True)
    assert f'id="post-{reply_id}"' in client.get("/explore").get_data(as_text=True)


def test_a_reply_sent_empty_is_refused_with_a_message_and_writes_nothing(app, ann_and_bob):
    client, bobs = ann_and_bob
    response = reply(client, bobs, "   ")
    assert response.status_code == 422
    assert "Write something first." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
        assert db.session.get(Post, bobs).replies_count == 0


def test_the_same_reply_form_sent_twice_is_one_reply(app, ann_and_bob):
    client, bobs = ann_and_bob
    form = post_form("Once")
    client.post(f"/post/{bobs}/reply", data=form)
    again = client.post(f"/post/{bobs}/reply", data=form)
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(Post, bobs).replies_count == 1


@pytest.mark.parametrize("target", ["999999", "99999999999999999999"])
def test_replying_to_a_missing_post_is_a_404(ann_and_bob, target):
    client, _ = ann_and_bob
    assert client.post(f"/post/{target}/reply", data=post_form("Hello")).status_code == 404


def test_visitors_are_asked_to_log_in_to_reply(client, ann_and_bob):
    _, bobs = ann_and_bob
    assert "to reply" in client.get(f"/post/{bobs}").get_data(as_text=True)
    response = client.post(f"/post/{bobs}/reply", data=post_form("Hello"))
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_a_deleted_post_leaves_its_replies_and_their_thread_says_so(app, ann_and_bob, make_user):
    client, bobs = ann_and_bob
    reply(client, bobs, "First!")
    reply_id = only_post_of(app, "ann")
    bob = signed_in_client(app, 1)
    assert bob.post(f"/post/{bobs}/delete").status_code == 302
    thread = client.get(f"/post/{reply_id}").get_data(as_text=True)
    assert "This post was deleted." in thread
    assert re.search(r"Replying to\s*a deleted post</p>", card_of(thread, reply_id))
    with app.app_context():
        assert db.session.get(Post, reply_id).reply_to_id == bobs  # still says what it answered


def test_deleting_a_reply_lowers_the_count_and_withdraws_its_notification(app, ann_and_bob):
    client, bobs = ann_and_bob
    reply(client, bobs, "Oops")
    reply_id = only_post_of(app, "ann")
    assert unread_count(app, "bob") == 1
    assert client.post(f"/post/{reply_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Post, bobs).replies_count == 0
    assert (notifications_of(app, "bob"), unread_count(app, "bob")) == ([], 0)


def test_a_long_chain_shows_its_last_posts_and_links_to_the_earlier_part(app, ann_and_bob):
    client, bobs = ann_and_bob
    answered = bobs
    for n in range(7):
        reply(client, answered, f"Reply {n}")
        answered = only_post_of(app, "ann")
    thread = client.get(f"/post/{answered}").get_data(as_text=True)
    chain = thread[: thread.index(f'id="post-{answered}"')]
    shown = re.findall(r'id="post-(\d+)"', chain)
    assert len(shown) == 5
    assert f'id="post-{bobs}"' not in chain
    earliest_hidden = int(shown[0]) - 1
    assert f'href="/post/{earliest_hidden}">Show earlier posts' in chain


def chain_of(html: str, post_id: int) -> str:
    """The HTML of the chain above the post a thread page is about."""
    return html[
        html.index('aria-label="Earlier in the thread"') : html.index(f'id="post-{post_id}"')
    ]


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_post_the_reader_does_not_see_keeps_its_place_in_the_chain(app, make_user):
    ann_id, bob_id, cyd_id = make_user("ann"), make_user("bob"), make_user("cyd")
    ids = [publish(app, bob_id, "Bob starts")]
    for author_id, body in ((cyd_id, "Cyd replies"), (bob_id, "Bob again"), (ann_id, "Ann asks")):
        ids.append(publish(app, author_id, body, reply_to=ids[-1]))
    with app.app_context():
        Moderation(by=None).hide_post(db.session.get(Post, ids[1]), "spam")
        db.session.commit()
    ann = signed_in_client(app, ann_id)
    assert ann.post("/user/bob/mute").status_code == 302
    chain = chain_of(ann.get(f"/post/{ids[3]}").text, ids[3])
    assert re.findall(r"This post is (hidden|by an account you muted)", chain) == [
        "by an account you muted",
        "hidden",
        "by an account you muted",
    ]
    assert "Bob" not in words(chain) and "Cyd" not in words(chain)
    assert "was deleted" not in chain
    # She may still open a muted account's post; not one hidden by a moderator.
    assert re.findall(r'href="/post/(\d+)">Show this post', chain) == [str(ids[0]), str(ids[2])]
    assert 'Show this post<span class="visually-hidden"> by bob</span>' in chain  # which one
    visitor = words(chain_of(app.test_client().get(f"/post/{ids[3]}").text, ids[3]))
    assert re.search(r"Bob starts .* This post is hidden\. .* Bob again", visitor)
    assert "Show this post" not in visitor


def test_a_long_chain_links_to_the_oldest_post_the_reader_may_open(app, ann_and_bob, make_user):
    ann, bobs = ann_and_bob
    ids = [bobs]
    for n in range(7):
        reply(ann, ids[-1], f"Reply {n}")
        ids.append(only_post_of(app, "ann"))
    # The chain above the last reply: ids[2] to ids[6], and ids[1] beyond it.
    with app.app_context():
        for hidden in ids[1:3]:
            Moderation(by=None).hide_post(db.session.get(Post, hidden), "spam")
        db.session.commit()
    cyd = signed_in_client(app, make_user("cyd"))
    thread = cyd.get(f"/post/{ids[7]}").text
    assert f'href="/post/{ids[3]}">Show earlier posts' in thread
    chain = chain_of(thread, ids[7])
    assert chain.count("This post is hidden.") == 1 and "Show this post" not in chain
    assert "was deleted" not in chain
    # Their author may open them.
    thread = ann.get(f"/post/{ids[7]}").text
    assert f'href="/post/{ids[1]}">Show earlier posts' in thread
    assert f'href="/post/{ids[2]}">Show this post' in chain_of(thread, ids[7])


@pytest.mark.parametrize("hidden", [False, True], ids=["shown", "hidden"])
def test_whether_a_list_may_open_a_post_is_whether_its_page_opens(app, make_user, hidden):
    names = ("ann", "mod", "admin", "blocked", "blocker", "muter", "reader")
    ids = {name: make_user(name) for name in names}
    post_id = publish(app, ids["ann"], "Hello")
    with app.app_context():
        users = {name: db.session.get(User, user_id) for name, user_id in ids.items()}
        users["mod"].role = Role.MODERATOR
        users["admin"].role = Role.ADMIN
        users["ann"].block(users["blocked"])
        users["blocker"].block(users["ann"])
        users["muter"].mute(users["ann"])
        post = db.session.get(Post, post_id)
        if hidden:
            Moderation(by=None).hide_post(post, "spam")
        db.session.commit()
        for viewer in [None, *users.values()]:
            condition = Post.visible_to_condition(viewer)
            listed = db.session.scalar(sa.select(condition).where(Post.id == post_id))
            assert bool(listed) is post.visible_to(viewer), viewer


def test_replies_are_oldest_first_and_paged(app, ann_and_bob):
    app.config["POSTS_PER_PAGE"] = 2
    client, bobs = ann_and_bob
    for n in range(3):
        reply(client, bobs, f"Answer {n}")
    first = client.get(f"/post/{bobs}").get_data(as_text=True)
    second = client.get(f"/post/{bobs}?page=2").get_data(as_text=True)
    assert first.index("Answer 0") < first.index("Answer 1") and "Answer 2" not in first
    assert "Answer 2" in second and "Answer 0" not in second
    assert client.get(f"/post/{bobs}?page=3").status_code == 404


def test_cards_show_reply_and_like_counts(app, ann_and_bob):
    client, bobs = ann_and_bob
    reply(client, bobs, "One")
    client.post(f"/post/{bobs}/like")
    card = card_of(client.get("/explore").get_data(as_text=True), bobs)
    assert f'href="/post/{bobs}#replies">1 reply</a>' in card
    assert f'href="/post/{bobs}/likes">1 like</a>' in card
    assert 'aria-pressed="true"' in card and f'action="/post/{bobs}/unlike"' in card


# Mentions and links --------------------------------------------------------------------------


def test_a_mention_links_the_account_and_notifies_it(app, ann_and_bob, make_user):
    client, _ = ann_and_bob
    make_user("Cid")
    client.post("/", data=post_form("Hi @cid and @nobody, see https://example.com/a?b=1&c=2"))
    post_id = only_post_of(app, "ann")
    card = card_of(client.get("/explore").get_data(as_text=True), post_id)
    assert (
        '<a class="user_popup" href="/user/Cid" data-popup-url="/user/Cid/popup">@cid</a>' in card
    )
    assert "@nobody" in card and 'href="/user/nobody"' not in card
    assert 'href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener ugc"' in card
    assert notifications_of(app, "Cid") == [("mention", "ann", post_id, False)]


def test_a_reply_that_mentions_the_author_it_answers_notifies_once(app, ann_and_bob):
    client, bobs = ann_and_bob
    reply(client, bobs, "@bob yes")
    assert [kind for kind, *_ in notifications_of(app, "bob")] == ["reply"]


def test_editing_a_mention_away_withdraws_it_and_a_new_one_notifies(app, ann_and_bob, make_user):
    client, _ = ann_and_bob
    make_user("cid")
    client.post("/", data=post_form("Hi @bob"))
    post_id = only_post_of(app, "ann")
    client.post(f"/post/{post_id}/edit", data={"body": "Hi @cid"})
    assert (notifications_of(app, "bob"), unread_count(app, "bob")) == ([], 0)
    assert notifications_of(app, "cid") == [("mention", "ann", post_id, False)]
    card = card_of(client.get(f"/post/{post_id}").get_data(as_text=True), post_id)
    assert 'href="/user/cid"' in card and 'href="/user/bob"' not in card


def test_mentioning_yourself_notifies_nobody(app, ann_and_bob):
    client, _ = ann_and_bob
    client.post("/", data=post_form("Note to @ann"))
    assert notifications_of(app, "ann") == []


# Likes ---------------------------------------------------------------------------------------


def test_like_and_unlike_answer_json_and_count(app, ann_and_bob):
    client, bobs = ann_and_bob
    headers = {"Accept": "application/json"}
    assert client.post(f"/post/{bobs}/like", headers=headers).json == {"liked": True, "likes": 1}
    assert client.post(f"/post/{bobs}/like", headers=headers).json == {"liked": True, "likes": 1}
    assert notifications_of(app, "bob") == [("like", "ann", bobs, False)]
    assert client.post(f"/post/{bobs}/unlike", headers=headers).json == {"liked": False, "likes": 0}
    assert client.post(f"/post/{bobs}/unlike", headers=headers).json == {"liked": False, "likes": 0}
    assert (notifications_of(app, "bob"), unread_count(app, "bob")) == ([], 0)


def test_a_like_without_javascript_goes_back_where_it_came_from(app, ann_and_bob):
    client, bobs = ann_and_bob
    response = client.post(f"/post/{bobs}/like", data={"next": "/explore?page=1"})
    assert response.headers["Location"] == "/explore?page=1"
    outside = client.post(f"/post/{bobs}/unlike", data={"next": "https://evil.example/"})
    assert outside.headers["Location"] == f"/post/{bobs}"


def test_liking_a_missing_post_is_a_404_and_visitors_must_log_in(client, ann_and_bob):
    signed_in, bobs = ann_and_bob
    assert signed_in.post("/post/999999/like").status_code == 404
    assert client.post(f"/post/{bobs}/like").status_code == 302
    with client.application.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PostLike)) == 0


def test_a_like_needs_the_form_token(app, ann_and_bob):
    app.config["WTF_CSRF_ENABLED"] = True
    client, bobs = ann_and_bob
    assert client.post(f"/post/{bobs}/like").status_code == 400


def test_the_likes_page_lists_who_liked_newest_first(app, ann_and_bob, make_user):
    client, bobs = ann_and_bob
    client.post(f"/post/{bobs}/like")
    signed_in_client(app, make_user("cid")).post(f"/post/{bobs}/like")
    page = client.get(f"/post/{bobs}/likes").get_data(as_text=True)
    assert "2 people like this post" in page
    listed = page[page.index('<ul class="list-group') :]
    assert listed.index('href="/user/cid"') < listed.index('href="/user/ann"')
    assert client.get("/post/999999/likes").status_code == 404


def test_likes_of_one_post_are_one_line_of_notifications(app, ann_and_bob, make_user):
    client, bobs = ann_and_bob
    client.post(f"/post/{bobs}/like")
    for name in ("cid", "dan"):
        signed_in_client(app, make_user(name)).post(f"/post/{bobs}/like")
    bob = signed_in_client(app, 1)
    page = bob.get("/notifications").get_data(as_text=True)
    assert re.search(r"dan</a></span> and 2 others\s*<a href=\"/post/\d+\">liked your post", page)
    assert page.count('class="list-group-item') == 1


# Notifications -------------------------------------------------------------------------------


def test_follows_notify_and_unfollowing_takes_back_the_unread_one(app, ann_and_bob):
    client, _ = ann_and_bob
    client.post("/follow/bob")
    assert notifications_of(app, "bob") == [("follow", "ann", None, False)]
    client.post("/unfollow/bob")
    assert (notifications_of(app, "bob"), unread_count(app, "bob")) == ([], 0)


def test_an_undo_after_reading_keeps_the_read_notification(app, ann_and_bob):
    client, _ = ann_and_bob
    client.post("/follow/bob")
    signed_in_client(app, 1).get("/notifications")
    client.post("/unfollow/bob")
    assert notifications_of(app, "bob") == [("follow", "ann", None, True)]


def test_the_badge_counts_unread_and_clears_when_the_page_is_opened(app, ann_and_bob):
    client, bobs = ann_and_bob
    client.post("/follow/bob")
    client.post(f"/post/{bobs}/like")
    bob = signed_in_client(app, 1)
    badge = r'notifications-badge">2<span class="visually-hidden"> unread</span>'
    assert re.search(badge, bob.get("/explore").get_data(as_text=True))
    page = bob.get("/notifications").get_data(as_text=True)
    assert "notifications-badge" not in page
    assert page.count(">New</span>") == 2  # marked as new this once
    assert ">New</span>" not in bob.get("/notifications").get_data(as_text=True)
    assert unread_count(app, "bob") == 0
    assert "followed you." in page and "liked your post" in page


def test_an_empty_page_says_what_will_arrive_and_visitors_must_log_in(app, client, make_user):
    assert client.get("/notifications").status_code == 302
    client = signed_in_client(app, make_user("ann"))
    assert "Nothing yet" in client.get("/notifications").get_data(as_text=True)
    assert client.get("/notifications?page=2").status_code == 404


# Accounts ------------------------------------------------------------------------------------


def test_deleting_an_account_corrects_every_count_it_touched(app, ann_and_bob):
    client, bobs = ann_and_bob
    reply(client, bobs, "Bye @bob")
    client.post(f"/post/{bobs}/like")
    client.post("/follow/bob")
    with app.app_context():
        delete_account(user_named("ann"))
        db.session.commit()
        post = db.session.get(Post, bobs)
        assert (post.replies_count, post.likes_count) == (0, 0)
        assert user_named("bob").unread_notifications == 0
    assert notifications_of(app, "bob") == []


# Undos and deletes that race ---------------------------------------------------------------


def delete_behind_the_sessions_back(app, stmt) -> None:
    """Run ``stmt`` on a connection of its own, as a request in parallel would."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(stmt)


def test_an_unlike_that_finds_the_like_already_gone_changes_no_count(app, ann_and_bob):
    client, bobs = ann_and_bob
    client.post(f"/post/{bobs}/like")
    with app.app_context():
        ann, post = user_named("ann"), db.session.get(Post, bobs)
        assert ann.likes(post)  # the like is in this session's view
        delete_behind_the_sessions_back(app, sa.update(Post).values(likes_count=0))
        delete_behind_the_sessions_back(app, sa.delete(PostLike))
        assert ann.unlike(post) is False
        db.session.commit()
        assert db.session.get(Post, bobs).likes_count == 0


def test_a_post_deleted_twice_counts_once(app, ann_and_bob):
    client, _ = ann_and_bob
    client.post("/", data=post_form("Mine"))
    mine = only_post_of(app, "ann")
    with app.app_context():
        ann, post = user_named("ann"), db.session.get(Post, mine)
        delete_behind_the_sessions_back(app, sa.delete(Post).where(Post.id == mine))
        assert ann.delete_post(post) is False
        db.session.rollback()
        assert user_named("ann").posts_count == 1  # the first deleter's count is its own
    assert client.post(f"/post/{mine}/delete").status_code == 404


def test_a_like_given_again_after_reading_is_still_one_person(app, ann_and_bob):
    client, bobs = ann_and_bob
    client.post(f"/post/{bobs}/like")
    bob = signed_in_client(app, 1)
    bob.get("/notifications")
    client.post(f"/post/{bobs}/unlike")
    client.post(f"/post/{bobs}/like")
    page = bob.get("/notifications").get_data(as_text=True)
    assert "other" not in page  # "ann liked your post", twice in time, once in people


def test_an_edit_that_mentions_the_author_answered_adds_no_second_notification(app, ann_and_bob):
    client, bobs = ann_and_bob
    reply(client, bobs, "Agreed")
    reply_id = only_post_of(app, "ann")
    client.post(f"/post/{reply_id}/edit", data={"body": "Agreed, @bob"})
    assert [kind for kind, *_ in notifications_of(app, "bob")] == ["reply"]


def test_a_page_of_notifications_past_any_list_is_a_404(app, make_user):
    client = signed_in_client(app, make_user("ann"))
    assert client.get("/notifications?page=100000000000000000000").status_code == 404
