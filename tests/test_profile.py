import re
from pathlib import Path

import pytest
from flask import template_rendered

from app.extensions import db
from app.models import User
from app.profile.routes import CARD_FIELDS, CARD_TEMPLATES
from tests.helpers import field_value, post_form, text_of

XSS = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def get_user(app, user_id: int) -> User:
    with app.app_context():
        return db.session.get(User, user_id)


def test_profile_shows_the_user_and_their_posts(client, make_user):
    make_user("ann", about_me="I write\nshort things.", posts=2)
    make_user("bob", posts=1)
    response = client.get("/user/ann")
    text = text_of(response)
    assert "ann" in text and "I write short things." in text
    assert "Member since" in text and "Last seen" in text
    assert "2 posts" in text
    assert "Post 1 by ann" in text and "Post 0 by ann" in text
    assert "by bob" not in text
    html = response.get_data(as_text=True)
    assert 'data-function="format" data-format="LLL"' in html  # last seen
    assert '<p class="about-me mb-2">I write\nshort things.</p>' in html


def test_profile_of_a_user_without_posts_says_so(client, make_user):
    make_user("ann")
    assert "ann has not posted yet." in text_of(client.get("/user/ann"))


def test_profile_paginates(app, client, make_user):
    app.config["POSTS_PER_PAGE"] = 2
    make_user("ann", posts=5)
    response = client.get("/user/ann?page=3")
    assert "Post 0 by ann" in text_of(response)
    assert "5 posts" in text_of(response)
    assert client.get("/user/ann?page=4").status_code == 404


def test_unknown_profile_is_404(client):
    response = client.get("/user/nobody")
    assert response.status_code == 404
    assert "There is nothing here." in text_of(response)


def test_profile_address_in_another_case_redirects_to_the_username_as_written(client, make_user):
    make_user("Ann")
    response = client.get("/user/ANN?page=2&username=x")
    assert response.status_code == 301
    assert response.location == "/user/Ann?page=2&username=x"  # the query as it came


def test_own_profile_has_an_edit_button_others_do_not(client, login, make_user):
    make_user("bob")
    login("ann")
    assert "Edit profile" in text_of(client.get("/user/ann"))
    assert "Edit profile" not in text_of(client.get("/user/bob"))


def test_popup_fragment_has_avatar_name_about_last_seen_and_post_count(client, make_user):
    make_user("ann", about_me="Hello there", posts=3)
    response = client.get("/user/ann/popup")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<nav" not in html  # a fragment, not a page
    text = text_of(response)
    assert "ann" in text and "Hello there" in text and "3 posts" in text
    assert "Last seen" in text and 'data-format="LLL"' in html
    assert '<img class="avatar' in html


def test_popup_works_for_anonymous_visitors_without_a_login_page(client, make_user):
    make_user("ann")
    response = client.get("/user/ann/popup")
    assert response.status_code == 200
    assert "Log in" not in text_of(response)


def test_popup_for_an_unknown_user_is_404(client):
    assert client.get("/user/nobody/popup").status_code == 404


@pytest.mark.parametrize("path", ["/user/ann", "/user/ann/popup", "/explore"])
def test_about_me_and_posts_are_escaped_everywhere(client, login, path):
    login("ann")
    client.post("/settings/profile", data={"username": "ann", "about_me": XSS})
    client.post("/", data=post_form(XSS))
    html = client.get(path).get_data(as_text=True)
    assert "<img src=x" not in html and "<script>alert" not in html
    if path != "/explore":
        assert "&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_edit_profile_form_is_filled_with_the_current_values(client, login, make_user):
    login("ann")
    client.post("/settings/profile", data={"username": "ann", "about_me": "Hi"})
    response = client.get("/settings/profile")
    assert field_value(response, "username") == "ann"
    assert field_value(response, "about_me") == "Hi"


def test_edit_profile_changes_username_and_about_me(app, client, login):
    user_id = login("ann")
    response = client.post(
        "/settings/profile",
        data={"username": "Annie", "about_me": "  New me  "},
        follow_redirects=True,
    )
    assert response.request.path == "/user/Annie"
    assert "Your profile has been saved." in text_of(response)
    user = get_user(app, user_id)
    assert (user.username, user.about_me) == ("Annie", "New me")
    assert client.get("/user/ann").status_code == 404


def test_edit_profile_may_change_only_the_case_of_ones_own_name(app, client, login):
    user_id = login("ann")
    client.post("/settings/profile", data={"username": "ANN", "about_me": ""})
    user = get_user(app, user_id)
    assert (user.username, user.about_me) == ("ANN", None)


