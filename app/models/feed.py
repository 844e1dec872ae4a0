"""Feeds: lists of posts, newest first, read a page at a time by statements built once.

A feed is which posts (a condition) and how many there are (a stored count's query), both
written with bind parameters: the statement that reads a page of it, with each post's author
and (on request) the total, is built once per process for each way of choosing a page, and a
request only supplies the values. Building a statement and its cache key anew took longer
than SQLite took to run it.
"""

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.block import screened_authors
from app.models.counters import SiteCount
from app.models.follow import Follow
from app.models.post import Mention, Post, PostLike

if TYPE_CHECKING:
    from app.models.tag import Tag
    from app.models.user import User

# How a page is chosen, and the parameters each way binds besides the feed's own: from the
# newest or the oldest post, ``offset`` and ``limit``; past a cursor, ``cursor`` and ``limit``.
FROM_NEWEST = "from newest"
FROM_OLDEST = "from oldest"
OLDER_THAN_CURSOR = "older than cursor"
NEWER_THAN_CURSOR = "newer than cursor"
BOUNDS = ("offset", "cursor", "limit")


@dataclass(frozen=True, eq=False)
class Feed:
    """Which posts (``condition``; None for every post) and, when the feed has one, the query
    of their stored count (``total``). ``post_id`` is the column the feed's post ids are read
    from, whose table the condition chooses rows of: the post's own id, or a row pointing at
    posts (a tag's), so a page is read from that table's index alone."""

    condition: sa.ColumnElement[bool] | None = None
    total: sa.ColumnElement[int] | None = None
    post_id: sa.ColumnElement[int] = field(default_factory=lambda: Post.id)
    # A feed as a reader with mutes or blocks sees it (see screened): its total is the
    # feed's less their posts, so a feed whose total the caller knows binds it.
    screening: bool = False
    # One author's feed is never screened: visiting a profile is a choice (a block keeps its
    # posts from the page instead).
    one_author: bool = False

    def of(self, **values: object) -> "ChosenFeed":
        return ChosenFeed(self, values)

    @functools.cache  # noqa: B019 (feeds live as long as the process, and are few)
    def page(self, start: str, counted: bool) -> sa.Select:
        """A page's posts, newest first, each with its author, and the total if ``counted``."""
        post_id = self.post_id
        ids = sa.select(post_id)
        if self.condition is not None:
            ids = ids.where(self.condition)
        offset, cursor, limit = (sa.bindparam(name, type_=sa.Integer) for name in BOUNDS)
        if start == FROM_NEWEST:
            ids = ids.order_by(post_id.desc()).offset(offset)
        elif start == FROM_OLDEST:
            ids = ids.order_by(post_id).offset(offset)
        elif start == OLDER_THAN_CURSOR:
            ids = ids.where(post_id < cursor).order_by(post_id.desc())
        elif start == NEWER_THAN_CURSOR:
            ids = ids.where(post_id > cursor).order_by(post_id)
        else:
            raise ValueError(f"No page starts at {start!r}.")
        ids = ids.limit(limit)
        # The ids are chosen first, on an index alone (a "deferred join"), then their rows read.
        stmt = (
            Post.newest_first().where(Post.id.in_(ids.scalar_subquery())).options(*card_options())
        )
        return stmt.add_columns(self.total) if counted else stmt

    @functools.cached_property
    def screened(self) -> "Feed":
        """This feed as the reader (bound ``viewer_id``) sees it: see screened_for. Pages
        read it only for readers who mute or block anyone (see ChosenFeed.seen_by): the check
        costs each of their pages a look at those accounts' posts. (A live check screens every
        signed-in reader: it learns who they are in the same statement, app/live/feeds.py.)"""
        return self.screened_for(sa.bindparam("viewer_id", type_=sa.Integer))

    def screened_for(self, viewer: sa.ColumnElement[int]) -> "Feed":
        """This feed without the posts of the accounts ``viewer`` (a bound parameter, or any
        expression of the reader's id) muted or blocked, or that blocked them; its total too."""
        if self.post_id is Post.id:
            # Explore's index holds each post's author: the page is still read from it alone.
            screened_out = Post.author_id.in_(screened_authors(viewer))
        else:
            theirs = so.aliased(Post)
            screened_out = self.post_id.in_(
                sa.select(theirs.id).where(theirs.author_id.in_(screened_authors(viewer)))
            )
        chosen = self.condition if self.condition is not None else sa.true()
        theirs_here = (
            sa.select(sa.func.count()).where(chosen, screened_out).correlate(None).scalar_subquery()
        )
        total = self.total if self.total is not None else known_total()
        return Feed(sa.and_(chosen, ~screened_out), total - theirs_here, self.post_id, True)

    @functools.cached_property
    def count(self) -> sa.Select[tuple[int]]:
        return sa.select(self.total)

    @functools.cache  # noqa: B019 (as page)
    def newer_count(self, cap: int) -> sa.ScalarSelect[int]:
        """How many posts are newer than post ``cursor`` (bound), counted no further than
        ``cap``: a walk up an index from the cursor, as short as what is new."""
        newer = sa.select(sa.literal_column("1")).where(
            self.post_id > sa.bindparam("cursor", type_=sa.Integer)
        )
        if self.condition is not None:
            newer = newer.where(self.condition)
        return sa.select(sa.func.count()).select_from(newer.limit(cap).subquery()).scalar_subquery()


