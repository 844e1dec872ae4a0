"""The feeds a page follows while it is open, named in its address: ``timeline`` (the
signed-in reader's home page), ``home`` (a visitor's: every post), ``explore``, ``user:<id>``
(a profile) and ``replies:<id>`` (a thread's replies).

Each says which posts belong to it (the statements of app/models/feed.py) and how many of them
are newer than the newest one the page shows, counting only those the page would show the
reader (none by accounts they mute or block, or that block them); for a signed-in reader they
are counted by the statement that checks the reader's session: an idle check is one statement.

A page's cursor is the id of the newest post it shows, and what is newer is what came since:
post ids are committed in the order they are taken, since every writer holds the site's post
count (SiteCount, locked before the post is inserted) until it commits.
"""

import functools
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from app.extensions import ROW_ID_MAX, signed_in_reader
from app.models import User, UserSession, timeline_of
from app.models.block import blocked_either_way
from app.models.feed import (
    ChosenFeed,
    Feed,
    author_feed,
    every_post_feed,
    replies_feed,
    timeline_condition,
)

# New posts are counted up to this many; beyond, the page says "100+". However long a tab
# stayed open, a check walks no further than this.
MAX_COUNTED = 100

# A row id as the pages write it: digits, no leading zero, within INTEGER (checked by row_id).
ROW_ID = "[1-9][0-9]{0,9}"
FEED_NAME = re.compile(rf"(timeline|home|explore)|(user|replies):({ROW_ID})")
CURSOR = re.compile(rf"0|{ROW_ID}")


def row_id(text: str) -> int | None:
    number = int(text)
    return number if number <= ROW_ID_MAX else None


@dataclass(frozen=True)
class LiveFeed:
    kind: str  # "timeline", "home", "explore", "user" or "replies"
    of: int | None = None  # the author's id, or the id of the post replied to

    @classmethod
    def named(cls, name: str) -> "LiveFeed | None":
        """The feed a page named, or None for a name no page gives."""
        match = FEED_NAME.fullmatch(name)
        if match is None:
            return None
        simple, kind, of = match.groups()
        if simple:
            return cls(simple)
        return None if row_id(of) is None else cls(kind, int(of))

    @property
    def oldest_first(self) -> bool:
        """Replies read down from the post they answer: new ones go at the end."""
        return self.kind == "replies"

    @property
    def heading_level(self) -> int:
        """Its cards' heading level, as on its page (under a heading of their own there)."""
        return 3 if self.kind in ("timeline", "home", "replies") else 2

    @property
    def is_timeline(self) -> bool:
        """The signed-in reader's own feed: nobody else's session may ask for it."""
        return self.kind == "timeline"

    def values(self) -> dict[str, int]:
        """The values of its feed's own parameters."""
        if self.kind == "user":
            return {"author_id": self.of}
        if self.kind == "replies":
            return {"post_id": self.of}
        return {}

    def blocks_the_reader(self) -> bool:
        """Whether a block stands between the signed-in reader and this feed's author."""
        return (
            current_user.is_authenticated
            and bool(current_user.screened_count)
            and blocked_either_way(current_user.id, self.of)
        )

    def seen_by(self, reader: User | None) -> ChosenFeed:
        """Its posts as ``reader`` (None: a visitor) sees them, as its page shows them: without
        the posts of those the reader screens out. A timeline is the reader's."""
        feed = (
            timeline_of(reader) if self.is_timeline else feed_of_kind(self.kind).of(**self.values())
        )
        return feed.seen_by(reader)

    def chosen(self) -> ChosenFeed:
        """Its posts as the signed-in reader (or the visitor) sees them."""
        if self.kind == "user" and self.blocks_the_reader():
            abort(404)  # as the profile shows none of their posts
        return self.seen_by(signed_in_reader())

    def counted_for(self, reader: User | None) -> tuple[sa.Select[tuple[int]], dict[str, object]]:
        """How many posts are new as ``reader`` (None: a visitor) sees them, on its own: the
        statement, and the values it binds besides the cursor."""
        seen = self.seen_by(reader)
        return counted_alone(seen.feed), seen.values


def feed_of_kind(kind: str) -> Feed:
    """The feed of every kind but a timeline."""
    if kind == "user":
        return author_feed()
    if kind == "replies":
        return replies_feed()
    return every_post_feed()


@functools.cache
def seen_in_session(kind: str) -> Feed:
    """The feed of ``kind`` as the reader whose session key is bound sees it (see
    LiveFeed.seen_by): no statement before it needs to find out who they are."""
    reader = (
        sa.select(UserSession.user_id)
        .where(UserSession.key_hash == sa.bindparam("key_hash"))
        .scalar_subquery()
    )
    feed = Feed(condition=timeline_condition(reader)) if kind == "timeline" else feed_of_kind(kind)
    return feed if feed.one_author else feed.screened_for(reader)


@functools.cache
def counted_alone(feed: Feed) -> sa.Select[tuple[int]]:
    return sa.select(feed.newer_count(MAX_COUNTED + 1))


@functools.cache
def counted_with_session(kind: str | None) -> sa.Select:
    """The session's end and the reader's unread notifications, then (for a feed) how many
    of its posts are new: ``UserSession.read_if_live``'s statement."""
    stmt = (
        sa.select(UserSession.expires_at, User.unread_notifications)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.key_hash == sa.bindparam("key_hash"))
    )
    if kind is None:
        return stmt
    return stmt.add_columns(seen_in_session(kind).newer_count(MAX_COUNTED + 1))
