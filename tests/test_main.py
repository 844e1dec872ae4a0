import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_compress.flask_compress import _uncompress_data

from app.extensions import db
from app.models import Post, User
from tests.helpers import field_value, links_in, post_form, text_of


def post_bodies(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<p class="post-body mb-0">(.*?)</p>', html, flags=re.S)


def stored_posts(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(sa.select(Post.body).order_by(Post.id)).all()


def test_anonymous_home_shows_the_public_feed_and_a_sign_up_call(client, make_user):
    make_user("ann", posts=2)
    response = client.get("/")
    assert response.status_code == 200
    text = text_of(response)
    assert "Sign up" in text and "Log in" in text
    assert post_bodies(response) == ["Post 1 by ann", "Post 0 by ann"]
    assert 'name="body"' not in response.get_data(as_text=True)


def test_index_is_also_served_at_index(client, make_user):
    make_user("ann", posts=1)
    assert post_bodies(client.get("/index")) == ["Post 0 by ann"]


def test_logged_in_home_has_the_post_form_and_an_empty_timeline_pointing_to_explore(
    client, login, make_user
):
    make_user("bob", posts=1)
    login()
    response = client.get("/")
    assert 'name="body"' in response.get_data(as_text=True)
    assert post_bodies(response) == []
    assert "Your timeline is empty" in text_of(response)
    assert ("/explore", "Explore") in links_in(response)


def test_posting_trims_the_body_and_shows_it_first(app, client, login):
    login()
    response = client.post("/", data=post_form("  Hello, world!  \r\n"), follow_redirects=True)
    assert "Your post is live." in text_of(response)
    assert post_bodies(response)[0] == "Hello, world!"
    assert stored_posts(app) == ["Hello, world!"]


def test_post_keeps_line_breaks_and_counts_a_crlf_as_one_character(app, client, login):
    login()
    body = "a" * 139 + "\r\n" + "b" * 140  # 281 characters as sent, 280 as stored
    client.post("/", data=post_form(body))
    assert stored_posts(app) == ["a" * 139 + "\n" + "b" * 140]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write something first."),
        ("   \n\t ", "Write something first."),
        ("x" * 281, "Field cannot be longer than 280 characters."),
        ("null\x00byte", "Remove the invisible control characters"),
        ("bell\x07", "Remove the invisible control characters"),
    ],
)
def test_bad_post_bodies_get_a_form_error_and_store_nothing(app, client, login, body, message):
    login()
    response = client.post("/", data=post_form(body))
    assert response.status_code == 200
    assert message in text_of(response)
    assert stored_posts(app) == []


def test_anonymous_post_to_home_asks_to_log_in_and_stores_nothing(app, client):
    response = client.post("/", data=post_form("sneaky"))
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")
    assert stored_posts(app) == []


def test_post_body_is_escaped(client, login):
    login()
    client.post("/", data=post_form('<script>alert(1)</script><img src=x onerror="alert(2)">'))
    html = client.get("/explore").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=" in html


def test_explore_shows_every_post_newest_first(client, make_user):
    make_user("ann", posts=2)
    make_user("bob", posts=1)  # created later, so newest
    assert post_bodies(client.get("/explore")) == [
        "Post 0 by bob",
        "Post 1 by ann",
        "Post 0 by ann",
    ]


def test_posts_show_author_link_with_hover_card_avatar_and_readable_time(client, make_user):
    make_user("ann", posts=1)
    html = client.get("/explore").get_data(as_text=True)
    assert 'class="user_popup fw-semibold" href="/user/ann"' in html
    assert 'data-popup-url="/user/ann/popup"' in html
    assert re.search(r'src="/avatar/[0-9a-f]{32}\.svg"', html)
    # The time reads as UTC text until moment.js replaces it: never hidden, never blank.
    time = re.search(r'<time class="flask-moment"[^>]*>([^<]+)</time>', html)
    assert 'data-function="fromNow"' in time.group(0)
    assert "display: none" not in time.group(0)
    assert re.fullmatch(r"\d\d \w{3} \d{4}, \d\d:\d\d UTC", time.group(1))


def test_pages_load_moment_js_with_integrity_and_the_glue_as_a_file(app, client):
    html = client.get("/").get_data(as_text=True)
    assert re.search(
        rf'src="{re.escape(app.config["MOMENT_JS_URL"])}" nonce="[^"]+" integrity="sha512-', html
    )
    assert re.search(r'<script src="/js/flask-moment.js" nonce="[^"]+"></script>', html)
    assert "<script>" not in html  # no inline scripts
    glue = client.get("/js/flask-moment.js")
    assert glue.mimetype == "text/javascript"
    assert "function flask_moment_render" in glue.get_data(as_text=True)


def test_moment_js_url_can_point_at_a_self_hosted_copy(app, client):
    app.config["MOMENT_JS_URL"] = "/static/vendor/moment.min.js"
    app.config["MOMENT_JS_SRI"] = ""
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'<script src="/static/vendor/moment.min.js" nonce="[^"]+"></script>', html)