@dataclass(frozen=True)
class ChosenFeed:
    """A feed and the values of its parameters (the reader, the author): what a pager reads."""

    feed: Feed
    values: dict[str, object] = field(default_factory=dict)

    def seen_by(self, viewer: "User | None") -> "ChosenFeed":
        """The same feed as ``viewer`` sees it (which posts they liked, without those of the
        accounts they screen out; None: a visitor)."""
        feed, values = self.feed, self.values | {"viewer_id": viewer and viewer.id}
        screenable = not (feed.screening or feed.one_author)
        if viewer is not None and viewer.screened_count and screenable:
            feed = feed.screened
        return ChosenFeed(feed, values)

    def given_total(self, known_total: int | None) -> "tuple[ChosenFeed, int | None]":
        """The feed and its total, given the total the caller knows (None: read by the
        statements): a screened feed's is less, so it binds the known one to work it out."""
        if known_total is None or not self.feed.screening:
            return self, known_total
        return ChosenFeed(self.feed, self.values | {"known_total": known_total}), None

    def page(
        self, start: str, known_total: int | None = None, **bounds: int
    ) -> tuple[list[Post], int]:
        """One page's posts, newest first, and the feed's total: ``known_total`` when given,
        else read by the same statement (on PostgreSQL each statement is a round trip of its
        own). A page without posts has a total of 0, whatever the stored count says."""
        if known_total is not None:
            return self.posts(start, **bounds), known_total
        if self.feed.total is None:
            raise ValueError("This feed keeps no count: give its total.")
        rows = db.session.execute(self.feed.page(start, True), self.values | bounds).all()
        if not rows:
            return [], 0
        if (total := rows[0][1]) is None:
            raise LookupError("The feed's stored count is missing.")
        return [post for post, _ in rows], total

    def posts(self, start: str, **bounds: int) -> list[Post]:
        """One page's posts, newest first, without the total."""
        return list(db.session.scalars(self.feed.page(start, False), self.values | bounds))

    def total(self) -> int:
        total = db.session.execute(self.feed.count, self.values).scalar()
        if total is None:
            raise LookupError("The feed's stored count is missing.")
        return total


def known_total() -> sa.BindParameter[int]:
    """A feed's total that its reader knows (a tag's, a user's), bound as ``known_total``."""
    return sa.bindparam("known_total", type_=sa.Integer)


