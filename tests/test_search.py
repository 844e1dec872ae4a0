"""Search: posts by their words, people by name and about-me words, tags by how they begin;
on both databases (each its own index), with any text typed."""

import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import Moderation, Post, User, delete_account, search_posts
from app.models import search as search_module
from app.search_query import SearchQuery
from tests.helpers import post_form, signed_in_client, text_of


@pytest.fixture(autouse=True)
def searches_unlimited(app):
    """These tests search far more often than a person does (one tests the limit)."""
    app.config["SEARCH_RATE_LIMIT"] = "100000 per minute"


@pytest.fixture
def ann(app, make_user):
    make_user("ann", about_me="Gardener who writes about tomatoes")
    return signed_in_client(app, 1)


def post(client, body: str) -> int:
    assert client.post("/", data=post_form(body)).status_code == 302
    with client.application.app_context():
        return db.session.scalar(sa.select(sa.func.max(Post.id)))


def found(client, q: str, **args: str) -> list[str]:
    """The bodies (as shown, without marks) of the posts a search finds, in order."""
    response = client.get("/search", query_string={"q": q, **args})
    assert response.status_code == 200
    bodies = re.findall(r'<p class="post-body mb-0">(.*?)</p>', response.text, re.S)
    return [re.sub(r"<[^>]+>", "", body) for body in bodies]


def names_found(client, q: str, **args: str) -> list[str]:
    response = client.get("/search", query_string={"q": q, **args})
    assert response.status_code == 200
    return re.findall(r'<a class="user_popup fw-semibold"[^>]*>([^<]+)</a>', response.text)


# Posts -----------------------------------------------------------------------------------


def test_a_post_is_found_by_all_its_words_in_any_case_and_order(ann):
    post(ann, "Tomatoes need sun and water")
    post(ann, "Water the basil")
    post(ann, "Sun is out")
    assert found(ann, "water") == ["Water the basil", "Tomatoes need sun and water"]
    assert found(ann, "WATER sun") == ["Tomatoes need sun and water"]
    assert found(ann, "moon") == []


def test_phrases_alternatives_and_words_left_out(ann):
    post(ann, "green tea with milk")
    post(ann, "tea that is green")
    post(ann, "black coffee")
    assert found(ann, '"green tea"') == ["green tea with milk"]
    assert found(ann, "tea -milk") == ["tea that is green"]
    assert found(ann, "coffee or milk", sort="newest") == ["black coffee", "green tea with milk"]


def test_words_of_any_script_are_found_as_written(ann):
    post(ann, "Привет мир")
    post(ann, "नमस्ते दुनिया")
    post(ann, "café au lait")
    assert found(ann, "мир") == ["Привет мир"]
    assert found(ann, "ПРИВЕТ") == ["Привет мир"]
    assert found(ann, "दुनिया") == ["नमस्ते दुनिया"]
    assert found(ann, "café") == ["café au lait"]


def test_words_are_found_wherever_punctuation_parts_them(ann):
    post(ann, "I love tomatoes.They grow on example.com/garden (ask ann@example.org)")
    post(ann, "an unrelated post")
    for words in ("tomatoes they", "garden", '"example com"', "org"):
        assert found(ann, words) == [
            "I love tomatoes.They grow on example.com/garden (ask ann@example.org)"
        ], words
    assert found(ann, "<b> -foo") == []  # the word b, which no post has: not every post


def test_hashtags_and_mentions_are_found_by_their_words(ann, make_user):
    make_user("bob")
    post(ann, "Planting #tomatoes with @bob")
    assert found(ann, "tomatoes") == ["Planting #tomatoes with @bob"]
    assert found(ann, "bob") == ["Planting #tomatoes with @bob"]


def test_the_better_match_comes_first_then_the_newer(ann):
    post(ann, "rain rain rain, all day rain")  # oldest, and most about rain
    post(ann, "a long post that mentions rain once among many other words here")
    post(ann, "rain")  # newest, short
    post(ann, "rain")  # newer still, an equal match
    long = "a long post that mentions rain once among many other words here"
    assert found(ann, "rain", sort="newest") == [
        "rain",
        "rain",
        long,
        "rain rain rain, all day rain",
    ]
    ranked = found(ann, "rain")
    assert ranked.index("rain rain rain, all day rain") < ranked.index(long)
    with ann.application.app_context():
        query = SearchQuery.parse("rain")
        results = search_posts(query, "relevance", None, 0, 10)
        equal = [p.id for p in results.items if p.body == "rain"]
        assert equal == sorted(equal, reverse=True)  # among equals, the newer first
        assert results.total == 4


