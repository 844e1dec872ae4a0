"""Moderation: reports, hiding posts, suspending accounts, giving roles, and the audit log.

Every action is a method of ``Moderation(by=...)``, which checks the actor's permission in one
place (``User.require``), changes the rows and their counts in the caller's transaction and
writes the audit record. In ``flask shell``, for instance::

    Moderation(by=User.find("ann")).hide_post(db.session.get(Post, 7), "spam")
    db.session.commit()
"""

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.clock import utcnow
from app.models.counters import SiteCount
from app.models.notification import Notification, lock_users
from app.models.post import HIDING_REASON_MAX_LENGTH, Post
from app.models.roles import NotAllowed, Permission, Role
from app.models.search import prefix_range
from app.models.session import UserSession
from app.models.tag import PostTag, Tag, retag, tags_of
from app.models.types import stored_as_text
from app.models.user import SUSPENSION_REASON_MAX, User

REPORT_NOTE_MAX_LENGTH = 500
REASON_MAX_LENGTH = max(HIDING_REASON_MAX_LENGTH, SUSPENSION_REASON_MAX)
# Who the audit log names for what no signed-in person did.
COMMAND_LINE = "command line"
SCHEDULE = "schedule"


class ReportReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OTHER = "other"


class Resolution(enum.StrEnum):
    DISMISSED = "dismissed"
    HIDDEN = "post hidden"
    SUSPENDED = "account suspended"


