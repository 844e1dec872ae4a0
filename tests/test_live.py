"""Live updates: what an open page learns when it checks, and the cards it then fetches."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.live.feeds import MAX_COUNTED
from app.models import Post, User
from tests.conftest import PASSWORD
from tests.helpers import post_form, signed_in_client, writes_in


def newest_post_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(Post.id))) or 0


def post_as(client, body: str, reply_to: int | None = None) -> int:
    path = f"/post/{reply_to}/reply" if reply_to else "/"
    assert client.post(path, data=post_form(body)).status_code == 302
    app = client.application
    with app.app_context():
        return db.session.scalar(sa.select(Post.id).where(Post.body == body))


def check(client, feed: str | None = None, after: int | str = 0, **headers):
    query = "" if feed is None else f"?feed={feed}&after={after}"
    return client.get(f"/live/check{query}", headers=headers)


def card_ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'<article [^>]*id="post-(\d+)"', response.text)]


@pytest.fixture
def people(app, make_user):
    """ann follows bob, not cal; each wrote 2 posts. Clients signed in as ann, bob and cal."""
    ids = {name: make_user(name, posts=2) for name in ("ann", "bob", "cal")}
    clients = {name: signed_in_client(app, user_id) for name, user_id in ids.items()}
    with app.app_context():
        ann, bob = db.session.get(User, ids["ann"]), db.session.get(User, ids["bob"])
        ann.follow(bob)
        db.session.commit()
    return ids, clients


# What is new, feed by feed ------------------------------------------------------------------


def test_home_counts_the_readers_and_followed_posts_since_the_cursor(app, people):
    ids, clients = people
    cursor = newest_post_id(app)
    assert check(clients["ann"], "timeline", cursor).json == {
        "new_posts": 0,
        "more": False,
        "unread_notifications": 0,
    }
    post_as(clients["bob"], "Followed")
    post_as(clients["cal"], "Not followed")
    post_as(clients["ann"], "Own")
    assert check(clients["ann"], "timeline", cursor).json["new_posts"] == 2
    # cal's home has cal's post only: each reader's home is their own.
    assert check(clients["cal"], "timeline", cursor).json["new_posts"] == 1


def test_explore_profile_and_replies_count_what_belongs_to_them(app, people):
    ids, clients = people
    cursor = newest_post_id(app)
    first = post_as(clients["bob"], "bob again")
    post_as(clients["cal"], "cal answers", reply_to=first)
    post_as(clients["ann"], "ann answers", reply_to=first)
    visitor = app.test_client()
    assert check(visitor, "explore", cursor).json == {"new_posts": 3, "more": False}
    assert check(visitor, f"user:{ids['bob']}", cursor).json["new_posts"] == 1
    assert check(visitor, f"user:{ids['cal']}", cursor).json["new_posts"] == 1
    assert check(visitor, f"replies:{first}", first).json["new_posts"] == 2
    assert check(visitor, "explore", newest_post_id(app)).json["new_posts"] == 0
    # A visitor's home is what their home page shows: every post.
    assert check(visitor, "home", cursor).json["new_posts"] == 3
    assert check(visitor, "replies:999999", 0).json["new_posts"] == 0


def remember_me_token(app, username: str) -> str:
    client = app.test_client()
    login = {"username": username, "password": PASSWORD, "remember_me": "y"}
    assert client.post("/auth/login", data=login).status_code == 302
    return client.get_cookie("remember_token").value


def restarted_browser(app, token: str):
    """A browser that restarted: its session cookie is gone, its remember-me cookie kept."""
    restarted = app.test_client()
    restarted.set_cookie("remember_token", token)
    return restarted


@pytest.mark.parametrize("signed_in", ["by session", "by remember-me cookie"])
def test_only_what_the_page_would_show_is_counted(app, people, signed_in):
    ids, clients = people
    token = remember_me_token(app, "ann") if signed_in == "by remember-me cookie" else None

    def get(path: str):
        if token is None:
            return clients["ann"].get(path)
        return restarted_browser(app, token).get(path)  # every request its first since

    first = post_as(clients["cal"], "A question")
    assert clients["ann"].post("/user/bob/mute").status_code == 302  # followed, and muted
    assert clients["cal"].post("/user/ann/block").status_code == 302
    cursor = newest_post_id(app)
    post_as(clients["bob"], "Muted", reply_to=first)
    post_as(clients["cal"], "Blocking")
    own = post_as(clients["ann"], "Own")

    for feed in ("timeline", "home", "explore", f"replies:{first}"):
        after = first if feed.startswith("replies") else cursor
        shown = card_ids(get(f"/live/posts?feed={feed}&after={after}"))
        assert get(f"/live/check?feed={feed}&after={after}").json["new_posts"] == len(shown), feed
    assert card_ids(get(f"/live/posts?feed=timeline&after={cursor}")) == [own]
    # A profile shows its author's posts to whoever visits it, muted or not.
    assert get(f"/live/check?feed=user:{ids['bob']}&after={cursor}").json["new_posts"] == 1
    # Everyone else counts them all.
    assert check(clients["bob"], "explore", cursor).json["new_posts"] == 3
    assert check(app.test_client(), "explore", cursor).json["new_posts"] == 3


def test_a_long_absence_is_counted_no_further_than_the_cap(app, make_user):
    make_user("ann", posts=MAX_COUNTED + 5)
    visitor = app.test_client()
    assert check(visitor, "explore", 0).json == {"new_posts": MAX_COUNTED, "more": True}
    assert check(visitor, "explore", 5).json == {"new_posts": MAX_COUNTED, "more": False}


def test_the_badge_alone_for_a_reader_and_nothing_for_a_visitor(app, people):
    ids, clients = people
    post_id = newest_post_id(app)
    clients["bob"].post(f"/post/{post_id}/like")  # cal's newest post
    assert check(clients["cal"]).json == {"unread_notifications": 1}
    assert check(app.test_client()).status_code == 401


# Nothing leaks, nothing breaks --------------------------------------------------------------


def test_no_address_names_another_readers_home(app, people):
    ids, clients = people
    cursor = newest_post_id(app)
    post_as(clients["cal"], "Only for cal's followers and cal")
    # ann's home does not have it, whatever she adds to the address.
    for extra in ("", f"&reader_id={ids['cal']}", f"&user_id={ids['cal']}"):
        response = clients["ann"].get(f"/live/check?feed=timeline&after={cursor}{extra}")
        assert response.json["new_posts"] == 0
        response = clients["ann"].get(f"/live/posts?feed=timeline&after={cursor}{extra}")
        assert card_ids(response) == []
    # The answers are the reader's own: no shared cache may keep them.
    response = check(clients["ann"], "timeline", cursor)
    assert response.headers["Cache-Control"] == "private, no-cache"
    response = clients["ann"].get(f"/live/posts?feed=timeline&after={cursor}")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "after",
    [
        "",
        "-1",
        "abc",
        "1.5",
        "1e3",
        "٣",
        "2147483648",
        "99999999999999999999",
        "1%00",
        " 1",
        "01",
        "9" * 5000,
    ],
)
def test_a_bad_cursor_is_a_400_with_a_reason(client, make_user, after):
    make_user("ann", posts=1)
    for path in ("/live/check", "/live/posts"):
        response = client.get(f"{path}?feed=explore&after={after}")
        assert response.status_code == 400
        assert "after must be" in response.json["error"]


@pytest.mark.parametrize(
    "feed",
    ["", "timelines", "user", "user:", "user:0", "user:abc", "user:01", "replies:-3",
     "user:99999999999", "user:2147483648", "home ", "HOME", "user:1:2", "%00", "explore%0A"],
)  # fmt: skip
def test_an_unknown_feed_is_a_400_with_a_reason(client, feed):
    for path in ("/live/check", "/live/posts"):
        response = client.get(f"{path}?feed={feed}&after=0")
        assert response.status_code == 400
        assert "feed must be" in response.json["error"]


def test_fetching_posts_needs_a_feed(client):
    assert client.get("/live/posts?after=0").status_code == 400


# Cost ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("feed", ["timeline", "home", "explore", "user:1", "replies:1", None])
def test_an_idle_check_is_one_statement_and_writes_nothing(app, people, sql_log, clock, feed):
    ids, clients = people
    cursor = newest_post_id(app)
    clients["ann"].get("/")  # the page, which records the visit
    clock.advance(minutes=5)  # long enough for a visit to be recorded again
    sql_log.clear()
    response = check(clients["ann"], feed, cursor)
    assert response.status_code == 200
    assert len(sql_log) == 1, sql_log
    assert writes_in(sql_log) == []  # a check is not a visit: an open tab still goes idle


def test_a_visitors_idle_check_is_one_statement(app, people, sql_log):
    cursor = newest_post_id(app)
    sql_log.clear()
    assert check(app.test_client(), "explore", cursor).json["new_posts"] == 0
    assert len(sql_log) == 1


def test_an_unchanged_answer_is_a_304_without_a_body(app, people):
    ids, clients = people
    cursor = newest_post_id(app)
    first = check(clients["ann"], "timeline", cursor)
    again = check(clients["ann"], "timeline", cursor, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    post_as(clients["bob"], "Something new")
    changed = check(clients["ann"], "timeline", cursor, **{"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.json["new_posts"] == 1


def test_an_ended_session_checks_as_a_visitor_and_has_no_timeline(app, people, clock):
    ids, clients = people
    cursor = newest_post_id(app)
    post_as(clients["cal"], "Not on ann's timeline")
    clock.advance(days=40)
    assert check(clients["ann"], "timeline", cursor).status_code == 401  # the page stops
    assert check(clients["ann"]).status_code == 401
    assert check(clients["ann"], "explore", cursor).json == {"new_posts": 1, "more": False}
    assert clients["ann"].get(f"/live/posts?feed=timeline&after={cursor}").status_code == 401


def test_a_browser_back_with_only_its_remember_me_cookie_gets_its_own_news(app, people):
    ids, clients = people
    restarted = restarted_browser(app, remember_me_token(app, "ann"))
    cursor = newest_post_id(app)
    post_as(clients["bob"], "Followed")
    post_as(clients["cal"], "Not followed")
    assert check(restarted, "timeline", cursor).json == {
        "new_posts": 1,
        "more": False,
        "unread_notifications": 0,
    }


# The new posts' cards -----------------------------------------------------------------------


def test_new_posts_come_as_the_feeds_cards_oldest_page_first(app, people):
    ids, clients = people
    app.config["POSTS_PER_PAGE"] = 2
    cursor = newest_post_id(app)
    new = [post_as(clients["bob"], f"New {n}") for n in range(3)]
    response = clients["ann"].get(f"/live/posts?feed=timeline&after={cursor}&return_to=/")
    assert card_ids(response) == [new[1], new[0]]  # newest first, from the cursor up
    assert "<html" not in response.text
    assert '<h3 class="visually-hidden">Post by bob</h3>' in response.text
    # Their forms send the reader back to the page they are on, not to this address.
    assert 'name="next" value="/"' in response.text
    for elsewhere in ("https://evil.example/", "//evil.example/", ""):
        response = clients["ann"].get(
            f"/live/posts?feed=timeline&after={cursor}&return_to={elsewhere}"
        )
        assert 'name="next" value="/"' in response.text
    rest = clients["ann"].get(f"/live/posts?feed=timeline&after={new[1]}")
    assert card_ids(rest) == [new[2]]


def test_new_replies_come_oldest_first_and_return_to_the_thread(app, people):
    ids, clients = people
    first = post_as(clients["bob"], "A question")
    answers = [post_as(clients["cal"], f"Answer {n}", reply_to=first) for n in range(2)]
    thread = f"/post/{first}?page=2"
    response = clients["ann"].get(
        "/live/posts",
        query_string={"feed": f"replies:{first}", "after": first, "return_to": thread},
    )
    assert card_ids(response) == answers
    assert f'name="next" value="/post/{first}?page=2"' in response.text
    profile = clients["ann"].get(f"/live/posts?feed=user:{ids['cal']}&after={first}")
    assert card_ids(profile) == answers[::-1]


def test_a_visitor_gets_cards_without_forms(app, people):
    cursor = newest_post_id(app) - 1
    response = app.test_client().get(f"/live/posts?feed=explore&after={cursor}")
    assert len(card_ids(response)) == 1
    assert "csrf_token" not in response.text


# The pages that follow a feed ---------------------------------------------------------------


def live_region(response) -> dict[str, str] | None:
    """The feed a page follows, its cursor and how many new posts it shows at a time."""
    match = re.search(r'<div class="live-updates [^"]*"[^>]*>', response.text)
    if match is None:
        return None
    return dict(re.findall(r'data-live-(\w+)="([^"]*)"', match[0]))


def test_the_newest_page_of_each_feed_follows_it(app, people):
    ids, clients = people
    newest = newest_post_id(app)
    ann = clients["ann"]
    timeline = live_region(ann.get("/"))
    assert timeline == {"feed": "timeline", "after": str(newest - 2), "batch": "10"}  # not cal's
    assert live_region(ann.get("/explore")) == {
        "feed": "explore",
        "after": str(newest),
        "batch": "10",
    }
    visitor = live_region(app.test_client().get("/"))
    assert visitor == {"feed": "home", "after": str(newest), "batch": "10"}
    bob_newest = newest - 2
    assert live_region(ann.get("/user/bob")) == {
        "feed": f"user:{ids['bob']}",
        "after": str(bob_newest),
        "batch": "10",
    }
    assert 'data-interval-ms="15000"' in ann.get("/explore").text


def test_older_pages_and_empty_feeds(app, people, make_user):
    ids, clients = people
    app.config["POSTS_PER_PAGE"] = 2
    ann = clients["ann"]
    assert live_region(ann.get("/explore?page=2")) is None
    older = ann.get("/explore")
    next_link = re.search(r'href="([^"]+)" rel="next"', older.text)[1].replace("&amp;", "&")
    assert live_region(ann.get(next_link)) is None
    make_user("dan")
    empty = ann.get("/user/dan")
    assert live_region(empty) == {"feed": f"user:{ids['cal'] + 1}", "after": "0", "batch": "2"}
    assert 'class="feed-empty' in empty.text


def test_a_thread_follows_its_replies_on_its_last_page(app, people):
    ids, clients = people
    app.config["POSTS_PER_PAGE"] = 2
    first = post_as(clients["bob"], "A question")
    thread = clients["ann"].get(f"/post/{first}")
    assert live_region(thread) == {"feed": f"replies:{first}", "after": str(first), "batch": "2"}
    answers = [post_as(clients["cal"], f"Answer {n}", reply_to=first) for n in range(3)]
    assert live_region(clients["ann"].get(f"/post/{first}")) is None  # page 1 of 2
    last = clients["ann"].get(f"/post/{first}?page=2")
    assert live_region(last) == {
        "feed": f"replies:{first}",
        "after": str(answers[-1]),
        "batch": "2",
    }


def test_live_updates_can_be_turned_off(app, people):
    ids, clients = people
    app.config["LIVE_CHECK_SECONDS"] = 0
    page = clients["ann"].get("/")
    assert live_region(page) is None
    assert "live.js" not in page.text
