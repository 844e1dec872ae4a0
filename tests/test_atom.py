"""Atom feeds (issue 15): each read back with feedparser, as a feed reader would."""

from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from werkzeug.http import http_date

from app.extensions import db
from app.feeds import atom
from app.models import Post, User
from tests.helpers import signed_in_client, writes_in

BASE = "https://micro.example/blog"  # a prefix too: links must keep it


@pytest.fixture
def base_url(app):
    app.config["APP_BASE_URL"] = BASE
    return BASE


def publish(app, user_id: int, body: str) -> int:
    with app.app_context():
        post = db.session.get(User, user_id).publish(body)
        db.session.commit()
        return post.id


def edit(app, user_id: int, post_id: int, body: str) -> None:
    with app.app_context():
        db.session.get(User, user_id).edit_post(db.session.get(Post, post_id), body)
        db.session.commit()


def stored(app, post_id: int) -> Post:
    with app.app_context():
        return db.session.get(Post, post_id)


def rfc3339(moment: datetime) -> str:
    """A stored time as the feed writes it."""
    return moment.replace(tzinfo=UTC).isoformat()


def parsed(response) -> feedparser.FeedParserDict:
    assert response.status_code == 200
    assert response.content_type == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.get_data())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def links_of(element) -> dict[str, str]:
    return {link.rel: link.href for link in element.links}


# --- What the feed says ---------------------------------------------------------------------


def test_the_feed_is_atom_with_absolute_links_from_app_base_url(app, client, make_user, base_url):
    ann = make_user("ann")
    post_id = publish(app, ann, "Hello, feed readers")
    feed = parsed(client.get("/user/ann/feed.atom"))
    assert feed.feed.title == "ann on Microblog"
    assert links_of(feed.feed) == {
        "alternate": f"{BASE}/user/ann",
        "self": f"{BASE}/user/ann/feed.atom",
    }
    assert feed.feed.id == f"{BASE}/user/ann/feed.atom"
    assert feed.feed.author_detail == {"name": "ann", "href": f"{BASE}/user/ann"}
    [entry] = feed.entries
    assert entry.id == f"{BASE}/post/{post_id}"
    assert links_of(entry) == {"alternate": f"{BASE}/post/{post_id}"}
    assert entry.title == "Hello, feed readers"
    assert entry.author_detail == {"name": "ann", "href": f"{BASE}/user/ann"}
    created_at = stored(app, post_id).created_at
    assert entry.published == entry.updated == feed.feed.updated == rfc3339(created_at)
    assert entry.content[0].type == "text/html"
    assert entry.content[0].value == "Hello, feed readers"


def test_without_app_base_url_links_follow_the_request(app, client, make_user):
    assert app.config["APP_BASE_URL"] == ""
    post_id = publish(app, make_user("ann"), "Hi")
    feed = parsed(client.get("/user/ann/feed.atom", base_url="http://dev.example:5000"))
    assert feed.feed.id == "http://dev.example:5000/user/ann/feed.atom"
    assert feed.entries[0].id == f"http://dev.example:5000/post/{post_id}"


def test_the_feed_holds_the_newest_20_posts_newest_first(client, make_user, base_url):
    make_user("ann", posts=25)
    make_user("bob", posts=3)
    feed = parsed(client.get("/user/ann/feed.atom"))
    assert [entry.title for entry in feed.entries] == [f"Post {n} by ann" for n in range(24, 4, -1)]
    ids = [int(entry.id.rsplit("/", 1)[1]) for entry in feed.entries]
    assert ids == sorted(ids, reverse=True)
    assert feed.feed.updated == feed.entries[0].updated


def test_html_in_a_post_is_shown_as_text_not_markup(app, client, make_user, base_url):
    body = "<b>bold</b> & <i>not</i>"
    publish(app, make_user("ann"), body)
    [entry] = parsed(client.get("/user/ann/feed.atom")).entries
    assert entry.content[0].value == "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;not&lt;/i&gt;"
    assert entry.title == body  # plain text, written as it was typed


