"""Notifications: someone followed you, replied to your post, mentioned you or liked a post.

One row per event. The reader's unread total is a stored count on the user, changed with the
rows in the same transaction; undoing an action (unfollow, unlike, deleting a reply or a
mention) takes back its notification while it is unread. The list groups the likes of one
post into one line ("ann and 3 others liked your post").
"""

import enum
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.clock import utcnow
from app.models.counters import add_to_count
from app.models.types import stored_as_text

if TYPE_CHECKING:
    from app.models.post import Post
    from app.models.user import User


class NotificationKind(enum.StrEnum):
    FOLLOW = "follow"
    REPLY = "reply"
    MENTION = "mention"
    LIKE = "like"


class Notification(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # Who is told, who acted, and the post it is about (none for a follow).
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    actor_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    post_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[NotificationKind] = so.mapped_column(stored_as_text(NotificationKind, 16))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    read: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())

    user: so.Mapped["User"] = so.relationship(foreign_keys=[user_id])
    actor: so.Mapped["User"] = so.relationship(foreign_keys=[actor_id])
    post: so.Mapped["Post | None"] = so.relationship()

    __table_args__ = (
        # A reader's notifications newest first, and the unread ones an undo looks for.
        sa.Index("ix_notification_user_id_id", user_id, "id"),
    )

    @classmethod
    def send(
        cls, recipient: "User", actor: "User", kind: NotificationKind, post: "Post | None" = None
    ) -> None:
        """Tell ``recipient`` what ``actor`` did; nobody is told of their own actions, nor of
        those of an account they muted or blocked, or that blocked them."""
        if recipient.id == actor.id or recipient.screens(actor):
            return
        db.session.add(cls(user_id=recipient.id, actor_id=actor.id, kind=kind, post=post))
        add_to_count(recipient, "unread_notifications", 1)

    @classmethod
    def withdraw(cls, actor: "User", kind: NotificationKind, **about: int) -> None:
        """Take back the unread notifications of an action that was undone: ``about`` names
        the recipient (``user_id``) or the post (``post_id``), or both.

        The recipients are locked first (see lock_users), so a reader marking everything read
        meanwhile either goes first (and nothing unread is left to take back) or waits.
        """
        from app.models.user import User

        unread = [cls.actor_id == actor.id, cls.kind == kind, sa.not_(cls.read)]
        unread += [getattr(cls, column) == value for column, value in about.items()]
        lock_users(db.session.scalars(sa.select(cls.user_id).where(*unread)))
        taken_back = db.session.scalars(sa.delete(cls).where(*unread).returning(cls.user_id))
        for user_id, count in Counter(taken_back).items():
            add_to_count(db.session.get(User, user_id), "unread_notifications", -count)

    @classmethod
    def delete_unread(cls, condition: sa.ColumnElement[bool]) -> None:
        """Delete the unread notifications ``condition`` picks, and lower their recipients'
        unread totals to match: one statement for the counts, one for the rows, however many
        (deleting an account; single undos use ``withdraw``)."""
        from app.models.user import User

        unread = sa.and_(condition, sa.not_(cls.read))
        per_recipient = (
            sa.select(sa.func.count())
            .where(unread, cls.user_id == User.id)
            .correlate(User)
            .scalar_subquery()
        )
        db.session.execute(
            sa.update(User)
            .where(User.id.in_(sa.select(cls.user_id).where(unread)))
            .values(unread_notifications=User.unread_notifications - per_recipient)
        )
        db.session.execute(sa.delete(cls).where(unread))

    @classmethod
    def delete_between(cls, recipient_id: int, actor_id: int) -> None:
        """Delete every notification ``actor_id`` gave ``recipient_id``, read or not (a block
        or a mute: the recipient wants no more of them)."""
        given = sa.and_(cls.user_id == recipient_id, cls.actor_id == actor_id)
        cls.delete_unread(given)
        db.session.execute(sa.delete(cls).where(given))

    @classmethod
    def mark_all_read(cls, user_id: int) -> None:
        from app.models.user import User

        lock_users([user_id])  # before the rows, as every writer of unread counts does
        marked = db.session.execute(
            sa.update(cls).where(cls.user_id == user_id, sa.not_(cls.read)).values(read=True)
        ).rowcount
        # Less what was marked, not zero: one sent meanwhile by another request stays unread.
        db.session.execute(
            sa.update(User)
            .where(User.id == user_id)
            .values(unread_notifications=User.unread_notifications - marked)
        )


def lock_users(ids: Iterable[int] | sa.SelectBase) -> set[int]:
    """Lock these users' rows (``ids``, or a query of them), in order of id, until the
    transaction ends.

    Whatever changes a user's unread count and its notifications locks the user first: two
    requests then queue on the user rather than each hold what the other waits for. (SQLite
    has no row locks and ignores FOR UPDATE: there an update that changes nothing takes the
    database's write lock instead, in the same one statement.) The ids of the users that
    still exist.
    """
    from app.models.user import User

    if not isinstance(ids, sa.SelectBase):
        ids = sorted(set(ids))
        if not ids:
            return set()
    if db.session.get_bind().dialect.name == "sqlite":
        users = User.__table__  # a column no trigger or key watches
        stmt = (
            sa.update(users)
            .where(users.c.id.in_(ids))
            .values(screened_count=users.c.screened_count)
            .returning(users.c.id)
        )
    else:
        stmt = sa.select(User.id).where(User.id.in_(ids)).order_by(User.id).with_for_update()
    return set(db.session.scalars(stmt))
