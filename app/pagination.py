"""Paging through lists at a cost that does not grow with the site.

Totals come from stored counts, never from counting rows. A page of posts is found from a
cursor when the reader steps to the next or previous page ("older than post N": a short walk
down an index, however deep the page), and by its number otherwise, counted from whichever end
of the list is nearer, so the last page costs what the first does.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import abort, current_app, request

from app.extensions import ROW_ID_MAX, db, signed_in_reader
from app.models import Post
from app.models.feed import (
    FROM_NEWEST,
    FROM_OLDEST,
    NEWER_THAN_CURSOR,
    OLDER_THAN_CURSOR,
    ChosenFeed,
)

Item = TypeVar("Item")

OLDER_THAN = "older_than"
NEWER_THAN = "newer_than"
# Page links around the current one, besides the first and the last.
NEIGHBOURS = 2


@dataclass(frozen=True)
class PageLink:
    label: str
    url: str
    rel: str | None = None
    current: bool = False


@dataclass
class Page(Generic[Item]):
    """One page of a list: its items, its number, the number of pages and the pager's links."""

    items: list[Item]
    number: int
    pages: int
    has_newer: bool
    has_older: bool
    # Cursors for the neighbouring pages: the ids of this page's newest and oldest items.
    newer_than: int | None = None
    older_than: int | None = None
    # What the links to the neighbouring pages say: a list not in time order says "Previous".
    newer_label: str = "‹ Newer"
    older_label: str = "Older ›"
    # How many items the list has in all, where the page was found by number from it.
    total: int | None = None

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def url(self, number: int, **cursor: int) -> str:
        """This page's address for page ``number``, the request's other arguments kept.

        The arguments are put in the query string as they came, never handed to url_for as
        keywords, where ``?username=`` or ``?_external=`` would change the link or fail.
        """
        args = [
            (name, value)
            for name, value in request.args.items(multi=True)
            if name not in ("page", OLDER_THAN, NEWER_THAN)
        ]
        if number > 1:
            args.append(("page", str(number)))
        args += [(name, str(value)) for name, value in cursor.items()]
        return f"{request.path}?{urlencode(args)}" if args else request.path

    def newer_url(self) -> str:
        if self.number == 2 or self.newer_than is None:
            return self.url(self.number - 1)
        return self.url(self.number - 1, **{NEWER_THAN: self.newer_than})

    def older_url(self) -> str:
        if self.older_than is None:
            return self.url(self.number + 1)
        return self.url(self.number + 1, **{OLDER_THAN: self.older_than})

    def links(self) -> list[PageLink | None]:
        """The pager: Newer, the first and last page numbers and this page's neighbours (None
        where numbers are left out), Older."""
        if self.pages <= 1:
            return []
        links: list[PageLink | None] = []
        if self.has_newer:
            links.append(PageLink(self.newer_label, self.newer_url(), rel="prev"))
        numbers = {1, self.pages} | set(
            range(max(1, self.number - NEIGHBOURS), min(self.pages, self.number + NEIGHBOURS) + 1)
        )
        previous = 0
        for number in sorted(numbers):
            if number > previous + 1:
                links.append(None)
            if number == self.number:
                links.append(PageLink(str(number), self.url(number), current=True))
            elif number == self.number - 1:
                links.append(PageLink(str(number), self.newer_url()))
            elif number == self.number + 1:
                links.append(PageLink(str(number), self.older_url()))
            else:
                links.append(PageLink(str(number), self.url(number)))
            previous = number
        if self.has_older:
            links.append(PageLink(self.older_label, self.older_url(), rel="next"))
        return links


def requested_page() -> int:
    """The ``?page=`` number; anything that is not a positive whole number means page 1."""
    page = request.args.get("page", 1, type=int)
    return max(page, 1)


def requested_cursor(name: str) -> int | None:
    """The post id in ``?older_than=`` or ``?newer_than=``; anything else there is ignored."""
    value = request.args.get(name, type=int)
    if value is None or not 1 <= value <= ROW_ID_MAX:
        return None
    return value