class Report(db.Model):
    """A user asking moderators to look at a post (``post_id`` set, ``user_id`` its author) or
    at an account (``post_id`` None). Open until a moderator resolves it."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    reporter_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    post_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    reason: so.Mapped[ReportReason] = so.mapped_column(stored_as_text(ReportReason, 16))
    note: so.Mapped[str | None] = so.mapped_column(sa.String(REPORT_NOTE_MAX_LENGTH))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    resolved_at: so.Mapped[datetime | None]
    resolved_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    resolution: so.Mapped[Resolution | None] = so.mapped_column(stored_as_text(Resolution, 32))

    reporter: so.Mapped[User] = so.relationship(foreign_keys=[reporter_id])
    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])
    post: so.Mapped[Post | None] = so.relationship()

    __table_args__ = (
        # One open report per reporter and target: the index, not a lookup, stops a second
        # sent at the same time. A post's id, or 0 for the account itself.
        sa.Index(
            "uq_report_open_reporter_target",
            reporter_id,
            user_id,
            sa.func.coalesce(post_id, 0),
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        ),
        # The queue: open reports, oldest first.
        sa.Index(
            "ix_report_open_id",
            "id",
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        ),
        # A reporter's own reports, for their export and account deletion.
        sa.Index("ix_report_reporter_id_id", reporter_id, "id"),
    )

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @classmethod
    def file(
        cls,
        reporter: User,
        reason: ReportReason,
        note: str | None = None,
        *,
        post: Post | None = None,
        user: User | None = None,
    ) -> bool:
        """``reporter`` reports ``post`` or ``user``; False if they have an open report on it
        already (a moderator will see the first)."""
        account_id = post.author_id if post is not None else user.id
        if account_id == reporter.id:
            raise NotAllowed("You cannot report yourself or your own posts.")
        target = cls.target_is(account_id, post.id if post is not None else None)
        stmt = sa.select(cls.id).where(cls.reporter_id == reporter.id, target, cls.open())
        if db.session.scalar(stmt) is not None:
            return False
        db.session.add(
            cls(
                reporter_id=reporter.id,
                user_id=account_id,
                post_id=post.id if post is not None else None,
                reason=reason,
                note=note or None,
            )
        )
        return True

    @classmethod
    def open(cls) -> sa.ColumnElement[bool]:
        return cls.resolved_at.is_(None)

    @classmethod
    def target_is(cls, user_id: int, post_id: int | None) -> sa.ColumnElement[bool]:
        """Reports on this post, or on this account itself when ``post_id`` is None."""
        if post_id is None:
            return sa.and_(cls.user_id == user_id, cls.post_id.is_(None))
        return cls.post_id == post_id


class ActionKind(enum.StrEnum):
    HIDE_POST = "hid a post"
    RESTORE_POST = "restored a post"
    DISMISS_REPORTS = "dismissed reports"
    SUSPEND = "suspended"
    UNSUSPEND = "lifted the suspension of"
    SET_ROLE = "changed the role of"
    REMOVE_PICTURE = "removed the picture of"


class ModerationAction(db.Model):
    """The audit log: one row per moderation action, never changed or deleted by the app.
    Names are kept as text too, so a record still reads right once an account is gone."""

    __tablename__ = "moderation_action"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    actor_name: so.Mapped[str] = so.mapped_column(sa.String(64))
    kind: so.Mapped[ActionKind] = so.mapped_column(stored_as_text(ActionKind, 32))
    target_user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    target_name: so.Mapped[str] = so.mapped_column(sa.String(64))
    # No foreign key: the record outlives the post.
    post_id: so.Mapped[int | None]
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(REASON_MAX_LENGTH))
    detail: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    def __repr__(self) -> str:
        return f"<ModerationAction {self.actor_name} {self.kind} {self.target_name}>"


class Moderation:
    """Moderation actions taken by ``by`` (None: the command line or the schedule, named by
    ``name``, which may do everything)."""

    def __init__(self, by: User | None, name: str = COMMAND_LINE) -> None:
        self.actor = by
        self.actor_name = by.username if by is not None else name

    def _require(self, permission: Permission, account: User | None = None) -> None:
        if self.actor is not None:
            self.actor.require(permission, account)

    @staticmethod
    def _hold_posts() -> None:
        """Take the site's post count first, as every writer of posts does (see SiteCount):
        an action that hides or shows posts then queues behind any other, and none of the
        rows it reads next can move in between."""
        SiteCount.lock(SiteCount.POSTS)

    def _record(
        self,
        kind: ActionKind,
        account: User,
        *,
        post: Post | None = None,
        reason: str | None = None,
        detail: str | None = None,
    ) -> None:
        db.session.add(
            ModerationAction(
                actor_id=self.actor.id if self.actor is not None else None,
                actor_name=self.actor_name,
                kind=kind,
                target_user_id=account.id,
                target_name=account.username,
                post_id=post.id if post is not None else None,
                reason=reason or None,
                detail=detail,
            )
        )

    def _resolve(self, condition: sa.ColumnElement[bool], resolution: Resolution) -> int:
        """Close the open reports ``condition`` picks; how many."""
        return db.session.execute(
            sa.update(Report)
            .where(condition, Report.open())
            .values(
                resolved_at=utcnow(),
                resolved_by_id=self.actor.id if self.actor is not None else None,
                resolution=resolution,
            )
        ).rowcount

    # Posts ---------------------------------------------------------------------------

    def hide_post(self, post: Post, reason: str) -> bool:
        """Take ``post`` out of every list, count and search; its author sees why. False if a
        moderator hid it already. Its open reports are resolved."""
        self._require(Permission.MODERATE, post.author)
        self._hold_posts()
        db.session.expire(post)  # read again once held: gone if its author deleted it (a 404)
        if post.hidden_by_moderator:
            return False
        if not post.hidden:  # else its author is suspended: it is out already
            withdraw_posts(Post.id == post.id)
            db.session.refresh(post, ["hidden"])
        post.hidden_at, post.hidden_reason = utcnow(), reason
        self._resolve(Report.post_id == post.id, Resolution.HIDDEN)
        self._record(ActionKind.HIDE_POST, post.author, post=post, reason=reason)
        return True

    def restore_post(self, post: Post) -> bool:
        """Undo hide_post (the post stays out while its author is suspended); False if no
        moderator hid it."""
        self._require(Permission.MODERATE, post.author)
        self._hold_posts()
        db.session.expire(post)  # read again once held: gone if its author deleted it (a 404)
        if not post.hidden_by_moderator:
            return False
        post.hidden_at = post.hidden_reason = None
        db.session.flush()
        reinstate_posts(Post.id == post.id)
        db.session.refresh(post, ["hidden"])
        self._record(ActionKind.RESTORE_POST, post.author, post=post)
        return True

    def dismiss_reports(self, report: Report) -> int:
        """Close every open report on what ``report`` is about, with no action; how many.
        Reports about one's own account or posts, or a higher role's, are for others."""
        self._require(Permission.MODERATE, report.user)
        if not report.is_open:  # a form from before: newer reports are for a fresh look
            return 0
        dismissed = self._resolve(
            Report.target_is(report.user_id, report.post_id), Resolution.DISMISSED
        )
        if dismissed:
            detail = f"{dismissed} report{'s' if dismissed != 1 else ''} on " + (
                f"post {report.post_id}" if report.post_id else "the account"
            )
            self._record(ActionKind.DISMISS_REPORTS, report.user, detail=detail)
        return dismissed

    # Accounts ------------------------------------------------------------------------

    def suspend(self, user: User, reason: str, days: int | None = None) -> None:
        """Suspend ``user`` for ``days`` (None: until lifted): every session ends, sign-in is
        refused and their posts are hidden until it is lifted. Suspending a suspended account
        again sets a new reason and end."""
        self._require(Permission.SUSPEND, user)
        self._hold_posts()
        lock_users([user.id])
        db.session.expire(user)  # read again once held: gone if the account was deleted (a 404)
        withdraw_posts(Post.author_id == user.id)  # none left to hide if suspended already
        now = utcnow()
        user.suspended_at = now
        user.suspended_until = now + timedelta(days=days) if days is not None else None
        user.suspension_reason = reason
        UserSession.end_all_for(user.id)
        self._resolve(Report.user_id == user.id, Resolution.SUSPENDED)
        until = f"until {user.suspended_until:%Y-%m-%d %H:%M} UTC" if days else "indefinitely"
        self._record(ActionKind.SUSPEND, user, reason=reason, detail=until)

    def unsuspend(self, user: User) -> bool:
        """Lift ``user``'s suspension; their posts come back (those a moderator hid stay
        hidden). False if they are not suspended."""
        self._require(Permission.SUSPEND, user)
        self._hold_posts()
        lock_users([user.id])
        db.session.expire(user)  # read again once held: gone if the account was deleted (a 404)
        if not user.is_suspended:
            return False
        user.suspended_at = user.suspended_until = user.suspension_reason = None
        db.session.flush()
        reinstate_posts(Post.author_id == user.id)
        self._record(ActionKind.UNSUSPEND, user)
        return True

    def remove_picture(self, user: User, digest: str | None = None) -> bool:
        """Delete the picture ``user`` uploaded (only if it is still the one the moderator saw,
        ``digest``, when given); False if there is none, or another. If it was shown, the drawn
        avatar shows instead. They may upload another."""
        self._require(Permission.MODERATE, user)
        if not user.remove_picture(digest):
            return False
        self._record(ActionKind.REMOVE_PICTURE, user)
        return True

    def set_role(self, user: User, role: Role) -> bool:
        """Give ``user`` ``role``; False if it is theirs already. Nobody changes their own
        role, nor gives one above their own."""
        self._require(Permission.ADMINISTER, user)
        if self.actor is not None and role.rank > self.actor.role.rank:
            raise NotAllowed("You cannot give a role higher than your own.")
        if user.role == role:
            return False
        detail = f"{user.role} to {role}"
        user.role = role
        self._record(ActionKind.SET_ROLE, user, detail=detail)
        return True


def lift_ended_suspensions(now: datetime | None = None, user_id: int | None = None) -> list[str]:
    """Lift every suspension whose end has passed (only ``user_id``'s, if given); the
    usernames lifted."""
    stmt = sa.select(User).where(User.suspended_until <= (now or utcnow()))
    if user_id is not None:
        stmt = stmt.where(User.id == user_id)
    moderation = Moderation(by=None, name=SCHEDULE)
    # The site count before any user row, as every writer of posts takes it (see SiteCount):
    # even before a change of the caller's waiting to be flushed (a sign-in's rehashed
    # password), which reading the users would flush first.
    with db.session.no_autoflush:
        SiteCount.lock(SiteCount.POSTS)
        users = list(db.session.scalars(stmt))
    for user in users:
        moderation.unsuspend(user)
    return [user.username for user in users]


# Moving posts out of sight and back ---------------------------------------------------


def withdraw_posts(which: sa.ColumnElement[bool]) -> int:
    """Hide the shown posts ``which`` picks and take them off every count: the site's,
    their authors', the posts they answer and their tags'. Their tags' rows and the
    notifications about them go (a restored post comes back to its tags, not to anyone's
    notifications). How many were hidden."""
    chosen = sa.and_(which, Post.shown())
    SiteCount.lock(SiteCount.POSTS)  # first, as every writer of posts does (see SiteCount)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Post).where(chosen))
    if not count:
        return 0
    SiteCount.add(SiteCount.POSTS, -count)
    _move_counts(chosen, -1)
    their_tags = PostTag.post_id.in_(ids_of(chosen))
    per_tag = (
        sa.select(sa.func.count())
        .where(PostTag.tag_id == Tag.id, their_tags)
        .correlate(Tag)
        .scalar_subquery()
    )
    db.session.execute(
        sa.update(Tag)
        .where(Tag.id.in_(sa.select(PostTag.tag_id).where(their_tags)))
        .values(posts_count=Tag.posts_count - per_tag)
    )
    db.session.execute(sa.delete(PostTag).where(their_tags))
    about = Notification.post_id.in_(ids_of(chosen))
    Notification.delete_unread(about)
    db.session.execute(sa.delete(Notification).where(about))
    db.session.execute(sa.update(Post).where(chosen).values(hidden=True))
    return count


def reinstate_posts(which: sa.ColumnElement[bool]) -> int:
    """Show again the hidden posts ``which`` picks that no moderator hid and whose author is
    not suspended, back on every count and their tags. How many."""
    suspended = sa.select(User.suspended_at).where(User.id == Post.author_id).scalar_subquery()
    chosen = sa.and_(which, Post.hidden, Post.hidden_at.is_(None), suspended.is_(None))
    SiteCount.lock(SiteCount.POSTS)
    posts = list(db.session.scalars(sa.select(Post).where(chosen)))
    if not posts:
        return 0
    SiteCount.add(SiteCount.POSTS, len(posts))
    _move_counts(chosen, 1)
    db.session.execute(sa.update(Post).where(chosen).values(hidden=False))
    for post in posts:
        retag(post, post.body, before=tags_of(post))
    return len(posts)


def ids_of(chosen: sa.ColumnElement[bool]) -> sa.Select[tuple[int]]:
    """The ids of the posts ``chosen`` picks, as a subquery read on its own, also inside a
    statement that changes posts (which would otherwise take it as its own row)."""
    return sa.select(Post.id).where(chosen).correlate(None)


def _move_counts(chosen: sa.ColumnElement[bool], sign: int) -> None:
    """Move the stored counts of the posts' authors and of the posts they answer by ``sign``
    for each post ``chosen`` picks: one statement each, however many posts."""
    mine = so.aliased(Post)
    picked = mine.id.in_(ids_of(chosen))
    authored = (
        sa.select(sa.func.count())
        .select_from(mine)
        .where(mine.author_id == User.id, picked)
        .correlate(User)
        .scalar_subquery()
    )
    authors = sa.select(Post.author_id).where(chosen).correlate(None)
    lock_users(db.session.scalars(authors.distinct()))
    db.session.execute(
        sa.update(User)
        .where(User.id.in_(authors))
        .values(posts_count=User.posts_count + sign * authored)
    )
    answers = (
        sa.select(sa.func.count())
        .select_from(mine)
        .where(mine.reply_to_id == Post.id, picked)
        .correlate(Post)
        .scalar_subquery()
    )
    answered = sa.select(Post.reply_to_id).where(chosen, Post.reply_to_id.is_not(None))
    db.session.execute(
        sa.update(Post)
        .where(Post.id.in_(answered.correlate(None)))
        .values(replies_count=Post.replies_count + sign * answers)
    )


# What the admin area reads --------------------------------------------------------------


@dataclass
class QueueItem:
    """An account or a post with open reports: the queue's entry for it, with the oldest
    REPORTS_SHOWN of its ``count`` reports."""

    user: User
    post: Post | None
    reports: list[Report]
    count: int

    @property
    def first_report(self) -> Report:
        return self.reports[0]


# The reports the queue shows of one entry; it says how many more there are.
REPORTS_SHOWN = 20


def open_report_targets() -> sa.Select:
    """Each account or post with open reports, once, with the oldest one's id and how many."""
    first = sa.func.min(Report.id).label("first_id")
    return (
        sa.select(Report.user_id, Report.post_id, first, sa.func.count().label("reports"))
        .where(Report.open())
        .group_by(Report.user_id, Report.post_id)
    )


def open_targets_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(open_report_targets().subquery())
    )


