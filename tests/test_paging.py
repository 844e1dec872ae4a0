"""Paging through feeds: numbers, cursors, and what each page costs the database."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Follow, Post, User, recount
from tests.helpers import links_in, signed_in_client


def post_bodies(response) -> list[str]:
    return re.findall(r'<p class="post-body mb-0">(.*?)</p>', response.get_data(as_text=True))


def post_id(app, body: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Post.id).where(Post.body == body))


def link(response, label: str) -> str | None:
    return next((href for href, text in links_in(response) if text == label), None)


def bodies(*numbers: int) -> list[str]:
    return [f"Post {n} by ann" for n in numbers]


class TestPages:
    @pytest.fixture(autouse=True)
    def posts(self, app, make_user):
        app.config["POSTS_PER_PAGE"] = 3
        make_user("ann", posts=10)  # 4 pages: 9-7, 6-4, 3-1, 0

    def test_the_first_page_has_the_newest_posts_and_an_older_link_with_a_cursor(self, app, client):
        response = client.get("/explore")
        assert post_bodies(response) == bodies(9, 8, 7)
        older = post_id(app, "Post 7 by ann")
        assert link(response, "Older ›") == f"/explore?page=2&older_than={older}"
        assert link(response, "‹ Newer") is None
        assert 'rel="next"' in response.get_data(as_text=True)

    @pytest.mark.parametrize(
        ("page", "expected"),
        [(1, bodies(9, 8, 7)), (2, bodies(6, 5, 4)), (3, bodies(3, 2, 1)), (4, bodies(0))],
    )
    def test_every_page_by_number_from_either_end(self, client, page, expected):
        # Pages 3 and 4 are nearer the end: they are counted from the oldest post.
        assert post_bodies(client.get(f"/explore?page={page}")) == expected

    def test_a_middle_page_marks_itself_and_links_both_ways(self, app, client):
        response = client.get("/explore?page=2")
        html = response.get_data(as_text=True)
        assert re.search(r'active" aria-current="page"><span class="page-link">2<', html)
        newest, oldest = post_id(app, "Post 6 by ann"), post_id(app, "Post 4 by ann")
        assert link(response, "‹ Newer") == "/explore"
        assert link(response, "1") == "/explore"
        assert link(response, "Older ›") == f"/explore?page=3&older_than={oldest}"
        assert link(response, "3") == f"/explore?page=3&older_than={oldest}"
        assert link(response, "4") == "/explore?page=4"
        assert 'rel="prev"' in html
        assert newest  # page 3's Newer link carries it, below

    def test_following_older_links_to_the_end_and_newer_links_back(self, client):
        seen, pages, response = [], [], client.get("/explore")
        while True:
            seen += post_bodies(response)
            pages.append(response)
            older = link(response, "Older ›")
            if older is None:
                break
            response = client.get(older)
        assert seen == bodies(*range(9, -1, -1))
        assert len(pages) == 4
        assert 'aria-current="page"><span class="page-link">4<' in response.get_data(as_text=True)
        for expected in (bodies(3, 2, 1), bodies(6, 5, 4), bodies(9, 8, 7)):
            response = client.get(link(response, "‹ Newer"))
            assert post_bodies(response) == expected
        assert link(response, "‹ Newer") is None

    def test_a_cursor_keeps_the_reader_in_place_while_new_posts_arrive(self, app, client, login):
        login("ann", create=False)
        first = client.get("/explore")
        for n in range(4):
            sent = client.post("/", data={"body": f"New {n}", "submission_key": f"{'k' * 21}{n}"})
            assert sent.status_code == 302
        assert post_bodies(client.get(link(first, "Older ›"))) == bodies(6, 5, 4)

    def test_newer_pages_fill_up_at_the_top(self, app, client):
        # Stepping back up from page 2 when the posts above were deleted shows a full first page.
        with app.app_context():
            db.session.execute(sa.delete(Post).where(Post.body.in_(bodies(9, 8))))
            db.session.commit()
        above = post_id(app, "Post 4 by ann")
        response = client.get(f"/explore?page=2&newer_than={above}")
        assert post_bodies(response) == bodies(7, 6, 5)
        assert link(response, "‹ Newer") is None

    @pytest.mark.parametrize("cursor", ["abc", "-3", "0", "", "1.5", str(2**31), str(2**63), "%00"])
    @pytest.mark.parametrize("name", ["older_than", "newer_than"])
    def test_a_cursor_that_is_not_a_post_id_is_ignored(self, client, name, cursor):
        response = client.get(f"/explore?page=2&{name}={cursor}")
        assert post_bodies(response) == bodies(6, 5, 4)

    @pytest.mark.parametrize("page", ["5", "99", str(10**30)])
    def test_a_page_past_the_end_is_404(self, client, page):
        assert client.get(f"/explore?page={page}").status_code == 404

    @pytest.mark.parametrize(
        "query", ["username=bob", "endpoint=x", "_external=1", "_anchor=top", "_method=POST"]
    )
    @pytest.mark.parametrize("path", ["/explore", "/user/ann", "/user/ann/followers"])
    def test_other_query_arguments_stay_in_the_query_string(self, client, path, query):
        response = client.get(f"{path}?{query}&page=1")
        assert response.status_code == 200
        pages = [href for href, text in links_in(response) if text in ("Older ›", "2")]
        assert all(href.startswith(f"{path}?{query}&page=2") for href in pages)

    def test_a_cursor_page_number_stays_within_the_pages(self, app, client):
        older = post_id(app, "Post 7 by ann")
        response = client.get(f"/explore?page={10**30}&older_than={older}")
        assert post_bodies(response) == bodies(6, 5, 4)
        assert 'aria-current="page"><span class="page-link">3<' in response.get_data(as_text=True)

    def test_a_profile_address_in_other_capitals_keeps_the_page_and_cursor(self, client):
        response = client.get("/user/ANN?page=2&older_than=8")
        assert response.status_code == 301
        assert response.location == "/user/ann?page=2&older_than=8"

    def test_a_cursor_past_the_end_is_404(self, app, client):
        oldest = post_id(app, "Post 0 by ann")
        assert client.get(f"/explore?page=5&older_than={oldest}").status_code == 404

    @pytest.mark.parametrize("page", ["abc", "-3", "0", "", "1.5", "%00"])
    def test_a_non_numeric_or_negative_page_is_page_one(self, client, page):
        response = client.get(f"/explore?page={page}")
        assert response.status_code == 200
        assert post_bodies(response) == bodies(9, 8, 7)

    def test_gaps_in_long_page_lists_are_ellipses(self, client, make_user):
        make_user("bob", posts=50)  # 20 pages of 3
        response = client.get("/explore?page=10")
        links = links_in(response)
        assert "…" in response.get_data(as_text=True)
        assert ("/explore?page=20", "20") in links
        assert ("/explore?page=8", "8") in links
        assert not any("page=15" in href for href, _ in links)

    def test_no_pager_when_everything_fits_on_one_page(self, app, client):
        app.config["POSTS_PER_PAGE"] = 50
        assert 'class="pagination' not in client.get("/explore").get_data(as_text=True)

    def test_profile_pages_use_the_same_pager(self, app, client):
        response = client.get("/user/ann?page=4")
        assert post_bodies(response) == bodies(0)
        older = post_id(app, "Post 7 by ann")
        assert link(client.get("/user/ann"), "Older ›") == f"/user/ann?page=2&older_than={older}"


# The most statements each page may run, whatever the number of posts or people it shows (the
# session's own lookup included), and how many posts or people it shows when every list holds
# a full page.
STATEMENT_BOUNDS = {
    "/": (3, "full"),  # the session, who to follow, then the posts with the timeline's size
    "/explore": (2, "full"),
    "/explore?page=3": (3, "full"),  # the site's count first, to know where page 3 starts
    "/user/reader": (3, "full"),  # the session, the user and the follow button, the posts
    "/user/reader?page=3": (3, "full"),
    "/user/writer0": (3, 3),
    "/user/writer0/popup": (2, 0),
    "/user/reader/following": (4, "full"),
    "/user/writer0/followers": (4, 1),
    "/post/{post}": (5, 2),  # the session, the post, what it answers, its replies, Follow
    "/post/{reply}": (5, 6),  # the chain above the last reply (5 posts shown), and the reply
    "/notifications": (5, "full"),  # the session, the list, marking it read (2)
}


def busy_site(app, make_user, per_page: int) -> int:
    """A reader who follows ``per_page`` writers (each a page of posts by different people)
    and writes as much as they do, likes, replies to, mentions and is notified about every one
    of them, and to whom every writer suggests an account they follow; the reader's id."""
    app.config["POSTS_PER_PAGE"] = per_page
    reader = make_user("reader", posts=3 * per_page)
    writers = [make_user(f"writer{n}", posts=3) for n in range(per_page)]
    suggested = make_user("suggested")
    with app.app_context():
        db.session.execute(
            sa.insert(Follow),
            [{"follower_id": reader, "followed_id": writer} for writer in writers]
            + [{"follower_id": writers[0], "followed_id": reader}]
            + [{"follower_id": writer, "followed_id": suggested} for writer in writers],
        )
        me = db.session.get(User, reader)
        answered = db.session.scalar(sa.select(Post).where(Post.body == "Post 0 by writer0"))
        own = db.session.scalars(me.posts_newest_first().limit(per_page)).all()
        for post in db.session.scalars(sa.select(Post).where(Post.author_id != reader)).all():
            me.like(post)
        for writer, liked in zip(writers, own, strict=True):  # a page of notifications
            db.session.get(User, writer).like(liked)
        for n in range(per_page):  # a thread: each reply answers the one before
            answered = me.publish(f"Reply {n} to @writer{n}", reply_to=answered)
            db.session.flush()
        recount()
        db.session.commit()
    return reader


