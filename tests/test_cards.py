"""Post cards kept per content (app/cards.py): rendered once, never shown stale."""

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.avatars import AvatarSource
from app.cards import PostCards
from app.extensions import db
from app.models import Mention, Post, PostLike, User
from tests.helpers import signed_in_client


@pytest.fixture
def card_renders(app, monkeypatch) -> list[int]:
    """The ids of the posts whose card macro ran, in order."""
    renders: list[int] = []
    module = app.jinja_env.get_template("_post.html").module
    macro = module.card

    def counted(post, *args):
        renders.append(post.id)
        return macro(post, *args)

    monkeypatch.setattr(module, "card", counted)
    return renders


def edit_row(app, model, row_id: int, **values) -> None:
    """Change a row behind the app's back, as another worker's request would."""
    with app.app_context():
        db.session.execute(sa.update(model).where(model.id == row_id).values(**values))
        db.session.commit()


def posts_section(response) -> str:
    return posts_section_of(response.get_data(as_text=True))


def posts_section_of(html: str) -> str:
    return html[html.index('<section aria-label="Posts">') : html.index("</section>")]


def only_post_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Post.id))


def test_a_card_is_rendered_once_then_reused_by_every_page_and_reader(
    app, client, make_user, card_renders
):
    ann = make_user("ann", posts=3)
    make_user("bob")
    first = posts_section(client.get("/explore"))
    assert len(card_renders) == 3
    assert posts_section(client.get("/explore")) == first
    client.get("/user/ann")
    assert len(card_renders) == 3
    # Readers get a Like button, so cards of their own; every reader shares them.
    signed_in_client(app, make_user("cid")).get("/explore")
    signed_in_client(app, make_user("dan")).get("/explore")
    assert len(card_renders) == 6
    signed_in_client(app, ann).get("/explore")  # the author's own cards have Edit and Delete
    assert len(card_renders) == 9


def test_a_shared_card_carries_each_readers_own_form_token_and_address(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("ann", posts=1)
    tokens = set()
    for reader in ("cid", "dan"):
        client = signed_in_client(app, make_user(reader))
        html = client.get("/explore?page=1").get_data(as_text=True)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
        card = posts_section_of(html)
        assert f'name="csrf_token" value="{token}"' in card
        assert 'name="next" value="/explore?page=1"' in card
        assert "<!--" not in card
        tokens.add(token)
    assert len(tokens) == 2


@pytest.mark.parametrize(
    ("model", "change", "shown"),
    [
        (Post, {"body": "Changed words"}, "Changed words"),
        (Post, {"edited_at": datetime(2026, 1, 2, 3, 4)}, "· edited"),
        (User, {"username": "anna", "username_skeleton": "anna"}, 'href="/user/anna"'),
        (User, {"avatar_key": "f" * 32}, f"/avatar/{'f' * 32}.svg"),
        (Post, {"replies_count": 5}, "5 replies"),
        (Post, {"likes_count": 7}, "7 likes"),
    ],
)
def test_a_change_to_anything_the_card_shows_gets_a_new_card(
    app, client, make_user, model, change, shown
):
    ann = make_user("ann", posts=1)
    assert shown not in posts_section(client.get("/explore"))
    edit_row(app, model, ann if model is User else only_post_id(app), **change)
    assert shown in posts_section(client.get("/explore"))


def test_the_authors_own_card_is_kept_apart_from_everyone_elses(app, make_user):
    ann = make_user("ann", posts=1)
    bob = make_user("bob")
    readers = {"ann": signed_in_client(app, ann), "bob": signed_in_client(app, bob)}
    readers["visitor"] = app.test_client()
    for _ in range(2):
        shown = {
            name: "data-delete-url" in posts_section(c.get("/explore"))
            for name, c in readers.items()
        }
        assert shown == {"ann": True, "bob": False, "visitor": False}


def test_the_permalinks_card_keeps_its_own_heading_level(app, client, make_user):
    make_user("ann", posts=1)
    assert '<h2 class="visually-hidden">' in client.get("/explore").get_data(as_text=True)
    post = client.get(f"/post/{only_post_id(app)}").get_data(as_text=True)
    assert '<h1 class="visually-hidden">Post by ann</h1>' in post


def test_an_app_mounted_below_the_root_gets_cards_with_its_own_links(app, client, make_user):
    # With a Gravatar the avatar's URL is the same below the root: only the links differ.
    app.config["GRAVATAR_ENABLED"] = True
    ann = make_user("ann", posts=1)
    edit_row(app, User, ann, avatar_source=AvatarSource.GRAVATAR)
    client.get("/explore")
    html = client.get("/explore", base_url="http://localhost/blog").get_data(as_text=True)
    assert re.search(r'class="user_popup fw-semibold" href="/blog/user/ann"', html)
    assert f'href="/blog/post/{only_post_id(app)}"' in html


def test_the_cache_keeps_at_most_its_size(app, client, make_user):
    app.config["POST_CARD_CACHE_SIZE"] = 4
    app.extensions["post_cards"] = cards = PostCards(app)
    make_user("ann", posts=10)
    client.get("/explore")
    assert len(cards.cache) == 4


def test_a_size_of_zero_renders_every_time(app, client, make_user, card_renders):
    app.config["POST_CARD_CACHE_SIZE"] = 0
    app.extensions["post_cards"] = PostCards(app)
    make_user("ann", posts=2)
    client.get("/explore")
    client.get("/explore")
    assert len(card_renders) == 4


def test_reloading_templates_renders_every_time(app, client, make_user, card_renders):
    app.jinja_env.auto_reload = True  # what flask run --debug sets
    make_user("ann", posts=2)
    client.get("/explore")
    client.get("/explore")
    assert len(card_renders) == 4


@pytest.mark.parametrize("change", ["like", "mention", "rename"])
def test_what_the_card_reads_beside_the_post_gets_a_new_card(app, make_user, change):
    """The reader's like, the accounts mentioned, and the name of the author answered."""
    ann, bob = make_user("ann"), make_user("bob", posts=1)
    with app.app_context():
        answered = db.session.scalar(sa.select(Post))
        reply = db.session.get(User, ann).publish("Hi @dan", reply_to=answered)  # no dan yet
        db.session.commit()
        reply_id = reply.id
    cid = make_user("cid")
    reader = signed_in_client(app, cid)
    shown = {
        "like": 'aria-pressed="true"',
        "mention": 'href="/user/dan" data-popup-url="/user/dan/popup">@dan</a>',
        "rename": "@bobby</a></p>",
    }[change]
    assert shown not in card_in(reader.get("/explore"), reply_id)
    with app.app_context():
        if change == "like":
            db.session.add(PostLike(user_id=cid, post_id=reply_id))
        elif change == "mention":
            db.session.add(Mention(post_id=reply_id, user_id=make_user("dan")))
        db.session.commit()
    if change == "rename":
        edit_row(app, User, bob, username="bobby", username_skeleton="bobby")
    assert shown in card_in(reader.get("/explore"), reply_id)


def card_in(response, post_id: int) -> str:
    html = posts_section(response)
    start = html.index(f'id="post-{post_id}"')
    return html[start : html.index("</article>", start)]
