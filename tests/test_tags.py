"""Hashtags: what counts as one, how it is linked, stored and counted, and the tag page."""

import re

import pytest
import regex
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import TAG_MAX_LENGTH, Post, PostTag, Tag, User, delete_account, recount
from app.post_text import hashtags, render_body, tag_key
from tests.helpers import post_form, signed_in_client


@pytest.mark.parametrize(
    ("body", "tags"),
    [
        ("#Flask and #flask", {"flask": "Flask"}),  # one tag, as first written
        ("ends a sentence #flask. Or a list: #a, #b!", {"flask": "flask", "a": "a", "b": "b"}),
        ("#ПРИВЕТ #日本語 #हिन्दी #café #naïve", {
            "привет": "ПРИВЕТ", "日本語": "日本語", "हिन्दी": "हिन्दी", "café": "café",
            "naïve": "naïve",
        }),
        ("#1st #snake_case #x2", {"1st": "1st", "snake_case": "snake_case", "x2": "x2"}),
        ("#123 and #2026 are numbers", {}),
        ("C# and issue#12 and ##double and &#39;", {}),
        ("see https://example.com/page#section and http://x.org/#top", {}),
        ("@ann#notatag but @ann #atag", {"atag": "atag"}),
        ("🙂#emoji (#paren) [#bracket] \"#quote\"", {
            "emoji": "emoji", "paren": "paren", "bracket": "bracket", "quote": "quote",
        }),
        ("#" + "x" * 50, {"x" * 50: "x" * 50}),
        ("#" + "x" * 51, {}),  # too long to be a tag: text
        ("# alone, and #", {}),
        ("#_ #\u0301 #__ but #1_2 and #a_", {"1_2": "1_2", "a_": "a_"}),
        ("#Straße #STRASSE #ΟΔΟΣ #οδος", {"strasse": "Straße", "οδοσ": "ΟΔΟΣ"}),
        ("#café #cafe\u0301", {"café": "café"}),  # one tag, typed either way
        ("#" + "İ" * 26, {}),  # its key is 52 characters: text
        ("#" + "ß" * 26, {}),  # and this one's too (ss)
    ],
)  # fmt: skip
def test_what_is_a_tag(body, tags):
    assert hashtags(body) == tags


def test_tags_are_linked_to_their_page_and_the_rest_stays_escaped(app):
    with app.test_request_context("/"):
        html = str(render_body("<b>#Flask</b> & #日本語 https://x.org/#a", {}))
    assert '&lt;b&gt;<a class="hashtag" href="/tag/flask">#Flask</a>&lt;/b&gt; &amp; ' in html
    assert '<a class="hashtag" href="/tag/%E6%97%A5%E6%9C%AC%E8%AA%9E">#日本語</a>' in html
    assert "#a" not in html.replace('href="https://x.org/#a"', "").replace(
        'title="https://x.org/#a"', ""
    ).replace(">x.org/#a<", "")


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.text(max_size=280))
@example(body="#\x00x #a\u0301 ##")
def test_any_body_renders_and_its_tags_are_words(app, body):
    with app.test_request_context("/"):
        render_body(body, {})
    for key, written in hashtags(body).items():
        assert f"#{written}" in body
        assert regex.fullmatch(r"[\p{L}\p{M}\p{Nd}_]+", written) and not written.isdigit()
        assert len(written) <= TAG_MAX_LENGTH and len(key) <= TAG_MAX_LENGTH
        assert tag_key(key) == key  # a key names itself: its page has one address


# Stored with the post ------------------------------------------------------------------------


def tags_in_db(app) -> dict[str, tuple[str, int]]:
    with app.app_context():
        tags = db.session.scalars(sa.select(Tag))
        return {tag.key: (tag.name, tag.posts_count) for tag in tags}


def tagged_bodies(app, key: str) -> list[str]:
    stmt = (
        sa.select(Post.body)
        .join(PostTag, PostTag.post_id == Post.id)
        .join(Tag, Tag.id == PostTag.tag_id)
        .where(Tag.key == key)
        .order_by(Post.id)
    )
    with app.app_context():
        return list(db.session.scalars(stmt))


