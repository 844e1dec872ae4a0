"""Who to follow: accounts followed by the people you follow, on the home timeline."""

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.main.suggestions import SuggestionCache
from app.models import SUGGESTION_SOURCES, Follow, User, delete_account, recount, utcnow
from app.models.user import suggestions_query
from tests.helpers import signed_in_client, text_of

SECTION = re.compile(r'<section[^>]*aria-labelledby="who-to-follow".*?</section>', re.S)
FOLLOW_FORM = re.compile(
    r'<form method="post" class="follow-form"\s+action="([^"]+)">(.*?)</form>', re.S
)


def follow_all(app, *edges: tuple[str, str]) -> None:
    """Each (follower, followed) by username, one second apart in the order given (the last
    is the most recent), counts recomputed as after any bulk insert."""
    with app.app_context():
        ids = dict(db.session.execute(sa.select(User.username, User.id)).all())
        start = utcnow() - timedelta(days=1)
        db.session.execute(
            sa.insert(Follow),
            [
                {
                    "follower_id": ids[follower],
                    "followed_id": ids[followed],
                    "created_at": start + timedelta(seconds=n),
                }
                for n, (follower, followed) in enumerate(edges)
            ],
        )
        recount()
        db.session.commit()


def suggestions_for(app, username: str, **kwargs: int) -> list[tuple[str, int]]:
    with app.app_context():
        reader = db.session.scalar(sa.select(User).where(User.username == username))
        return [(s.user.username, s.followed_by) for s in reader.suggested_for(**kwargs)]


def section_of(response) -> str | None:
    found = SECTION.search(response.get_data(as_text=True))
    return found.group(0) if found else None


def suggested_on_page(response) -> list[tuple[str, int]]:
    """The names and counts the Who to follow section shows, in order; [] without one."""
    section = section_of(response) or ""
    names = re.findall(r'class="user_popup[^"]*"[^>]*>([^<]+)</a>', section)
    counts = re.findall(r"Followed by (\d+) (?:person|people) you follow", section)
    return list(zip(names, map(int, counts), strict=True))


@pytest.fixture
def users(make_user):
    """Make users by name; their ids."""

    def users(*names: str) -> dict[str, int]:
        return {name: make_user(name) for name in names}

    return users


# The query ----------------------------------------------------------------------------------


def test_ranked_by_how_many_of_your_follows_follow_them(app, users):
    users("ann", "bob", "cara", "dan", "gus", "fay", "eve")
    follow_all(
        app,
        *[("ann", name) for name in ("bob", "cara", "dan")],
        *[(name, "eve") for name in ("bob", "cara", "dan")],
        *[(name, "fay") for name in ("bob", "cara")],
        ("dan", "gus"),
    )
    assert suggestions_for(app, "ann") == [("eve", 3), ("fay", 2), ("gus", 1)]


def test_followers_only_break_ties(app, users):
    users("ann", "bob", "cara", "eve", "fay", "gus", "hal", "ivy", "wes", "vic", "uma", "tom")
    follow_all(
        app,
        ("ann", "bob"),
        ("ann", "cara"),
        *[(name, "eve") for name in ("bob", "cara")],
        *[(name, "fay") for name in ("bob", "gus", "hal", "ivy")],  # fay: 4 followers
        *[("bob", name) for name in ("gus", "hal", "ivy")],
        *[(name, "ivy") for name in ("wes", "vic", "uma", "tom")],  # ivy: 5 followers
        *[(name, "gus") for name in ("wes", "vic")],  # gus: 3 followers, eve 2
    )
    # eve: 2 of your follows; fay, gus, hal and ivy: 1 each, ivy then fay the most followed.
    assert suggestions_for(app, "ann") == [("eve", 2), ("ivy", 1), ("fay", 1)]


def test_ties_go_to_the_most_followed_then_the_oldest_account(app, users):
    users("ann", "bob", "yan", "xia", "uma", "zed", "wes", "vic")
    follow_all(
        app,
        ("ann", "bob"),
        *[("bob", name) for name in ("xia", "yan", "uma", "zed")],
        ("wes", "zed"),  # zed has three followers, the others one
        ("vic", "zed"),
    )
    # zed first (most followers, though the newest account), then the oldest accounts.
    assert suggestions_for(app, "ann") == [("zed", 1), ("yan", 1), ("xia", 1)]