def test_edited_and_deleted_posts_are_found_as_they_are_now(app, ann):
    edited = post(ann, "first draft about pumpkins")
    deleted = post(ann, "pumpkins will be deleted")
    assert ann.post(f"/post/{edited}/edit", data={"body": "final text about squash"}).status_code
    assert ann.post(f"/post/{deleted}/delete").status_code == 302
    assert found(ann, "pumpkins") == []
    assert found(ann, "draft") == []
    assert found(ann, "squash") == ["final text about squash"]


def test_a_deleted_accounts_posts_and_profile_are_not_found(app, ann, make_user):
    bob = make_user("bob", about_me="Writes about turnips")
    bob_client = signed_in_client(app, bob)
    post(bob_client, "turnips are underrated")
    post(ann, "turnips? no thanks")
    with app.app_context():
        delete_account(db.session.get(User, bob))
        db.session.commit()
    assert found(ann, "turnips") == ["turnips? no thanks"]
    assert names_found(ann, "turnips", type="people") == []


def test_matches_are_highlighted_in_escaped_text(ann):
    post(ann, "<script>alert('rain')</script> #Rain @ann rain")
    response = ann.get("/search?q=rain")
    assert (
        "&lt;script&gt;alert(&#39;<mark>rain</mark>&#39;)&lt;/script&gt; "
        '<a class="hashtag" href="/tag/rain">#<mark>Rain</mark></a>'
    ) in response.text
    assert "<script>alert" not in response.text
    assert "> <mark>rain</mark></p>" in response.text


def test_results_are_paged_and_counted_and_past_the_last_page_is_not_found(app, ann):
    app.config["POSTS_PER_PAGE"] = 2
    for n in range(5):
        post(ann, f"note {n}")
    response = ann.get("/search?q=note&sort=newest&page=2")
    assert found(ann, "note", sort="newest", page="2") == ["note 2", "note 1"]
    assert "5 posts" in text_of(response)
    assert 'href="/search?q=note&amp;sort=newest&amp;page=3" rel="next"' in response.text
    assert "Next ›" in response.text and "‹ Previous" in response.text
    assert ann.get("/search?q=note&page=4").status_code == 404
    assert ann.get("/search?q=nothing&page=2").status_code == 404
    for page in ("214748366", "99999999999999999999"):  # past any integer column's range
        assert ann.get(f"/search?q=note&page={page}&type=people").status_code == 404


def test_no_more_than_the_newest_matches_max_are_looked_at(app, ann, monkeypatch):
    monkeypatch.setattr(search_module, "MATCHES_MAX", 3)
    for n in range(5):
        post(ann, f"many {n}")
    assert found(ann, "many", sort="newest") == ["many 4", "many 3", "many 2"]
    assert "3 posts or more: the first 3 are shown" in text_of(ann.get("/search?q=many"))


def test_a_post_page_of_results_costs_one_statement_whatever_its_length(
    app, ann, make_user, sql_log
):
    make_user("bob")
    for n in range(12):
        post(ann, f"#busy reply {n} to @bob")
    ann.get("/search?q=busy")  # the visit recorded
    for per_page in (5, 50):
        app.config["POSTS_PER_PAGE"] = per_page
        sql_log.clear()
        assert ann.get("/search?q=busy").status_code == 200
        assert len(sql_log) == 2, sql_log  # the session, the results
    for kind, statements in (("people", 3), ("tags", 2)):  # people: whom the reader follows
        sql_log.clear()
        assert ann.get(f"/search?q=b&type={kind}").status_code == 200
        assert len(sql_log) == statements, sql_log


# People and tags -------------------------------------------------------------------------


def test_people_are_found_by_name_prefix_then_about_me_words(app, ann, make_user):
    make_user("tomasz")
    make_user("Tom", about_me="I grow tomatoes too")
    make_user("tomato_fan")
    make_user("zed", about_me="tom is my cat")
    for follower in ("ann", "zed"):
        signed_in_client(app, 1).post(f"/follow/{follower}")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.username == "tomato_fan").values(
            followers_count=5
        ))  # fmt: skip
        db.session.commit()
    # The name itself, then names it begins (most followed first), then about-me matches.
    assert names_found(ann, "tom", type="people") == ["Tom", "tomato_fan", "tomasz", "zed"]
    assert names_found(ann, "@TOM") == ["Tom", "tomato_fan", "tomasz", "zed"]  # "@": people
    assert names_found(ann, "tomatoes", type="people") == ["ann", "Tom"]
    response = ann.get("/search?q=tomatoes&type=people")
    assert "Gardener who writes about <mark>tomatoes</mark>" in response.text
    assert names_found(ann, "nobody here", type="people") == []


