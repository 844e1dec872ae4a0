"""Posts, and the one-time keys that make a resubmitted form one post."""

import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.block import Block, is_blocked_by
from app.models.clock import utcnow
from app.models.roles import Permission

if TYPE_CHECKING:
    from app.models.user import User

POST_MAX_LENGTH = 280
HIDING_REASON_MAX_LENGTH = 280
# A post form's one-time key (see new_submission_key): 16 random bytes, URL-safe base64.
SUBMISSION_KEY_LENGTH = 22
SUBMISSION_KEY_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{{SUBMISSION_KEY_LENGTH}}}")


def new_submission_key() -> str:
    """A key for one rendering of a post form: every submission of that form is one post."""
    return secrets.token_urlsafe(16)


def is_submission_key(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) == SUBMISSION_KEY_LENGTH
        and SUBMISSION_KEY_PATTERN.fullmatch(value) is not None
    )


class Post(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    body: so.Mapped[str] = so.mapped_column(sa.String(POST_MAX_LENGTH))
    # Indexed for the admin area's posts per day (feeds are in order of id).
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    edited_at: so.Mapped[datetime | None]
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    # The one-time key of the form this post was sent from (NULL for posts made before keys,
    # and for posts made without a form): a resubmitted or retried form finds its post here.
    submission_key: so.Mapped[str | None] = so.mapped_column(sa.String(SUBMISSION_KEY_LENGTH))
    # The post this one answers. No foreign key: a reply outlives the post it answers, and its
    # thread then shows "This post was deleted" where that post was.
    reply_to_id: so.Mapped[int | None] = so.mapped_column()
    # Stored counts, changed in the same transaction as the rows they count.
    replies_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    likes_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # Whether the post is out of every list, count and search: hidden by a moderator (when
    # and why below), or its author is suspended. Only its author and moderators see it.
    hidden: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    hidden_at: so.Mapped[datetime | None]
    hidden_reason: so.Mapped[str | None] = so.mapped_column(sa.String(HIDING_REASON_MAX_LENGTH))

    author: so.Mapped["User"] = so.relationship(back_populates="posts")

    # What a page reads with each post for its card (app/models/feed.py's card_options), in
    # the statement that reads the post: whether the reader liked it, the name of the author
    # it answers (None when that post is gone), and the accounts its @mentions name.
    liked: so.Mapped[bool | None] = so.query_expression()
    reply_to_username: so.Mapped[str | None] = so.query_expression()
    mentioned_usernames: so.Mapped[str | None] = so.query_expression()

    __table_args__ = (
        # Serve a profile's posts newest first (and the home timeline, one author at a time),
        # and explore, from the index alone (the second with the author, which a reader's
        # mutes and blocks need); the first's leading column also serves the foreign key.
        sa.Index("ix_post_author_id_hidden_id", author_id, hidden, "id"),
        sa.Index("ix_post_hidden_id_author_id", hidden, "id", author_id),
        # Per author, so nobody can block another's post by guessing a key. It is the index,
        # not a lookup before the insert, that stops two concurrent submissions both landing.
        sa.Index("uq_post_author_id_submission_key", author_id, submission_key, unique=True),
        # A post's replies, oldest first.
        sa.Index("ix_post_reply_to_id_hidden_id", reply_to_id, hidden, "id"),
    )

    def __repr__(self) -> str:
        return f"<Post {self.id} by user {self.author_id}>"

    def edit(self, body: str) -> None:
        if body != self.body:
            self.body = body
            self.edited_at = utcnow()

    @classmethod
    def shown(cls) -> sa.ColumnElement[bool]:
        """Whether a post is in lists, counts and searches (not hidden). An equality, not ``IS
        FALSE``, so that both databases read it from the indexes that lead with it."""
        return cls.hidden == sa.false()

    @property
    def hidden_by_moderator(self) -> bool:
        return self.hidden_at is not None

    def visible_to(self, viewer: "User | None") -> bool:
        """Whether ``viewer`` (None: a visitor) may open it: a hidden post only its author
        and moderators, and nobody its author blocked."""
        if viewer is None:
            return not self.hidden
        if viewer.id == self.author_id:
            return True
        if viewer.can(Permission.MODERATE):  # a block keeps no post from moderators
            return True
        if self.hidden:
            return False
        return not viewer.screened_count or not is_blocked_by(viewer.id, self.author_id)

    @classmethod
    def visible_to_condition(cls, viewer: "User | None") -> sa.ColumnElement[bool]:
        """visible_to's rule as a condition on posts: for a list of them, no statement each."""
        if viewer is None:
            return cls.shown()
        if viewer.can(Permission.MODERATE):
            return sa.true()
        not_blocked = cls.shown()
        if viewer.screened_count:
            blockers = sa.select(Block.blocker_id).where(Block.blocked_id == viewer.id)
            not_blocked = sa.and_(not_blocked, cls.author_id.not_in(blockers))
        return sa.or_(cls.author_id == viewer.id, not_blocked)

    @classmethod
    def newest_first(cls) -> sa.Select[tuple["Post"]]:
        """Every post, newest first.

        Feeds are ordered by id, which the database hands out in publication order: one
        column every feed's index ends with, and one number as a page's cursor.
        """
        return sa.select(cls).order_by(cls.id.desc())

    @property
    def mentions(self) -> dict[str, str]:
        """The accounts its @mentions name (loaded with ``mentioned_usernames``), by lower-cased
        name: what app.post_text.render_body links."""
        names = (self.mentioned_usernames or "").split()
        return {name.lower(): name for name in names}


class PostLike(db.Model):
    """A user liking a post: each pair at most once."""

    __tablename__ = "post_like"  # LIKE is an SQL keyword

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (
        # The primary key serves "did X like this post"; this serves "who liked it, newest first".
        sa.Index("ix_post_like_post_id_created_at", post_id, created_at),
    )


class Mention(db.Model):
    """An account a post names with @: resolved when the post is written or edited, so pages
    link the names without looking them up, and the account is notified once."""

    post_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    post: so.Mapped[Post] = so.relationship()