def test_edit_profile_refuses_a_name_taken_in_any_case_and_keeps_the_form(
    app, client, login, make_user
):
    make_user("bob")
    user_id = login("ann")
    response = client.post("/settings/profile", data={"username": "BOB", "about_me": "kept"})
    assert response.status_code == 200
    assert "That username is taken." in text_of(response)
    assert field_value(response, "username") == "BOB"
    assert field_value(response, "about_me") == "kept"
    assert get_user(app, user_id).username == "ann"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "a b", "about_me": ""}, "Use only letters, digits"),
        ({"username": "ann", "about_me": "x" * 281}, "cannot be longer than 280 characters"),
        ({"username": "ann", "about_me": "\x00"}, "Remove the invisible control characters"),
        ({"username": "", "about_me": ""}, "This field is required."),
    ],
)
def test_edit_profile_rejects_bad_input(app, client, login, data, message):
    user_id = login("ann")
    response = client.post("/settings/profile", data=data)
    assert message in text_of(response)
    user = get_user(app, user_id)
    assert (user.username, user.about_me) == ("ann", None)


def test_edit_profile_race_lost_at_the_unique_index_is_a_form_error(
    app, client, login, make_user, monkeypatch
):
    make_user("bob")
    user_id = login("ann")
    for check in ("username_taken", "username_lookalike"):  # as if another request won
        monkeypatch.setattr(User, check, classmethod(lambda cls, name, **kw: False))
    response = client.post("/settings/profile", data={"username": "Bob", "about_me": ""})
    assert "That username was just taken." in text_of(response)
    assert get_user(app, user_id).username == "ann"


def test_edit_profile_needs_login(client):
    response = client.get("/settings/profile")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")


def test_profile_statement_count_does_not_grow_with_page_size(app, client, make_user, sql_log):
    counts = []
    for per_page in (10, 50):
        app.config["POSTS_PER_PAGE"] = per_page
        make_user(f"writer{per_page}", posts=per_page)
        sql_log.clear()
        client.get(f"/user/writer{per_page}")
        counts.append(len(sql_log))
    assert counts[0] == counts[1]


# --- The hover card's ETag: a repeat hover on another page costs a 304, not a render --------


def rendered_templates(app):
    names: list[str] = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(record, app)
    return names


def test_a_repeat_hover_gets_a_304_without_rendering(app, client, login, make_user):
    make_user("bob", about_me="Hi")
    login("ann")
    first = client.get("/user/bob/popup")
    etag = first.headers["ETag"]
    rendered = rendered_templates(app)
    again = client.get("/user/bob/popup", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert rendered == []
    # A stale or foreign tag gets the card.
    other = client.get("/user/bob/popup", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and "Hi" in text_of(other)


def test_the_card_is_kept_privately_and_checked_before_each_use(client, login, make_user):
    make_user("bob")
    visitor = client.get("/user/bob/popup")
    login("ann")
    reader = client.get("/user/bob/popup")
    for response in (visitor, reader):
        assert set(response.headers["Cache-Control"].replace(" ", "").split(",")) == {
            "private",
            "no-cache",
        }
        assert "Cookie" in response.headers["Vary"]
    assert 'name="csrf_token"' not in reader.get_data(as_text=True)  # no token kept anywhere


def test_following_or_a_new_about_me_changes_the_etag(client, login, make_user):
    make_user("bob")
    login("ann")
    tags = [client.get("/user/bob/popup").headers["ETag"]]
    client.post("/follow/bob")
    followed = client.get("/user/bob/popup", headers={"If-None-Match": tags[-1]})
    assert followed.status_code == 200 and ">Unfollow</button>" in followed.get_data(as_text=True)
    tags.append(followed.headers["ETag"])
    client.post("/auth/logout")
    login("bob", create=False)
    client.post("/settings/profile", data={"username": "bob", "about_me": "New words"})
    client.post("/auth/logout")
    login("ann", create=False)
    changed = client.get("/user/bob/popup", headers={"If-None-Match": tags[-1]})
    assert changed.status_code == 200 and "New words" in text_of(changed)
    tags.append(changed.headers["ETag"])
    assert len(set(tags)) == 3


def test_another_reader_with_the_same_etag_gets_their_own_card(client, login, make_user):
    make_user("bob")
    login("ann")
    client.post("/follow/bob")
    etag = client.get("/user/bob/popup").headers["ETag"]
    client.post("/auth/logout")  # the next person at this browser
    visitor = client.get("/user/bob/popup", headers={"If-None-Match": etag})
    assert visitor.status_code == 200 and "Unfollow" not in visitor.get_data(as_text=True)
    login("cid")
    reader = client.get("/user/bob/popup", headers={"If-None-Match": visitor.headers["ETag"]})
    assert reader.status_code == 200 and ">Follow</button>" in reader.get_data(as_text=True)


def test_the_etag_covers_everything_the_card_reads_of_its_user():
    folder = Path(__file__).parent.parent / "app" / "templates"
    read = set()
    for name in CARD_TEMPLATES:
        read |= set(re.findall(r"\buser\.(\w+)", (folder / name).read_text()))
    assert read <= {*CARD_FIELDS, "avatar"}, "add the new field to CARD_FIELDS"
