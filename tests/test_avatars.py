"""Avatars reveal nothing about anyone: a random key per user, Gravatar only by choice."""

import hashlib
import re

import pytest

from app.extensions import db
from app.models import User
from tests.helpers import text_of

GRAVATAR_SENTENCE = "which anyone can match against addresses they know"


def avatar_key_of(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).avatar_key


def choose_avatar(client, source: str):
    return client.post("/settings/avatar/source", data={"avatar-source": source})


def test_each_user_gets_a_random_key_and_the_generated_avatar(app, make_user):
    keys = {avatar_key_of(app, make_user(name)) for name in ("ann", "bob", "cid")}
    assert len(keys) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)
    with app.test_request_context(), app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "ann"))
        assert user.avatar(80) == f"/avatar/{user.avatar_key}.svg"


def test_identicon_is_an_svg_cached_for_good(app, client, make_user):
    key = avatar_key_of(app, make_user())
    response = client.get(f"/avatar/{key}.svg")
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith("<svg")
    assert "immutable" in response.headers["Cache-Control"]
    assert response.get_data() == client.get(f"/avatar/{key}.svg").get_data()
    assert response.get_data() != client.get(f"/avatar/{'0' * 32}.svg").get_data()


@pytest.mark.parametrize("key", ["abc", "g" * 32, "A" * 32, "0" * 33, "0" * 64])
def test_identicon_refuses_anything_but_an_avatar_key(client, key):
    assert client.get(f"/avatar/{key}.svg").status_code == 404


def email_digests(address: str) -> set[str]:
    forms = {address, address.lower(), address.strip().lower()}
    return {
        hash_(form.encode()).hexdigest()
        for form in forms
        for hash_ in (hashlib.sha256, hashlib.md5)
    }


def test_no_page_shows_a_digest_of_anyones_email(app, client, login, make_user):
    """Finding 4: avatar URLs published every user's email as an unsalted SHA-256."""
    names = ["ann", "Bob", "cid.d"]
    for name in names[1:]:
        make_user(name, email=f"{name}@Example.com", posts=2)
    login("ann")
    client.post("/follow/Bob")
    pages = ["/explore", "/"]
    for name in names:
        pages += [f"/user/{name}", f"/user/{name}/popup", f"/user/{name}/followers"]
    digests = set().union(*(email_digests(f"{name}@Example.com") for name in names))
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.get_data(as_text=True)
        assert not any(digest in html for digest in digests), page
        for source in re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', html):
            assert re.fullmatch(r"/avatar/[0-9a-f]{32}\.svg", source), (page, source)


def test_gravatar_only_for_the_user_who_chose_it(app, client, login, make_user):
    make_user("bob", posts=1)
    login("ann")
    page = client.get("/settings/avatar")
    assert GRAVATAR_SENTENCE in text_of(page)
    assert choose_avatar(client, "gravatar").status_code == 302
    client.post("/follow/bob")
    html = client.get("/user/ann/following").get_data(as_text=True)
    html += client.get("/user/ann").get_data(as_text=True)
    ann_digest = hashlib.sha256(b"ann@example.com").hexdigest()
    bob_digest = hashlib.sha256(b"bob@example.com").hexdigest()
    assert f"https://www.gravatar.com/avatar/{ann_digest}?d=identicon&amp;s=" in html
    assert bob_digest not in html
    settings = client.get("/settings/avatar").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="gravatar">', settings)
    choose_avatar(client, "generated")
    assert ann_digest not in client.get("/user/ann").get_data(as_text=True)


def test_an_unknown_avatar_source_is_a_form_error(client, login):
    login("ann")
    response = choose_avatar(client, "robohash")
    assert response.status_code == 400
    assert "Not a valid choice" in text_of(response)


def test_a_site_without_gravatar_offers_no_choice_and_draws_every_avatar(app, client, login):
    login("ann")
    choose_avatar(client, "gravatar")
    app.config["GRAVATAR_ENABLED"] = False
    page = client.get("/settings/avatar")
    assert 'value="gravatar"' not in page.get_data(as_text=True)
    assert GRAVATAR_SENTENCE not in text_of(page)
    assert "gravatar" not in client.get("/user/ann").get_data(as_text=True)
    # The choice is kept for when the site offers Gravatar again.
    app.config["GRAVATAR_ENABLED"] = True
    assert "https://www.gravatar.com/avatar/" in client.get("/user/ann").get_data(as_text=True)
