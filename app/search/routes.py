"""Search: posts by their words, people by name and about-me words, tags by how they begin."""

import re

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from app.auth.sessions import user_or_address
from app.extensions import config_limit, limiter
from app.models import (
    MATCHES_MAX,
    NEWEST,
    RELEVANCE,
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
    search_people,
    search_posts,
    search_tags,
)
from app.pagination import Page, page_count, per_page, requested_page
from app.post_text import tag_key_prefix
from app.search_query import MAX_WORDS, SearchQuery
from app.transactions import without_transaction

bp = Blueprint("search", __name__)

POSTS, PEOPLE, TAGS = "posts", "people", "tags"
KINDS = {POSTS: "Posts", PEOPLE: "People", TAGS: "Tags"}
SORTS = {RELEVANCE: "Best match", NEWEST: "Newest"}


def username_prefix(text: str) -> str | None:
    """The lower-cased start of the usernames ``text`` (``@`` optional) may begin; None when
    no username can begin so."""
    name = text.removeprefix("@")
    if len(name) > USERNAME_MAX_LENGTH or not re.match(USERNAME_PATTERN, name):
        return None
    return name.lower()


def chosen(name: str, choices: dict[str, str], default: str) -> str:
    """``?name=``'s value when it is one of ``choices``; anything else means the default."""
    value = request.args.get(name)
    return value if value in choices else default


@bp.get("/search")
@limiter.limit(config_limit("SEARCH_RATE_LIMIT"), key_func=user_or_address)
@without_transaction
def search():
    query = SearchQuery.parse(request.args.get("q", ""))
    text = query.text
    # "@name" is most likely someone's name.
    kind = chosen("type", KINDS, PEOPLE if text.startswith("@") else POSTS)
    sort = chosen("sort", SORTS, RELEVANCE)
    number, size = requested_page(), per_page()
    offset = (number - 1) * size
    if offset >= MATCHES_MAX:  # past anything a search finds
        abort(404)
    followed_ids: set[int] = set()
    if kind == POSTS:
        viewer_id = current_user.id if current_user.is_authenticated else None
        found = search_posts(query, sort, viewer_id, offset, size)
    elif kind == PEOPLE:
        found = search_people(username_prefix(text), query, offset, size)
        if current_user.is_authenticated:
            followed_ids = current_user.following_among(found.items)
    else:
        found = search_tags(tag_key_prefix(text), offset, size)
    if number > 1 and not found.items:
        abort(404)
    pages = page_count(found.total)
    pagination = Page(
        found.items,
        number,
        pages,
        has_newer=number > 1,
        has_older=number < pages,
        newer_label="‹ Previous",
        older_label="Next ›",
    )
    return render_template(
        "search/search.html",
        title=f"Search: {text}" if text else "Search",
        text=text,
        query=query,
        kind=kind,
        kinds=KINDS,
        sort=sort,
        sorts=SORTS,
        found=found,
        max_words=MAX_WORDS,
        pagination=pagination,
        followed_ids=followed_ids,
    )
