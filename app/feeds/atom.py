"""Atom 1.0 feeds of posts: ``atom_feed_response(title, page_url, feed_url, posts, ...)``.

The XML is written by feedgenerator (Django's feed writer, packaged on its own). A feed is read
away from the site, so every link in it is absolute, built under ``APP_BASE_URL`` (else under
the request's own address, as mails are). An entry's content is the post's body as its card
shows it: escaped text with its web links, tags and known mentions linked; its title is plain
text.

Feed readers ask again every few minutes. The answer carries an ETag naming everything the
feed shows and a Last-Modified (its newest post or edit); a reader that sends either back gets
a 304, decided before any XML is written.
"""

import functools
import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from feedgenerator import Atom1Feed
from flask import Response, current_app, request

from app.email import absolute_url, link_base
from app.models import Post
from app.post_text import render_body

FEED_LENGTH = 20  # the newest posts, newest first
MAX_AGE = 300  # seconds a reader or a shared cache may keep a feed before asking again
TITLE_LENGTH = 80  # characters of the body an entry's title shows at most
# Part of every ETag: raise it when the XML for the same posts changes, so copies kept by
# readers are replaced.
FORMAT_VERSION = 1
# Characters XML 1.0 cannot carry at all. Forms refuse the control characters among them, but
# a feed must stay well-formed whatever a row holds (U+FFFE and U+FFFF pass the forms).
NOT_XML = re.compile(r"[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


class _AtomFeed(Atom1Feed):
    """feedgenerator's Atom feed with its ``updated`` given: left to itself it takes the time
    of writing when there are no entries, which would change the feed at every request."""

    def latest_post_date(self) -> datetime:
        return self.feed["updated"]


def external_url_for() -> Callable[..., str]:
    """A ``url_for(endpoint, **values)`` giving absolute URLs, for feeds."""
    return functools.partial(absolute_url, link_base())


def atom_feed_response(
    title: str,
    page_url: str,
    feed_url: str,
    posts: Sequence[Post],
    *,
    updated_when_empty: datetime,
    author: tuple[str, str] | None = None,
) -> Response:
    """The Atom feed of ``posts`` (newest first, loaded with ``card_options``), or a 304 when
    the reader's copy is current.

    ``page_url`` is the HTML page the feed follows and ``feed_url`` the feed's own address
    (also its id), both absolute (``external_url_for``); ``updated_when_empty`` is the feed's
    time without posts; ``author`` is the feed's (name, URL) when it is one person's.
    """
    url_for = external_url_for()
    updated = max((entry_updated(post) for post in posts), default=as_utc(updated_when_empty))
    shown = [
        (
            post.id,
            post.body,
            post.created_at,
            post.edited_at,
            post.author.username,
            sorted(post.mentions.values()),  # the names the database gave, in no set order
        )
        for post in posts
    ]
    parts = (FORMAT_VERSION, url_for("main.index"), title, page_url, feed_url, author, shown)
    etag = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    if is_fresh(etag, updated):
        response = current_app.response_class(status=304)  # the reader's copy is current
    else:
        feed = build_feed(title, page_url, feed_url, posts, updated, author, url_for)
        response = current_app.response_class(
            feed.writeString("utf-8"), content_type=Atom1Feed.content_type
        )
    response.set_etag(etag)
    response.last_modified = updated
    # The same for every reader (the view loads nobody), so shared caches may keep it too.
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


def is_fresh(etag: str, last_modified: datetime) -> bool:
    """Whether the reader's copy is the current feed (RFC 9110, 13.2.2): If-None-Match decides
    when sent, else If-Modified-Since, to the second."""
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return since is not None and last_modified.replace(microsecond=0) <= since


def build_feed(
    title: str,
    page_url: str,
    feed_url: str,
    posts: Sequence[Post],
    updated: datetime,
    author: tuple[str, str] | None,
    url_for: Callable[..., str],
) -> Atom1Feed:
    author_name, author_url = author or (None, None)
    feed = _AtomFeed(
        title=title,
        link=page_url,
        description=None,
        feed_url=feed_url,
        feed_guid=feed_url,
        author_name=author_name,
        author_link=author_url,
        updated=updated,
    )
    for post in posts:
        permalink = url_for("main.post", post_id=post.id)
        body = xml_text(post.body)
        feed.add_item(
            title=excerpt(body) or f"Post {post.id}",
            link=permalink,
            unique_id=permalink,
            description=None,
            content=render_body(body, post.mentions, url_for),
            author_name=post.author.username,
            author_link=url_for("profile.user", username=post.author.username),
            pubdate=as_utc(post.created_at),
            updateddate=entry_updated(post),
        )
    return feed


def as_utc(moment: datetime) -> datetime:
    """A stored time (naive UTC) as an aware one, which feeds and HTTP headers name as UTC."""
    return moment.replace(tzinfo=UTC)


def entry_updated(post: Post) -> datetime:
    return as_utc(post.edited_at or post.created_at)


def xml_text(text: str) -> str:
    return NOT_XML.sub("", text)


def excerpt(body: str) -> str:
    """The body on one line, ended at a word near ``TITLE_LENGTH`` characters: a title."""
    text = " ".join(body.split())
    if len(text) <= TITLE_LENGTH:
        return text
    cut = text[: TITLE_LENGTH - 1]
    space = cut.rfind(" ")
    if space > TITLE_LENGTH // 2:  # a word ends in the second half: stop there
        cut = cut[:space]
    return f"{cut}…"
