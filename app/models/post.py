"""Posts, and the one-time keys that make a resubmitted form one post."""

import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.clock import utcnow

if TYPE_CHECKING:
    from app.models.user import User

POST_MAX_LENGTH = 280
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
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    edited_at: so.Mapped[datetime | None]
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    # The one-time key of the form this post was sent from (NULL for posts made before keys,
    # and for posts made without a form): a resubmitted or retried form finds its post here.
    submission_key: so.Mapped[str | None] = so.mapped_column(sa.String(SUBMISSION_KEY_LENGTH))

    author: so.Mapped["User"] = so.relationship(back_populates="posts")

    __table_args__ = (
        # Serves a profile's posts newest first (and the home timeline, one author at a time);
        # its leading column also serves the foreign key.
        sa.Index("ix_post_author_id_id", author_id, "id"),
        # Per author, so nobody can block another's post by guessing a key. It is the index,
        # not a lookup before the insert, that stops two concurrent submissions both landing.
        sa.Index("uq_post_author_id_submission_key", author_id, submission_key, unique=True),
    )

    def __repr__(self) -> str:
        return f"<Post {self.id} by user {self.author_id}>"

    def edit(self, body: str) -> None:
        if body != self.body:
            self.body = body
            self.edited_at = utcnow()

    @classmethod
    def newest_first(cls) -> sa.Select[tuple["Post"]]:
        """Every post, newest first.

        Feeds are ordered by id, which the database hands out in publication order: one
        column every feed's index ends with, and one number as a page's cursor.
        """
        return sa.select(cls).order_by(cls.id.desc())