def test_bootstrap_is_served_locally(client):
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'href="/bootstrap/static/css/bootstrap.min.css\?v=[0-9a-f]{12}"', html)
    with client.get("/bootstrap/static/css/bootstrap.min.css") as css:
        assert css.status_code == 200


def test_the_moment_js_glue_runs_only_when_moment_js_loaded(client):
    # Without the guard its first line throws a ReferenceError on every page when the CDN is
    # out of reach; the browser suite checks the page then keeps its UTC times, error-free.
    glue = client.get("/js/flask-moment.js").get_data(as_text=True)
    assert glue.startswith('if (typeof moment === "function") {\n')
    assert glue.rstrip().endswith("}")


ASSETS = [
    "/bootstrap/static/css/bootstrap.min.css",
    "/bootstrap/static/js/bootstrap.min.js",
    "/static/css/app.css",
    "/static/js/popovers.js",
    "/js/flask-moment.js",
]


@pytest.mark.parametrize("path", ASSETS)
@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip"])
def test_assets_are_compressed_for_browsers_that_accept_it(client, path, encoding):
    with client.get(path) as plain:
        original = plain.get_data()
    with client.get(path, headers={"Accept-Encoding": encoding}) as response:
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
        assert _uncompress_data(response.get_data(), encoding) == original
        etag = response.headers.get("ETag")
    if etag:  # revalidation still works on the compressed copy
        headers = {"Accept-Encoding": encoding, "If-None-Match": etag}
        with client.get(path, headers=headers) as again:
            assert again.status_code == 304


def test_pages_fragments_and_json_are_never_compressed(client, login, make_user):
    # Each carries a CSRF token next to text the reader can make it reflect: compressed, their
    # length would leak the token (BREACH).
    make_user("bob", posts=1)
    login("ann")
    everything = {"Accept-Encoding": "gzip, deflate, br, zstd"}
    for response in (
        client.get("/", headers=everything),
        client.get("/settings/password?next=" + "x" * 2000, headers=everything),
        client.get("/user/bob/popup", headers=everything),
        client.post("/follow/bob", headers={**everything, "Accept": "application/json"}),
        client.get("/no/such/page", headers=everything),
    ):
        assert "Content-Encoding" not in response.headers, response.request.path


def test_empty_feed_says_so(client):
    assert "No posts yet." in text_of(client.get("/explore"))


@pytest.mark.parametrize("path", ["/explore", "/"])
def test_feed_statement_count_does_not_grow_with_page_size(
    app, client, login, make_user, sql_log, path
):
    login()
    counts = []
    for per_page in (10, 50):
        app.config["POSTS_PER_PAGE"] = per_page
        for n in range(per_page):  # each post by a different author, the worst case for N+1
            name = f"writer{per_page}_{n}"
            make_user(name, posts=1)
            client.post(f"/follow/{name}")
        sql_log.clear()
        assert len(post_bodies(client.get(path))) == per_page
        counts.append(len(sql_log))
    print(f"statements for {path}: {counts[0]} (page of 10), {counts[1]} (page of 50)")
    assert counts[0] == counts[1]


def test_last_seen_is_written_at_most_once_a_minute(app, client, login, sql_log):
    user_id = login()
    with app.app_context():
        user = db.session.get(User, user_id)
        user.last_seen -= timedelta(minutes=5)
        db.session.commit()
        stale = user.last_seen
    client.get("/explore")
    with app.app_context():
        first = db.session.get(User, user_id).last_seen
    assert first > stale
    sql_log.clear()
    client.get("/explore")
    assert not any(statement.startswith("UPDATE") for statement in sql_log)
    with app.app_context():
        assert db.session.get(User, user_id).last_seen == first


def only_post_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Post.id))


def test_post_permalink_shows_the_post_and_its_author(app, client, make_user):
    make_user("ann", about_me="Hello from Ann", posts=1)
    post_id = only_post_id(app)
    response = client.get(f"/post/{post_id}")
    assert post_bodies(response) == ["Post 0 by ann"]
    text = text_of(response)
    assert "Hello from Ann" in text and "1 post 0 followers 0 following" in text
    assert "Post by ann · Microblog" in text


def test_feed_timestamps_link_to_the_permalink(app, client, make_user):
    make_user("ann", posts=1)
    post_id = only_post_id(app)
    html = client.get("/explore").get_data(as_text=True)
    assert re.search(rf'href="/post/{post_id}">\s*<time', html)


@pytest.mark.parametrize(
    "path",
    ["/post/999", "/post/999/edit", "/post/abc", "/post/0", "/post/-1", "/post/" + "9" * 30],
)
def test_unknown_posts_are_404(client, login, path):
    login()
    assert client.get(path).status_code == 404