def per_page() -> int:
    return current_app.config["POSTS_PER_PAGE"]


def page_count(total: int) -> int:
    return max(1, math.ceil(total / per_page()))


def number_or_404(total: int) -> int:
    number = requested_page()
    if number > page_count(total):
        abort(404)
    return number


def paginate(stmt: sa.Select, total: int) -> Page:
    """One page of ``stmt``'s rows by number, ``total`` (a stored count) long in all; 404 past
    the last page. For lists bounded by one user's follows: the page is found by OFFSET."""
    number = number_or_404(total)
    items = list(db.session.scalars(stmt.limit(per_page()).offset((number - 1) * per_page())))
    pages = page_count(total)
    return Page(items, number, pages, has_newer=number > 1, has_older=number < pages, total=total)


def paginate_posts(feed: ChosenFeed, total: int | None = None) -> Page[Post]:
    """One page of ``feed``, newest first, each post with its author, in one statement; 404
    past the last page. ``total`` is the feed's stored count when the caller has it; else the
    first page and the cursors' pages read it with their posts, and a page asked for by
    number reads it first, to know where to start.

    A page read newest first asks for one post more than it shows: whether that one comes
    tells whether there is a page beyond, whatever the stored counts say. A cursor's page
    number is the reader's (the link's) and is only kept within the pages there are.
    """
    size = per_page()
    feed = feed.seen_by(signed_in_reader())
    feed, total = feed.given_total(total)
    if (older_than := requested_cursor(OLDER_THAN)) is not None:
        posts, total = feed.page(OLDER_THAN_CURSOR, total, cursor=older_than, limit=size + 1)
        pages = page_count(total)
        has_older = len(posts) > size
        posts = posts[:size]
        number = min(max(requested_page(), 2), max(pages - 1, 2)) if has_older else max(pages, 2)
        page = Page(posts, number, max(pages, number), has_newer=True, has_older=has_older)
    elif (newer_than := requested_cursor(NEWER_THAN)) is not None:
        posts, total = feed.page(NEWER_THAN_CURSOR, total, cursor=newer_than, limit=size + 1)
        has_newer = len(posts) > size
        if not has_newer and len(posts) < size:  # the top was reached: show a full first page
            return paginate_posts_by_number(feed, 1, total)
        pages = page_count(total)
        posts = posts[-size:]
        number = min(max(requested_page(), 2), max(pages - 1, 2)) if has_newer else 1
        page = Page(posts, number, max(pages, number), has_newer=has_newer, has_older=True)
    elif requested_page() == 1:
        return paginate_posts_by_number(feed, 1, total)
    else:
        total = feed.total() if total is None else total
        return paginate_posts_by_number(feed, number_or_404(total), total)
    if not page.items:
        abort(404)
    page.newer_than, page.older_than = page.items[0].id, page.items[-1].id
    return page


def paginate_posts_by_number(feed: ChosenFeed, number: int, total: int | None) -> Page[Post]:
    """Page ``number``; ``total`` may be None (read with the posts) on the first page only."""
    size = per_page()
    newer = (number - 1) * size  # posts on the pages before this one
    if number == 1 or newer <= total - newer - size:
        posts, total = feed.page(FROM_NEWEST, total, offset=newer, limit=size + 1)
        has_older = len(posts) > size
        posts = posts[:size]
    else:  # nearer the end: counted from the oldest post, the last page is as cheap as the first
        older = total - newer - size  # posts on the pages after this one
        limit = size + min(older, 0)
        posts, total = feed.page(FROM_OLDEST, total, offset=max(older, 0), limit=limit)
        has_older = older > 0
    if number > 1 and not posts:
        abort(404)
    page = Page(posts, number, page_count(total), has_newer=number > 1, has_older=has_older)
    if posts:
        page.newer_than, page.older_than = posts[0].id, posts[-1].id
    return page