@pytest.fixture
def ann(app, make_user):
    make_user("ann")
    return signed_in_client(app, 1)


def post(client, body: str) -> int:
    assert client.post("/", data=post_form(body)).status_code == 302
    with client.application.app_context():
        return db.session.scalar(sa.select(sa.func.max(Post.id)))


def test_publishing_stores_and_counts_tags(app, ann):
    post(ann, "Hello #Flask and #python")
    post(ann, "More #flask")
    assert tags_in_db(app) == {"flask": ("Flask", 2), "python": ("python", 1)}
    assert tagged_bodies(app, "flask") == ["Hello #Flask and #python", "More #flask"]


def test_editing_adds_and_removes_tags_and_moves_counts(app, ann):
    first = post(ann, "About #flask and #sql")
    post(ann, "Also #sql")
    response = ann.post(f"/post/{first}/edit", data=post_form("About #Python and #sql"))
    assert response.status_code == 302
    assert tags_in_db(app) == {"flask": ("flask", 0), "sql": ("sql", 2), "python": ("Python", 1)}
    assert tagged_bodies(app, "python") == ["About #Python and #sql"]
    assert tagged_bodies(app, "flask") == []


def test_deleting_a_post_or_an_account_takes_their_tags_counts(app, ann, make_user):
    gone = post(ann, "Short-lived #flask")
    post(ann, "Stays #flask #sql")
    bob = make_user("bob")
    post(signed_in_client(app, bob), "Bob's #flask")
    assert ann.post(f"/post/{gone}/delete").status_code == 302
    assert tags_in_db(app)["flask"] == ("flask", 2)
    with app.app_context():
        delete_account(db.session.get(User, 1))
        db.session.commit()
    assert tags_in_db(app) == {"flask": ("flask", 1), "sql": ("sql", 0)}
    before = tags_in_db(app)
    with app.app_context():
        recount()
        db.session.commit()
    assert tags_in_db(app) == before  # the stored counts were right


# The tag page ---------------------------------------------------------------------------------


def test_the_tag_page_lists_its_posts_newest_first_with_their_count(app, ann, client):
    app.config["POSTS_PER_PAGE"] = 2
    for n in range(3):
        post(ann, f"Post {n} about #Flask")
    post(ann, "Not tagged")
    page = client.get("/tag/flask")
    text = page.get_data(as_text=True)
    assert "<h1" in text and "#Flask</h1>" in text and "3 posts" in text
    assert re.findall(r"Post (\d) about", text) == ["2", "1"]
    older = re.search(r'href="([^"]+)" rel="next"', text)[1].replace("&amp;", "&")
    assert re.findall(r"Post (\d) about", client.get(older).get_data(as_text=True)) == ["0"]
    assert "Not tagged" not in text


def test_one_address_per_tag_whatever_the_case(app, ann, client):
    post(ann, "#Flask")
    response = client.get("/tag/FLASK?page=1")
    assert response.status_code == 301
    assert response.headers["Location"] == "/tag/flask?page=1"


@pytest.mark.parametrize(
    "word", ["nothing", "123", "a%20b", "%00", "x" * 51, "flask.", "%23flask", "unused"]
)
def test_what_is_no_tag_with_posts_is_a_404(app, ann, client, word):
    post(ann, "#unused for now, and #flask")
    with app.app_context():
        db.session.execute(sa.update(Tag).values(posts_count=0))  # as after its posts went
        db.session.commit()
    assert client.get(f"/tag/{word}").status_code == 404


def test_the_tag_page_costs_a_bounded_number_of_statements(app, ann, make_user, sql_log):
    for n in range(12):
        post(ann, f"#many post {n}")
    reader = signed_in_client(app, make_user("bob"))
    reader.get("/tag/many")  # the visit recorded
    for per_page in (10, 50):
        app.config["POSTS_PER_PAGE"] = per_page
        sql_log.clear()
        assert reader.get("/tag/many").status_code == 200
        assert len(sql_log) == 3, sql_log  # the session, the tag, the page