def test_never_yourself_nor_anyone_you_follow_nor_friends_of_strangers(app, users):
    users("ann", "bob", "cara", "stranger", "zed", "eve")
    follow_all(
        app,
        ("ann", "bob"),
        ("ann", "cara"),
        ("bob", "ann"),  # you
        ("bob", "cara"),  # followed already
        ("stranger", "zed"),  # followed only by someone you don't follow
        ("stranger", "eve"),
        ("bob", "eve"),
    )
    assert suggestions_for(app, "ann") == [("eve", 1)]


def test_someone_you_follow_among_the_oldest_is_still_left_out(app, users):
    # The exclusion covers every follow of yours, not only the recent ones it reads.
    users("ann", "cara", "bob", "dan")
    follow_all(app, ("ann", "cara"), ("ann", "dan"), ("ann", "bob"), ("bob", "cara"))
    assert suggestions_for(app, "ann", sources=1) == []  # bob's follows: cara, followed already


def test_at_most_limit_suggestions(app, users):
    users("ann", "bob", "p1", "p2", "p3", "p4")
    follow_all(app, ("ann", "bob"), *[("bob", f"p{n}") for n in range(1, 5)])
    assert [name for name, _ in suggestions_for(app, "ann")] == ["p1", "p2", "p3"]
    assert [name for name, _ in suggestions_for(app, "ann", limit=1)] == ["p1"]
    assert len(suggestions_for(app, "ann", limit=10)) == 4
    assert suggestions_for(app, "ann", limit=0) == []


def test_only_your_most_recent_follows_are_read(app, users):
    users("ann", "old", "mid", "new", "p", "q")
    follow_all(
        app,
        ("ann", "old"),
        ("ann", "mid"),
        ("ann", "new"),
        ("old", "p"),
        ("old", "q"),
        ("new", "q"),
    )
    assert suggestions_for(app, "ann", sources=2) == [("q", 1)]  # old's follows are not read
    assert suggestions_for(app, "ann", sources=3) == [("q", 2), ("p", 1)]


def test_by_default_the_follows_read_stop_at_the_bound(app, users):
    friends = [f"friend{n}" for n in range(SUGGESTION_SOURCES + 1)]  # friend0 is the oldest
    users("ann", "p", "q", *friends)
    follow_all(app, *[("ann", friend) for friend in friends], ("friend0", "p"), (friends[-1], "q"))
    assert suggestions_for(app, "ann") == [("q", 1)]
    assert suggestions_for(app, "ann", sources=SUGGESTION_SOURCES + 1) == [("p", 1), ("q", 1)]


def test_the_statement_is_built_once_and_bound_to_each_reader(app, users, sql_log):
    users("ann", "bob", "cara", "dan")
    follow_all(app, ("ann", "bob"), ("bob", "dan"), ("cara", "bob"), ("bob", "cara"))
    assert suggestions_query() is suggestions_query()
    sql_log.clear()
    assert suggestions_for(app, "ann") == [("cara", 1), ("dan", 1)]
    assert suggestions_for(app, "cara") == [("dan", 1)]
    statements = [s for s in sql_log if "candidates" in s]
    assert len(statements) == 2
    assert statements[0] == statements[1]  # the reader is a value, not part of the SQL


# The home page --------------------------------------------------------------------------------


@pytest.fixture
def ann_has_suggestions(app, users) -> dict[str, int]:
    """ann follows bob and cara; both follow eve, bob follows fay: ann is signed in."""
    ids = users("ann", "bob", "cara", "eve", "fay")
    follow_all(
        app, ("ann", "bob"), ("ann", "cara"), ("bob", "eve"), ("cara", "eve"), ("bob", "fay")
    )
    return ids


def test_the_home_page_shows_who_to_follow_between_the_form_and_the_timeline(
    app, ann_has_suggestions
):
    client = signed_in_client(app, ann_has_suggestions["ann"])
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert suggested_on_page(response) == [("eve", 2), ("fay", 1)]
    section = section_of(response)
    assert '<h2 class="h5 card-title" id="who-to-follow">Who to follow</h2>' in section
    assert "Followed by 2 people you follow" in text_of(response)
    assert "Followed by 1 person you follow" in text_of(response)
    assert 'data-popup-url="/user/eve/popup"' in section  # the hover card
    assert section.count('class="avatar rounded-circle') == 2
    assert section.count('action="/follow/') == 2
    assert page.index('name="body"') < page.index("Who to follow") < page.index("Your timeline")


