"""fast_url_for gives exactly what url_for gives, for every value, quoting included."""

import re

import pytest
from flask import url_for
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app import create_app
from app.links import PLACEHOLDER_TEXT, fast_url_for
from config import TestingConfig

ONE_VARIABLE = [
    ("profile.user", "username"),
    ("profile.popup", "username"),
    ("profile.follow", "username"),
    ("avatars.identicon", "key"),
    ("avatars.picture", "name"),
]
ROW_IDS = [("main.post", "post_id"), ("main.edit_post", "post_id"), ("main.delete_post", "post_id")]
TRICKY = [
    "ann",
    "a.b-c_d",
    "...",
    "ünïcødé",
    "a b",
    "a/b",
    "a%2Fb",
    "a?b=c",
    "a#b",
    '"><script>alert(1)</script>',
    "a&b",
    "a+b",
    "~tilde",
    "x" * 300,
]


@pytest.fixture(scope="module")
def url_app():
    return create_app(TestingConfig)


@pytest.mark.parametrize(("endpoint", "name"), ONE_VARIABLE)
@pytest.mark.parametrize("script_root", ["", "/blog", f"/{PLACEHOLDER_TEXT}"])
def test_fast_url_for_matches_url_for_for_any_text(url_app, endpoint, name, script_root):
    with url_app.test_request_context("/", environ_overrides={"SCRIPT_NAME": script_root}):
        for _ in range(2):  # the first call builds the pattern, the second reuses it
            for value in TRICKY:
                assert fast_url_for(endpoint, **{name: value}) == url_for(endpoint, **{name: value})


@pytest.mark.parametrize(("endpoint", "name"), ROW_IDS)
def test_fast_url_for_matches_url_for_for_row_ids(url_app, endpoint, name):
    with url_app.test_request_context("/"):
        for value in (1, 7, 10, 2147483519, 2**31 - 1, "12"):
            assert fast_url_for(endpoint, **{name: value}) == url_for(endpoint, **{name: value})


@pytest.mark.parametrize("value", [0, -5, 2**31])
def test_fast_url_for_leaves_ids_no_row_has_to_url_for(url_app, value):
    with url_app.test_request_context("/"):
        fast_url_for("main.post", post_id=1)  # the pattern is ready: the shortcut is open
        assert fast_url_for("main.post", post_id=value) == url_for("main.post", post_id=value)


def test_fast_url_for_with_several_values_is_url_for(url_app):
    with url_app.test_request_context("/"):
        assert fast_url_for("profile.user", username="ann", page=2) == "/user/ann?page=2"


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(min_size=1))
@example(value=PLACEHOLDER_TEXT)
def test_fast_url_for_matches_url_for_for_generated_text(url_app, value):
    with url_app.test_request_context("/"):
        fast_url_for("profile.user", username="warm")  # the pattern exists already
        assert fast_url_for("profile.user", username=value) == url_for(
            "profile.user", username=value
        )


def test_feed_links_are_url_for_and_escaped(client, login, make_user):
    make_user("bob", posts=1)
    login("ann")
    html = client.get("/explore").get_data(as_text=True)
    assert 'href="/user/bob"' in html and 'data-popup-url="/user/bob/popup"' in html
    post_links = re.findall(r'href="(/post/\d+)"', html)
    assert post_links and all(re.fullmatch(r"/post/[1-9]\d*", link) for link in post_links)
