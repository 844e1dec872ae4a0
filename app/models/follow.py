"""The follow graph: who follows whom."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.clock import utcnow


class Follow(db.Model):
    """One user following another: the follow graph's edges."""

    follower_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    followed_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (
        # The primary key serves "whom does X follow"; this serves "who follows X".
        sa.Index("ix_follow_followed_id_follower_id", followed_id, follower_id),
        # And this "whom did X follow last": a walk down an index for who to follow's sources
        # and for the following list, however many X follows, where the primary key leaves
        # every one of them to read and sort.
        sa.Index("ix_follow_follower_id_created_at", follower_id, created_at, followed_id),
        sa.CheckConstraint("follower_id != followed_id", name="not_self"),
    )
