"""How users protect themselves: blocking and muting other accounts."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.clock import utcnow


class Block(db.Model):
    """``blocker`` blocked ``blocked``: neither follows the other, the blocked cannot follow,
    answer or mention the blocker, and neither sees the other's posts while signed in."""

    blocker_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (
        # The primary key serves "whom did X block"; this serves "who blocked X".
        sa.Index("ix_block_blocked_id_blocker_id", blocked_id, blocker_id),
        sa.CheckConstraint("blocker_id != blocked_id", name="not_self"),
    )


class Mute(db.Model):
    """``muter`` muted ``muted``: the muted account's posts and notifications leave the
    muter's feeds. The muted account is not told."""

    muter_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    muted_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (sa.CheckConstraint("muter_id != muted_id", name="not_self"),)


def screened_authors(viewer: sa.ColumnElement[int]) -> sa.CompoundSelect:
    """The accounts whose posts ``viewer`` does not see: those they muted or blocked, and
    those who blocked them."""
    return sa.union_all(
        sa.select(Mute.muted_id).where(Mute.muter_id == viewer),
        sa.select(Block.blocked_id).where(Block.blocker_id == viewer),
        sa.select(Block.blocker_id).where(Block.blocked_id == viewer),
    )


def is_screened(viewer_id: int, author_id: int) -> bool:
    """Whether ``viewer_id`` does not see ``author_id``'s posts (a mute or a block either way)."""
    stmt = sa.select(sa.literal(True)).where(
        sa.or_(
            sa.exists().where(Mute.muter_id == viewer_id, Mute.muted_id == author_id),
            sa.exists().where(Block.blocker_id == viewer_id, Block.blocked_id == author_id),
            sa.exists().where(Block.blocker_id == author_id, Block.blocked_id == viewer_id),
        )
    )
    return db.session.scalar(stmt) is not None


def blocked_either_way(one_id: int, other_id: int) -> bool:
    stmt = sa.select(Block.blocker_id).where(
        sa.or_(
            sa.and_(Block.blocker_id == one_id, Block.blocked_id == other_id),
            sa.and_(Block.blocker_id == other_id, Block.blocked_id == one_id),
        )
    )
    return db.session.scalar(stmt) is not None


def is_blocked_by(viewer_id: int, author_id: int) -> bool:
    return db.session.get(Block, (author_id, viewer_id)) is not None