def report_queue(offset: int, limit: int) -> list[QueueItem]:
    """A page of the queue, oldest first, with every open report on each entry: four
    statements, however long the page and however many reports."""
    targets = open_report_targets().subquery()
    rows = db.session.execute(
        sa.select(targets.c.user_id, targets.c.post_id, targets.c.reports)
        .order_by(targets.c.first_id)
        .offset(offset)
        .limit(limit)
    ).all()
    if not rows:
        return []
    users = {
        user.id: user
        for user in db.session.scalars(
            sa.select(User).where(User.id.in_({row.user_id for row in rows}))
        )
    }
    post_ids = {row.post_id for row in rows if row.post_id is not None}
    posts = {
        post.id: post for post in db.session.scalars(sa.select(Post).where(Post.id.in_(post_ids)))
    }
    on_page = sa.or_(*(Report.target_is(row.user_id, row.post_id) for row in rows))
    place = sa.func.row_number().over(
        partition_by=(Report.user_id, Report.post_id), order_by=Report.id
    )
    shown = sa.select(Report.id, place.label("place")).where(Report.open(), on_page).subquery()
    reports = db.session.scalars(
        sa.select(Report)
        .join(shown, shown.c.id == Report.id)
        .where(shown.c.place <= REPORTS_SHOWN)
        .options(so.joinedload(Report.reporter, innerjoin=True))
        .order_by(Report.id)
    )
    per_target: dict[tuple[int, int | None], list[Report]] = {}
    for report in reports:
        per_target.setdefault((report.user_id, report.post_id), []).append(report)
    return [
        QueueItem(
            users[row.user_id],
            posts.get(row.post_id),
            per_target[row.user_id, row.post_id],
            row.reports,
        )
        for row in rows
        if (row.user_id, row.post_id) in per_target
    ]