def test_mentions_tags_and_web_links_in_a_post_are_absolute_links(app, client, make_user, base_url):
    make_user("Bob")
    publish(app, make_user("ann"), "Ask @bob about https://example.org/x #Flask")
    [entry] = parsed(client.get("/user/ann/feed.atom")).entries
    html = entry.content[0].value
    assert f'<a class="user_popup" href="{BASE}/user/Bob">@bob</a>' in html
    assert f'<a class="hashtag" href="{BASE}/tag/flask">#Flask</a>' in html
    assert '<a href="https://example.org/x" rel="nofollow noopener ugc"' in html
    assert 'href="/' not in html


def test_a_long_post_has_a_short_one_line_title(app, client, make_user):
    body = "A first line\n" + " ".join(["word"] * 45)
    publish(app, make_user("ann"), body)
    [entry] = parsed(client.get("/user/ann/feed.atom")).entries
    assert entry.title.startswith("A first line word word")
    assert len(entry.title) <= atom.TITLE_LENGTH and entry.title.endswith("word…")


def test_an_edit_is_the_entrys_and_the_feeds_updated_time(app, client, clock, make_user):
    ann = make_user("ann")
    first = publish(app, ann, "First")
    clock.advance(minutes=1)
    publish(app, ann, "Second")
    clock.advance(minutes=1)
    edit(app, ann, first, "First, edited")
    feed = parsed(client.get("/user/ann/feed.atom"))
    second_entry, first_entry = feed.entries
    post = stored(app, first)
    assert first_entry.title == "First, edited"
    assert first_entry.published == rfc3339(post.created_at)
    assert first_entry.updated == feed.feed.updated == rfc3339(post.edited_at)
    assert second_entry.updated < feed.feed.updated


def test_a_user_without_posts_has_an_empty_feed_updated_when_they_joined(app, client, make_user):
    ann = make_user("ann")
    with app.app_context():
        member_since = db.session.get(User, ann).member_since
    response = client.get("/user/ann/feed.atom")
    feed = parsed(response)
    assert feed.entries == []
    assert feed.feed.updated == rfc3339(member_since)
    assert response.last_modified == member_since.replace(tzinfo=UTC, microsecond=0)


def test_characters_xml_cannot_carry_are_left_out(app, client, make_user):
    # The forms refuse control characters, not these; the feed must parse whatever is stored.
    publish(app, make_user("ann"), "odd \ufffe\uffff text")
    [entry] = parsed(client.get("/user/ann/feed.atom")).entries
    assert entry.title == "odd text" and entry.content[0].value == "odd  text"


# --- HTTP: addresses, caching and validators ------------------------------------------------


def test_another_case_redirects_to_the_username_as_written(client, make_user):
    make_user("Ann")
    response = client.get("/user/ANN/feed.atom")
    assert response.status_code == 301
    assert response.location == "/user/Ann/feed.atom"


@pytest.mark.parametrize(
    "name",
    ["nobody", "%00", "ann%00", "a" * 10_000, "%3Cscript%3E", "%C3%A5nn", "..", "ann%0A", "'or'1"],
)
def test_unknown_or_impossible_usernames_are_404(client, make_user, name):
    make_user("ann")
    assert client.get(f"/user/{name}/feed.atom").status_code == 404


def test_the_feed_may_be_kept_by_any_cache_for_five_minutes(client, make_user):
    make_user("ann", posts=1)
    response = client.get("/user/ann/feed.atom")
    assert response.cache_control.public and response.cache_control.max_age == 300
    assert response.headers["ETag"] and response.headers["Last-Modified"]


def count_builds(monkeypatch) -> list[str]:
    built: list[str] = []
    build_feed = atom.build_feed

    def counted(title, *args):
        built.append(title)
        return build_feed(title, *args)

    monkeypatch.setattr(atom, "build_feed", counted)
    return built