def test_suspended_people_are_not_found_until_the_suspension_is_lifted(app, ann, make_user):
    make_user("tomasz", about_me="tomatoes")
    make_user("tomek", about_me="tomatoes")
    with app.app_context():
        Moderation(by=None).suspend(
            db.session.scalar(sa.select(User).filter_by(username="tomasz")), "spam"
        )
        db.session.commit()
    assert names_found(ann, "tom", type="people") == ["tomek"]
    assert names_found(ann, "tomatoes", type="people") == ["ann", "tomek"]
    assert "1 person" in text_of(ann.get("/search?q=tom&type=people"))  # nor counted
    with app.app_context():
        Moderation(by=None).unsuspend(
            db.session.scalar(sa.select(User).filter_by(username="tomasz"))
        )
        db.session.commit()
    assert names_found(ann, "tom", type="people") == ["tomasz", "tomek"]


def test_tags_are_found_by_how_they_begin_the_tag_itself_first(ann):
    post(ann, "#garden #gardening #gardening")
    post(ann, "#gardening again")
    post(ann, "#Garden_party #other")
    response = ann.get("/search?q=%23GARDEN&type=tags")
    tags = re.findall(r'<a class="hashtag fw-semibold" href="([^"]+)">#([^<]+)</a>', response.text)
    assert tags == [
        ("/tag/garden", "garden"),
        ("/tag/gardening", "gardening"),
        ("/tag/garden_party", "Garden_party"),
    ]
    assert "2 posts" in text_of(response)
    assert "No tag begins with" in ann.get("/search?q=two+words&type=tags").text


def test_a_tag_without_posts_is_not_found(ann):
    only = post(ann, "#ephemeral")
    assert ann.post(f"/post/{only}/delete").status_code == 302
    assert "No tag begins with" in ann.get("/search?q=ephemeral&type=tags").text


# The page --------------------------------------------------------------------------------


def test_every_page_has_a_search_box_and_an_empty_search_shows_only_the_form(client):
    response = client.get("/explore")
    assert 'role="search"' in response.text and 'id="navbar-search-q" name="q"' in response.text
    response = client.get("/search")
    assert response.status_code == 200
    assert 'id="search-page-q"' in response.text
    assert "What to search" not in response.text


def test_signed_out_readers_can_search(client, make_user):
    make_user("ann", posts=3)
    assert found(client, "post") == ["Post 2 by ann", "Post 1 by ann", "Post 0 by ann"]


def test_unknown_choices_fall_back_to_defaults(ann):
    post(ann, "defaults")
    assert found(ann, "defaults", type="nonsense", sort="sideways", page="x") == ["defaults"]


def test_searching_is_rate_limited_per_reader(app, ann):
    app.config["RATELIMIT_ENABLED"] = True
    app.config["SEARCH_RATE_LIMIT"] = "2 per minute"
    assert ann.get("/search?q=a").status_code == 200
    assert ann.get("/search?q=b").status_code == 200
    assert ann.get("/search?q=c").status_code == 429


HOSTILE = [
    '"', '"unmatched', "*", "a*", "AND", "NOT x", "x NEAR y", "NEAR(a b, 2)", "(", ")",
    "col:word", "body:x", "^start", "-", "--x", "or", "x or", "'", "\\", "\0", "a\0b",
    "x" * 1000, "word " * 300, "🙂", "&<>", "%", "_", "@", "#", "@@", "##", "e'e", "'); DROP",
    "\u202e", "\ufeff", "\x01\x1f", "a\u0301", "!!! ???",
]  # fmt: skip


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_answer_with_results_or_nothing(ann, q):
    post(ann, "an ordinary post with a word or two")
    for kind in ("posts", "people", "tags"):
        response = ann.get("/search", query_string={"q": q, "type": kind})
        assert response.status_code == 200, (q, kind)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=st.text(max_size=200))
@example(q='"a" NEAR/3 -"b')
def test_any_query_answers_on_this_database(ann, q):
    for kind in ("posts", "people", "tags"):
        for sort in ("relevance", "newest"):
            response = ann.get("/search", query_string={"q": q, "type": kind, "sort": sort})
            assert response.status_code == 200, (q, kind, sort)


def test_a_searchs_marked_cards_are_not_kept_for_other_pages(ann):
    post(ann, "rain again")
    ann.get("/explore")  # its card, kept
    assert "<mark>rain</mark>" in ann.get("/search?q=rain").text
    assert "<mark>" not in ann.get("/explore").text