def test_visitors_see_no_suggestions(client, app, ann_has_suggestions):
    response = client.get("/")
    assert response.status_code == 200
    assert section_of(response) is None
    assert "Who to follow" not in text_of(response)


def test_no_section_when_there_is_nobody_to_suggest(app, users):
    ids = users("ann", "bob", "cara")
    follow_all(app, ("ann", "bob"), ("bob", "ann"))  # bob follows nobody but ann
    response = signed_in_client(app, ids["ann"]).get("/")
    assert response.status_code == 200
    assert "Who to follow" not in text_of(response)


def test_no_section_before_the_address_is_confirmed(app, make_user):
    # Following waits for a confirmed address: no buttons that cannot work.
    ann = make_user("ann", confirmed=False)
    make_user("bob")
    make_user("eve")
    follow_all(app, ("ann", "bob"), ("bob", "eve"))
    assert suggestions_for(app, "ann") == [("eve", 1)]
    assert section_of(signed_in_client(app, ann).get("/")) is None


def test_following_a_suggestion_comes_back_home_without_it(app, ann_has_suggestions):
    client = signed_in_client(app, ann_has_suggestions["ann"])
    section = section_of(client.get("/"))
    form = FOLLOW_FORM.search(section)
    assert form.group(1) == "/follow/eve"
    back = html.unescape(re.search(r'name="next" value="([^"]*)"', form.group(2)).group(1))
    response = client.post(form.group(1), data={"next": back}, follow_redirects=True)
    assert response.request.path == "/"
    assert "You are following eve." in text_of(response)
    assert suggested_on_page(response) == [("fay", 1)]
    with app.app_context():
        assert db.session.get(Follow, (ann_has_suggestions["ann"], ann_has_suggestions["eve"]))


@pytest.mark.parametrize("follows", [10, 50])
def test_the_home_page_runs_three_statements_whatever_you_follow(app, users, sql_log, follows):
    friends = [f"friend{n}" for n in range(follows)]
    ids = users("ann", *friends, "p1", "p2", "p3", "p4")
    follow_all(
        app,
        *[("ann", friend) for friend in friends],
        *[(friend, f"p{n % 4 + 1}") for n, friend in enumerate(friends)],
    )
    client = signed_in_client(app, ids["ann"])
    sql_log.clear()
    response = client.get("/")
    assert len(suggested_on_page(response)) == 3
    assert len(sql_log) == 3, sql_log  # the session, who to follow, the timeline


def test_a_reader_who_follows_nobody_costs_no_suggestion_query(app, users, sql_log):
    ids = users("ann", "bob", "eve")
    follow_all(app, ("bob", "eve"))
    client = signed_in_client(app, ids["ann"])
    sql_log.clear()
    response = client.get("/")
    assert section_of(response) is None
    assert len(sql_log) == 2, sql_log


def test_each_process_keeps_a_readers_suggestions_until_they_follow_someone(
    app, ann_has_suggestions, sql_log
):
    client = signed_in_client(app, ann_has_suggestions["ann"])
    assert suggested_on_page(client.get("/")) == [("eve", 2), ("fay", 1)]
    follow_all(app, ("cara", "fay"))  # fay now has two of ann's follows: not seen for a while
    sql_log.clear()
    again = client.get("/")
    assert suggested_on_page(again) == [("eve", 2), ("fay", 1)]  # as kept
    assert len(sql_log) == 3 and not any("candidates" in s for s in sql_log)  # three by id
    with app.app_context():  # an account deleted meanwhile is left out
        delete_account(db.session.get(User, ann_has_suggestions["eve"]))
        db.session.commit()
    assert suggested_on_page(client.get("/")) == [("fay", 1)]
    follow_all(app, ("ann", "fay"))  # ann follows one more: worked out afresh
    assert suggested_on_page(client.get("/")) == []


def test_suggestions_are_worked_out_again_when_the_kept_ones_expire(app, ann_has_suggestions):
    app.extensions["suggestions"] = SuggestionCache(seconds=0)
    client = signed_in_client(app, ann_has_suggestions["ann"])
    assert suggested_on_page(client.get("/")) == [("eve", 2), ("fay", 1)]
    follow_all(app, ("cara", "fay"))
    assert suggested_on_page(client.get("/")) == [("eve", 2), ("fay", 2)]