def shown_items(response) -> int:
    people = response.get_data(as_text=True).count('<li class="list-group-item')
    return people + len(post_bodies(response))


@pytest.mark.parametrize("per_page", [10, 50])
def test_each_page_runs_a_fixed_number_of_statements(app, make_user, sql_log, per_page):
    reader = busy_site(app, make_user, per_page)
    client = signed_in_client(app, reader)
    post = post_id(app, "Post 0 by writer0")
    reply = post_id(app, f"Reply {per_page - 1} to @writer{per_page - 1}")
    for path, (bound, items) in STATEMENT_BOUNDS.items():
        path = path.format(post=post, reply=reply)
        sql_log.clear()
        response = client.get(path)
        assert response.status_code == 200, path
        assert len(sql_log) <= bound, (path, sql_log)
        assert shown_items(response) == (per_page if items == "full" else items), path


def test_reading_pages_writes_nothing_but_the_visit_once_a_minute(app, make_user, sql_log, clock):
    reader = busy_site(app, make_user, 10)
    client = signed_in_client(app, reader)
    post, reply = post_id(app, "Post 0 by writer0"), post_id(app, "Reply 9 to @writer9")
    # Every page but /notifications, which marks what it shows as read, as it should.
    reading = [path for path in STATEMENT_BOUNDS if path != "/notifications"]
    paths = [path.format(post=post, reply=reply) for path in reading] + [
        "/settings/profile",
        "/settings/sessions",
        "/settings/email",
        "/settings/password",
        "/settings/export",
        "/settings/delete",
    ]
    clock.advance(minutes=5)
    for round in ("first", "second"):
        writes = []
        for path in paths:
            sql_log.clear()
            assert client.get(path).status_code == 200, path
            writes += [s for s in sql_log if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]
        if round == "first":  # the visit (last_seen) and the session's activity, on one page
            assert [" ".join(write.replace('"', "").split()[:2]) for write in writes] == [
                "UPDATE user",
                "UPDATE user_session",
            ]
        else:
            assert writes == []