def test_a_matching_etag_gets_a_304_without_building_the_feed(client, make_user, monkeypatch):
    make_user("ann", posts=3)
    first = client.get("/user/ann/feed.atom")
    etag = first.headers["ETag"]
    built = count_builds(monkeypatch)
    again = client.get("/user/ann/feed.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag  # (Werkzeug leaves Last-Modified out of a 304)
    assert again.cache_control.public and again.cache_control.max_age == 300
    assert built == []
    other = client.get("/user/ann/feed.atom", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and built == ["ann on Microblog"]
    parsed(other)


def test_an_unchanged_last_modified_gets_a_304_without_building_the_feed(
    client, make_user, monkeypatch
):
    make_user("ann", posts=3)
    last_modified = client.get("/user/ann/feed.atom").last_modified
    built = count_builds(monkeypatch)
    since = {"If-Modified-Since": http_date(last_modified)}
    assert client.get("/user/ann/feed.atom", headers=since).status_code == 304
    assert built == []
    earlier = {"If-Modified-Since": http_date(last_modified - timedelta(seconds=1))}
    assert client.get("/user/ann/feed.atom", headers=earlier).status_code == 200
    # If-None-Match decides when both are sent (RFC 9110): a stale tag gets the feed.
    both = since | {"If-None-Match": '"stale"'}
    assert client.get("/user/ann/feed.atom", headers=both).status_code == 200
    assert built == ["ann on Microblog"] * 2


@pytest.mark.parametrize("header", ["not a date", "Mon, 01 Jan 99999 00:00:00 GMT", "\x00", ""])
def test_a_malformed_if_modified_since_is_ignored(client, make_user, header):
    make_user("ann", posts=1)
    response = client.get("/user/ann/feed.atom", headers={"If-Modified-Since": header})
    assert response.status_code == 200


def test_a_new_post_an_edit_or_a_deletion_changes_the_etag(app, client, clock, make_user):
    ann = make_user("ann")
    oldest = publish(app, ann, "Oldest")
    publish(app, ann, "Older")

    def validators() -> tuple[str, datetime]:
        response = client.get("/user/ann/feed.atom")
        return response.headers["ETag"], response.last_modified

    seen = [validators()]
    clock.advance(minutes=1)
    newest = publish(app, ann, "New")
    seen.append(validators())
    clock.advance(minutes=1)
    edit(app, ann, newest, "New, edited")
    seen.append(validators())
    assert signed_in_client(app, ann).post(f"/post/{oldest}/delete").status_code == 302
    seen.append(validators())
    assert len({etag for etag, _ in seen}) == 4
    times = [last_modified for _, last_modified in seen]
    # A reader sending If-Modified-Since alone sees new posts and edits; a deletion moves no
    # time (none is stored), so only the ETag tells it.
    assert times[0] < times[1] < times[2] == times[3]
    for etag, last_modified in seen[:-1]:
        old = {"If-None-Match": etag, "If-Modified-Since": http_date(last_modified)}
        assert client.get("/user/ann/feed.atom", headers=old).status_code == 200


def test_a_renamed_mention_changes_the_etag(app, client, make_user):
    make_user("bob")
    publish(app, make_user("ann"), "Hi @bob")
    first = client.get("/user/ann/feed.atom")
    assert 'href="http://localhost/user/bob"' in parsed(first).entries[0].content[0].value
    with app.app_context():
        db.session.scalar(db.select(User).where(User.username == "bob")).username = "robert"
        db.session.commit()
    headers = {"If-None-Match": first.headers["ETag"]}
    response = client.get("/user/ann/feed.atom", headers=headers)
    assert parsed(response).entries[0].content[0].value == "Hi @bob"  # nobody's name now


# --- Cost ------------------------------------------------------------------------------------


@pytest.mark.parametrize("posts", [1, 30])
def test_a_feed_costs_two_statements_and_a_304_no_more(client, make_user, sql_log, posts):
    make_user("ann", posts=posts)
    sql_log.clear()
    etag = client.get("/user/ann/feed.atom").headers["ETag"]
    assert len(sql_log) == 2, sql_log  # the user, then the posts with their authors
    sql_log.clear()
    assert client.get("/user/ann/feed.atom", headers={"If-None-Match": etag}).status_code == 304
    assert len(sql_log) == 2, sql_log


def test_a_wrong_case_costs_one_statement_and_a_bad_name_none(client, make_user, sql_log):
    make_user("ann")
    sql_log.clear()
    client.get("/user/ANN/feed.atom")
    assert len(sql_log) == 1
    sql_log.clear()
    client.get("/user/%00/feed.atom")
    assert sql_log == []


def test_a_signed_in_reader_gets_the_public_feed_and_writes_nothing(app, clock, make_user, sql_log):
    make_user("ann", posts=2)
    reader = signed_in_client(app, make_user("bob"))
    clock.advance(minutes=5)  # long enough that a page view would record the visit
    sql_log.clear()
    response = reader.get("/user/ann/feed.atom")
    assert writes_in(sql_log) == [] and len(sql_log) == 2, sql_log
    assert response.cache_control.public and not response.cache_control.no_store
    assert parsed(response).entries[0].title == "Post 1 by ann"


# --- Discovery --------------------------------------------------------------------------------


def test_the_profile_page_links_its_feed_in_the_head(client, make_user):
    make_user("Ann", posts=1)
    html = client.get("/user/ann", follow_redirects=True).get_data(as_text=True)
    head = html[: html.index("</head>")]
    link = (
        '<link rel="alternate" type="application/atom+xml" title="Ann on Microblog"'
        ' href="/user/Ann/feed.atom">'
    )
    assert link in head
    assert html.count('rel="alternate"') == 1  # the one feed the page follows
    parsed(client.get("/user/Ann/feed.atom"))


# --- A tag's feed ----------------------------------------------------------------------------


def test_a_tags_feed_holds_its_newest_posts_with_absolute_links(app, client, make_user, base_url):
    ann, bob = make_user("ann"), make_user("bob")
    ids = [publish(app, ann if n % 2 else bob, f"Post {n} about #Birds") for n in range(22)]
    publish(app, ann, "Not tagged")
    feed = parsed(client.get("/tag/birds/feed.atom"))
    assert feed.feed.title == "#Birds on Microblog"
    assert links_of(feed.feed) == {
        "alternate": f"{BASE}/tag/birds",
        "self": f"{BASE}/tag/birds/feed.atom",
    }
    assert [entry.link for entry in feed.entries] == [
        f"{BASE}/post/{post_id}" for post_id in reversed(ids[-20:])
    ]
    assert {entry.author for entry in feed.entries} == {"ann", "bob"}
    assert f'href="{BASE}/tag/birds"' in feed.entries[0].content[0].value


def test_a_tags_feed_answers_304s_and_one_address_whatever_the_case(client, app, make_user):
    publish(app, make_user("ann"), "#Birds")
    first = client.get("/tag/birds/feed.atom")
    again = client.get("/tag/birds/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    moved = client.get("/tag/BIRDS/feed.atom")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/tag/birds/feed.atom"
    for word in ("nothing", "123", "%00", "x" * 51):
        assert client.get(f"/tag/{word}/feed.atom").status_code == 404


def test_the_tag_page_links_its_feed_in_the_head(client, app, make_user):
    publish(app, make_user("ann"), "#Birds")
    page = client.get("/tag/birds").get_data(as_text=True)
    head = page[: page.index("</head>")]
    assert (
        '<link rel="alternate" type="application/atom+xml" title="#Birds on Microblog" '
        'href="/tag/birds/feed.atom">'
    ) in head
