"""Post cards, rendered once per content and kept per process: a feed's most repeated markup.

A page of posts spends more on its cards than on anything else, and the same posts come back
on every reader's explore page, on their followers' timelines and on their author's profile.
``post_card(post, viewer_id, heading_level)`` (a template global) renders ``_post.html``'s
``card`` macro the first time, and later gives back the same markup for as long as nothing it
shows has changed: the cache key holds every value the card is drawn from, so an edit, a new
username or a new avatar is a new key, never a stale card. Keys are kept least recently used
first out, ``POST_CARD_CACHE_SIZE`` of them per process (0 turns the cache off).

With templates reloading (``flask run --debug``), cards are rendered every time, so an edit to
the template shows at once.
"""

import enum
import threading
from collections.abc import Hashable

import regex
from cachetools import LRUCache, cached
from flask import Flask, current_app, g, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from app.models import Post
from app.post_text import render_body
from app.search_query import highlighted

# Above a feed page's worth of cards for every post on the busiest pages (explore's first
# pages, the followed authors of many readers): about 1.5 kB each, so a few MB per worker.
DEFAULT_CACHE_SIZE = 4096
AVATAR_PIXELS = 96  # the avatar the card shows, 48 CSS pixels at twice the density


# What only the request knows, in a card's forms: written as comments, which no escaped text
# can contain, and put in place each time the card is shown (see post_card).
CSRF_TOKEN_MARK = Markup("<!--csrf-token-->")
RETURN_TO_MARK = Markup("<!--return-to-->")


class Role(enum.StrEnum):
    """Who reads the card, as far as the card cares."""

    VISITOR = "visitor"  # signed out: counts, no forms
    READER = "reader"  # signed in: a Like button
    AUTHOR = "author"  # the post's own author: Edit and Delete too


def card_key(post: Post, role: Role, heading_level: int) -> Hashable:
    """Everything the card macro reads. Whoever changes the macro changes this with it;
    tests/test_cards.py checks that each of these changes the card."""
    author = post.author
    return (
        request.script_root,  # the links' prefix when the app is mounted below the root
        post.id,
        post.body,
        post.created_at,
        post.edited_at,
        post.reply_to_username,  # (what it answers is fixed with the post's id)
        post.mentioned_usernames,
        post.replies_count,
        post.likes_count,
        post.liked,
        author.username,
        author.avatar(AVATAR_PIXELS),
        role,
        heading_level,
    )


class PostCards:
    """An app's card renderer and its cache."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        size = app.config.get("POST_CARD_CACHE_SIZE", DEFAULT_CACHE_SIZE)
        self.cache = LRUCache(maxsize=size) if size else None
        self.cached_render = (
            cached(self.cache, key=card_key, lock=threading.Lock())(self.render)
            if self.cache is not None
            else self.render
        )

    def render(self, post: Post, role: Role, heading_level: int) -> Markup:
        card = self.app.jinja_env.get_template("_post.html").module.card
        return Markup(card(post, role, heading_level, CSRF_TOKEN_MARK, RETURN_TO_MARK))

    def __call__(self, post: Post, role: Role, heading_level: int) -> Markup:
        if self.app.jinja_env.auto_reload:
            return self.render(post, role, heading_level)
        return self.cached_render(post, role, heading_level)


def post_card(
    post: Post,
    viewer_id: int | None = None,
    heading_level: int = 2,
    highlighter: regex.Pattern | None = None,
) -> Markup:
    """One post's card; the post must come with what ``card_options`` loads. ``viewer_id``
    is the signed-in reader's id, or None; ``highlighter`` finds the words a search marks."""
    if viewer_id is None:
        role = Role.VISITOR
    else:
        role = Role.AUTHOR if post.author_id == viewer_id else Role.READER
    html = current_app.extensions["post_cards"](post, role, heading_level)
    if highlighter is not None:
        html = with_words_marked(html, post, highlighter)
    if role == Role.VISITOR:
        return html
    token, here = marks_for_this_request()
    return Markup(html.replace(CSRF_TOKEN_MARK, token).replace(RETURN_TO_MARK, here))


# Where _post.html shows a body, the one place in a card a search's marks go. A body's HTML
# holds no "</p>": its text is escaped, and its only tags are links and marks.
_BODY_START = Markup('<p class="post-body mb-0">')
_BODY_END = Markup("</p>")


def with_words_marked(card: Markup, post: Post, highlighter: regex.Pattern) -> Markup:
    """The kept card with its body's words marked: a search's results cost a body each, not
    a card each, and leave no card of theirs in the cache."""
    start = card.index(_BODY_START) + len(_BODY_START)
    end = card.index(_BODY_END, start)
    marked = render_body(post.body, post.mentions, highlight=highlighter)
    return Markup(card[:start] + marked + card[end:])


def marks_for_this_request() -> tuple[Markup, Markup]:
    """The reader's form token and this page's address, escaped: worked out once a page."""
    marks = g.get("post_card_marks")
    if marks is None:
        here = g.get("post_card_page") or (
            request.full_path if request.query_string else request.path
        )
        marks = g.post_card_marks = (escape(generate_csrf()), escape(here))
    return marks


def set_page_path(path: str) -> None:
    """Cards drawn for another page (new posts a script puts on it) send their readers back
    to ``path`` after a form, not to this request's address."""
    g.post_card_page = path


def init_app(app: Flask) -> None:
    app.extensions["post_cards"] = PostCards(app)
    app.add_template_global(post_card)
    app.add_template_global(render_body)
    app.add_template_global(highlighted)