def test_deleting_an_impossible_post_id_is_404(client, login):
    login()
    assert client.post("/post/" + "9" * 30 + "/delete").status_code == 404


def test_author_edits_a_post_and_it_shows_as_edited(app, client, login):
    login("ann")
    client.post("/", data=post_form("frist"))
    post_id = only_post_id(app)
    response = client.get(f"/post/{post_id}/edit")
    assert field_value(response, "body") == "frist"
    response = client.post(f"/post/{post_id}/edit", data={"body": " first "}, follow_redirects=True)
    assert response.request.path == f"/post/{post_id}"
    assert "Your post has been updated." in text_of(response)
    assert post_bodies(response) == ["first"]
    assert "· edited" in text_of(response)
    with app.app_context():
        assert db.session.get(Post, post_id).edited_at is not None


def test_saving_an_unchanged_post_does_not_mark_it_edited(app, client, login):
    login("ann")
    client.post("/", data=post_form("same"))
    post_id = only_post_id(app)
    client.post(f"/post/{post_id}/edit", data={"body": "same"})
    with app.app_context():
        assert db.session.get(Post, post_id).edited_at is None


def test_editing_with_a_bad_body_is_a_form_error(app, client, login):
    login("ann")
    client.post("/", data=post_form("keep me"))
    post_id = only_post_id(app)
    response = client.post(f"/post/{post_id}/edit", data={"body": "x" * 281})
    assert "cannot be longer than 280 characters" in text_of(response)
    assert stored_posts(app) == ["keep me"]


def test_only_the_author_may_edit_or_delete(app, client, login, make_user):
    make_user("bob", posts=1)
    post_id = only_post_id(app)
    login("ann")
    assert client.get(f"/post/{post_id}/edit").status_code == 403
    assert client.post(f"/post/{post_id}/edit", data={"body": "mine now"}).status_code == 403
    assert client.post(f"/post/{post_id}/delete").status_code == 403
    assert stored_posts(app) == ["Post 0 by bob"]


def test_anonymous_visitors_cannot_edit_or_delete(app, client, make_user):
    make_user("bob", posts=1)
    post_id = only_post_id(app)
    assert client.get(f"/post/{post_id}/edit").location.startswith("/auth/login")
    assert client.post(f"/post/{post_id}/delete").location.startswith("/auth/login")
    assert stored_posts(app) == ["Post 0 by bob"]


def test_author_deletes_a_post_and_returns_to_the_page(app, client, login):
    user_id = login("ann")
    client.post("/", data=post_form("oops"))
    post_id = only_post_id(app)
    response = client.post(f"/post/{post_id}/delete", data={"next": "/explore?page=1"})
    assert response.location == "/explore?page=1"
    assert stored_posts(app) == []
    with app.app_context():
        assert db.session.get(User, user_id).posts_count == 0
    assert client.get(f"/post/{post_id}").status_code == 404


@pytest.mark.parametrize("page", ["/post/{id}", "/post/{id}/edit", "/post/{id}?from=feed"])
def test_deleting_from_the_posts_own_pages_goes_to_the_profile(app, client, login, page):
    login("ann")
    client.post("/", data=post_form("oops"))
    post_id = only_post_id(app)
    response = client.post(f"/post/{post_id}/delete", data={"next": page.format(id=post_id)})
    assert response.location == "/user/ann"


def test_deleting_from_another_posts_page_returns_there(app, client, login):
    login("ann")
    for body in ("first", "second"):
        client.post("/", data=post_form(body))
    with app.app_context():
        first_id, second_id = db.session.scalars(sa.select(Post.id).order_by(Post.id)).all()
    next_page = f"/post/{first_id}{second_id}"  # starts like /post/<first_id>, is another page
    response = client.post(f"/post/{first_id}/delete", data={"next": next_page})
    assert response.location == next_page


def test_asset_requests_do_not_load_the_user(client, login, sql_log):
    login()
    sql_log.clear()
    for path in ("/static/css/app.css", "/js/flask-moment.js", "/avatar/" + "a" * 32 + ".svg"):
        with client.get(path) as response:
            assert response.status_code == 200
    assert sql_log == []
    client.get("/explore")
    assert sql_log  # a page view does


def test_delete_is_post_only(app, client, login):
    login("ann")
    client.post("/", data=post_form("stay"))
    assert client.get(f"/post/{only_post_id(app)}/delete").status_code == 405
    assert stored_posts(app) == ["stay"]


def test_own_posts_offer_edit_and_a_confirmed_delete(app, client, login, make_user):
    make_user("bob", posts=1)
    login("ann")
    client.post("/", data=post_form("mine"))
    html = client.get("/explore").get_data(as_text=True)
    assert html.count('data-bs-target="#delete-post-modal"') == 1  # on ann's post only
    assert 'id="delete-post-modal"' in html
    assert html.count(">Edit</a>") == 1