@dataclass
class DayActivity:
    day: date
    signups: int
    posts: int


def daily_activity(days: int, today: date | None = None) -> list[DayActivity]:
    """Sign-ups and posts of each of the last ``days`` days, today last, in one statement: a
    count of a range of an index on the time of creation per day and table (grouping by a
    date worked out for every row took three to five times as long)."""
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    # Each day's first moment, and tomorrow's: the bounds of each day's range.
    starts = [datetime.combine(first + timedelta(days=n), time()) for n in range(days + 1)]

    def counts(column: sa.ColumnElement[datetime]) -> list[sa.ScalarSelect[int]]:
        return [
            sa.select(sa.func.count()).where(column >= start, column < end).scalar_subquery()
            for start, end in zip(starts, starts[1:], strict=False)
        ]

    row = db.session.execute(sa.select(*counts(User.member_since), *counts(Post.created_at))).one()
    signups, posts = row[:days], row[days:]
    return [
        DayActivity(start.date(), signups[n], posts[n]) for n, start in enumerate(starts[:days])
    ]


def find_accounts(text: str) -> sa.Select[tuple[User]]:
    """Accounts whose username or email address begins with ``text`` (any case), newest
    first; every account for no text. Each is a range of an index (see prefix_range)."""
    stmt = sa.select(User).order_by(User.id.desc())
    text = text.replace("\x00", "").strip().lower()  # PostgreSQL refuses NUL in text
    if text:
        prefix = sa.bindparam("prefix", text, type_=sa.String)
        # Addresses are stored lower-cased (normalize_email), names matched by their lower case.
        names = prefix_range(sa.func.lower(User.username), prefix)
        stmt = stmt.where(sa.or_(names, prefix_range(User.email, prefix)))
    return stmt


def count_of(stmt: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))


def audit_log() -> sa.Select[tuple[ModerationAction]]:
    return sa.select(ModerationAction).order_by(ModerationAction.id.desc())


def open_reports_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Report.open()))
