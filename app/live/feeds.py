"""The feeds a page follows while it is open, named in its address: ``home``, ``explore``,
``user:<id>`` (a profile) and ``replies:<id>`` (a thread's replies).

Each says which posts belong to it (the statements of app/models/feed.py) and how many of them
are newer than the newest one the page shows; for a signed-in reader they are counted by the
statement that checks the reader's session: an idle check is one statement.
"""

import functools
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for
from flask_login import current_user

from app.extensions import ROW_ID_MAX
from app.models import Post, User, UserSession, every_post, timeline_of
from app.models.feed import (
    ChosenFeed,
    Feed,
    author_feed,
    every_post_feed,
    replies_feed,
    timeline_condition,
    timeline_feed,
)

# New posts are counted up to this many; beyond, the page says "100+". However long a tab
# stayed open, a check walks no further than this.
MAX_COUNTED = 100

FEED_NAME = re.compile(r"(home|explore)|(user|replies):([1-9][0-9]{0,9})")


@dataclass(frozen=True)
class LiveFeed:
    kind: str  # "home", "explore", "user" or "replies"
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
        if int(of) > ROW_ID_MAX:
            return None
        return cls(kind, int(of))

    @property
    def oldest_first(self) -> bool:
        """Replies read down from the post they answer: new ones go at the end."""
        return self.kind == "replies"

    @property
    def heading_level(self) -> int:
        """Its cards' heading level, as on its page (under a heading of their own there)."""
        return 3 if self.kind in ("home", "replies") else 2

    def is_timeline_of(self, reader_id: int | None) -> bool:
        """The home page of a signed-in reader: their timeline (a visitor's shows every post)."""
        return self.kind == "home" and reader_id is not None

    def values(self) -> dict[str, int]:
        """The values of its feed's own parameters."""
        if self.kind == "user":
            return {"author_id": self.of}
        if self.kind == "replies":
            return {"post_id": self.of}
        return {}

    def newer_count(self, reader_id: int | None) -> sa.Select[tuple[int]]:
        """How many posts are new, on its own (``reader_id`` bound, for a reader's timeline)."""
        if self.is_timeline_of(reader_id):
            return counted_alone(timeline_feed())
        return counted_alone(feed_of_kind(self.kind))

    def chosen(self) -> ChosenFeed:
        """Its posts as the signed-in reader (or the visitor) sees them."""
        reader_id = current_user.id if current_user.is_authenticated else None
        if self.is_timeline_of(reader_id):
            chosen = timeline_of(current_user)
        elif self.kind in ("home", "explore"):
            chosen = every_post()
        else:
            chosen = feed_of_kind(self.kind).of(**self.values())
        return chosen.seen_by(reader_id)

    def page_path(self, posts: list[Post]) -> str:
        """The address of the page that shows it, where its cards' forms send the reader back."""
        if self.kind == "home":
            return url_for("main.index")
        if self.kind == "explore":
            return url_for("main.explore")
        if self.kind == "user":
            return url_for("profile.user", username=posts[0].author.username)
        return url_for("main.post", post_id=self.of)


def feed_of_kind(kind: str) -> Feed:
    """Every kind's feed, but a signed-in reader's timeline (its reader is a parameter)."""
    if kind == "user":
        return author_feed()
    if kind == "replies":
        return replies_feed()
    return every_post_feed()


@functools.cache
def timeline_feed_of_session() -> Feed:
    """The timeline of the reader whose session key is bound: no statement before it needs to
    find out who they are."""
    reader = (
        sa.select(UserSession.user_id)
        .where(UserSession.key_hash == sa.bindparam("key_hash"))
        .scalar_subquery()
    )
    return Feed(condition=timeline_condition(reader))


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
    feed = timeline_feed_of_session() if kind == "home" else feed_of_kind(kind)
    return stmt.add_columns(feed.newer_count(MAX_COUNTED + 1))