@functools.cache
def card_options() -> tuple[so.interfaces.LoaderOption, ...]:
    """What a post's card shows besides the post, read by the statement that reads the post:
    its author, whether the reader (bound ``viewer_id``; None for a visitor) liked it, the
    name of the author it answers (None when that post is gone) and the names of the accounts
    its mentions found. A list of posts then costs one statement, whatever its length."""
    from app.models.user import User

    viewer = sa.bindparam("viewer_id", type_=sa.Integer)
    liked = sa.exists().where(PostLike.post_id == Post.id, PostLike.user_id == viewer)
    answered, answered_author = so.aliased(Post), so.aliased(User)
    reply_to_username = (
        sa.select(answered_author.username)
        .join(answered, answered.author_id == answered_author.id)
        .where(answered.id == Post.reply_to_id)
        .correlate(Post)
        .scalar_subquery()
    )
    mentioned = (
        sa.select(sa.func.aggregate_strings(User.username, " "))
        .join(Mention, Mention.user_id == User.id)
        .where(Mention.post_id == Post.id)
        .correlate(Post)
        .scalar_subquery()
    )
    return (
        so.joinedload(Post.author, innerjoin=True),
        so.with_expression(Post.liked, liked),
        so.with_expression(Post.reply_to_username, reply_to_username),
        so.with_expression(Post.mentioned_usernames, mentioned),
    )


@functools.cache
def every_post_feed() -> Feed:
    return Feed(condition=Post.shown(), total=SiteCount.query_of(SiteCount.POSTS))


@functools.cache
def author_feed() -> Feed:
    """One author's posts; the author's stored count is at hand, so no total query."""
    author = sa.bindparam("author_id", type_=sa.Integer)
    return Feed(condition=sa.and_(Post.author_id == author, Post.shown()), one_author=True)


def timeline_authors(reader: sa.ColumnElement[int]) -> sa.CompoundSelect:
    """The authors on ``reader``'s timeline: the reader and everyone they follow."""
    return sa.union_all(
        sa.select(Follow.followed_id).where(Follow.follower_id == reader),
        sa.select(reader),
    )


def timeline_condition(reader: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """Whether a post is on ``reader``'s timeline (a bound parameter, or any expression of
    the reader's id)."""
    # One list of authors rather than "author is the reader OR author in followed": both
    # databases then read each author's newest posts from (author_id, id), a cost bounded by
    # what those authors wrote, where an OR has SQLite merge two lookups and PostgreSQL walk
    # every post until it finds a page of theirs (the whole table, for quiet follows).
    return sa.and_(Post.author_id.in_(timeline_authors(reader)), Post.shown())


@functools.cache
def timeline_feed() -> Feed:
    from app.models.user import User

    reader = sa.bindparam("reader_id", type_=sa.Integer)
    total = (
        sa.select(sa.func.coalesce(sa.func.sum(User.posts_count), 0))
        .where(User.id.in_(timeline_authors(reader)))
        .correlate(None)  # read on its own, whatever statement it is part of
        .scalar_subquery()
    )
    return Feed(condition=timeline_condition(reader), total=total)


@functools.cache
def tag_feed() -> Feed:
    """A tag's posts, chosen on the tag's rows (tag, post) alone; the tag's count is at hand."""
    from app.models.tag import PostTag

    tag = sa.bindparam("tag_id", type_=sa.Integer)
    return Feed(condition=PostTag.tag_id == tag, post_id=PostTag.post_id)


@functools.cache
def replies_feed() -> Feed:
    """A post's replies; the post's stored count is at hand, so no total query."""
    answered = sa.bindparam("post_id", type_=sa.Integer)
    return Feed(condition=sa.and_(Post.reply_to_id == answered, Post.shown()))


def every_post() -> ChosenFeed:
    """Every post, newest first (explore)."""
    return every_post_feed().of()


def posts_by(author: "User") -> ChosenFeed:
    return author_feed().of(author_id=author.id)


def tagged(tag: "Tag") -> ChosenFeed:
    """A tag's posts, newest first."""
    return tag_feed().of(tag_id=tag.id)


def timeline_of(reader: "User") -> ChosenFeed:
    """The reader's posts and those of everyone they follow, newest first."""
    return timeline_feed().of(reader_id=reader.id)
