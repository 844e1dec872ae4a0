"""Browser sessions kept on the server: what a session or remember-me cookie stands for.

The cookie carries only a random key; the table keeps its SHA-256, so a copy of the database
signs nobody in. Deleting the row ends the session wherever its cookies have been copied to.
"""

import functools
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from app.extensions import db
from app.models.clock import utcnow
from app.models.security import ADDRESS_MAX_LENGTH, DEVICE_MAX_LENGTH

if TYPE_CHECKING:
    from app.models.user import User

# Writing last_active_at on every request would turn every page view into a write.
LAST_ACTIVE_RESOLUTION = timedelta(minutes=1)


def hash_session_key(key: str) -> str:
    # A key has 256 random bits: a plain hash cannot be reversed by guessing, no salt needed.
    return hashlib.sha256(key.encode()).hexdigest()


class UserSession(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_active_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    ip_address: so.Mapped[str | None] = so.mapped_column(sa.String(ADDRESS_MAX_LENGTH))
    device: so.Mapped[str | None] = so.mapped_column(sa.String(DEVICE_MAX_LENGTH))
    remembered: so.Mapped[bool] = so.mapped_column(default=False)
    # The end no activity can move (REMEMBER_COOKIE_DURATION after sign-in), and the end the
    # next idle stretch brings, which activity moves forward but never past the first. One
    # indexed column for the second makes the purge of dead sessions a range delete.
    absolute_expires_at: so.Mapped[datetime] = so.mapped_column()
    expires_at: so.Mapped[datetime] = so.mapped_column(index=True)

    user: so.Mapped["User"] = so.relationship(back_populates="sessions")

    # The raw key (str), known only to the request that created or presented it: what
    # User.get_id() hands Flask-Login for the cookies. Never stored; unannotated, so unmapped.
    key = None

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"

    @staticmethod
    def idle_timeout(remembered: bool) -> timedelta:
        config = current_app.config
        return config["REMEMBER_IDLE_TIMEOUT" if remembered else "SESSION_IDLE_TIMEOUT"]

    @classmethod
    def start(
        cls, user: "User", *, remembered: bool, ip_address: str | None, device: str | None
    ) -> "UserSession":
        """A new session for ``user`` (not committed), its raw key in ``key``.

        Sessions that have expired anywhere on the site are deleted on the way: sign-ins are
        frequent enough to keep the table small without a scheduled job.
        """
        now = utcnow()
        cls.purge_expired(now)
        key = secrets.token_urlsafe(32)
        absolute_end = now + current_app.config["REMEMBER_COOKIE_DURATION"]
        user_session = cls(
            key_hash=hash_session_key(key),
            user=user,
            created_at=now,
            last_active_at=now,
            ip_address=ip_address,
            device=device,
            remembered=remembered,
            absolute_expires_at=absolute_end,
            expires_at=min(absolute_end, now + cls.idle_timeout(remembered)),
        )
        user_session.key = key
        db.session.add(user_session)
        return user_session

    @classmethod
    def find(cls, key: str) -> "UserSession | None":
        """The session a cookie's key names, with its user, whether expired or not."""
        user_session = db.session.scalar(by_key_hash(), {"key_hash": hash_session_key(key)})
        if user_session is not None:
            user_session.key = key
        return user_session

    def has_expired(self, now: datetime | None = None) -> bool:
        return has_passed(self.expires_at, now)

    @classmethod
    def read_if_live(cls, key: str, stmt: sa.Select, params: dict[str, object]) -> sa.Row | None:
        """What ``stmt`` reads for the session a cookie's key names, or None when there is
        none or it has expired: for an answer that needs a few values of the reader, not the
        user object, in one round trip. ``stmt`` selects ``expires_at`` first and finds the
        session by ``key_hash`` (bound here); ``params`` binds the rest."""
        # On the connection: columns need none of the ORM's work on results.
        connection = db.session.connection()
        row = connection.execute(stmt, params | {"key_hash": hash_session_key(key)}).first()
        if row is None or has_passed(row[0]):
            return None
        return row

    # Both writes below are statements rather than changes to this object: when another request
    # ended the session meanwhile (a logout in another tab), they match no row, where a flush
    # of the object would fail this request.

    def record_activity(self, now: datetime | None = None) -> bool:
        """Move the last activity and the idle end forward if over a minute old; True if so."""
        now = now or utcnow()
        if now - self.last_active_at < LAST_ACTIVE_RESOLUTION:
            return False
        idle_end = now + self.idle_timeout(self.remembered)
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.id == self.id)
            .values(last_active_at=now, expires_at=min(self.absolute_expires_at, idle_end))
        )
        return True

    def end(self) -> None:
        db.session.execute(sa.delete(UserSession).where(UserSession.id == self.id))

    @classmethod
    def purge_expired(cls, now: datetime | None = None) -> None:
        db.session.execute(sa.delete(cls).where(cls.expires_at <= (now or utcnow())))

    @classmethod
    def live_for(cls, user_id: int) -> list["UserSession"]:
        """The user's sessions that have not expired, the most recently active first."""
        stmt = (
            sa.select(cls)
            .where(cls.user_id == user_id, cls.expires_at > utcnow())
            .order_by(cls.last_active_at.desc(), cls.id.desc())
        )
        return list(db.session.scalars(stmt))

    @classmethod
    def end_all_for(cls, user_id: int, *, keep: "UserSession | None" = None) -> int:
        """Delete the user's sessions, all of them or all but ``keep``; how many there were."""
        stmt = sa.delete(cls).where(cls.user_id == user_id)
        if keep is not None:
            stmt = stmt.where(cls.id != keep.id)
        return db.session.execute(stmt).rowcount


def has_passed(end: datetime, now: datetime | None = None) -> bool:
    return (now or utcnow()) >= end


@functools.cache
def by_key_hash() -> sa.Select[tuple[UserSession]]:
    """The statement behind every signed-in request, built once: building it anew (and its
    cache key) took longer than running it."""
    return (
        sa.select(UserSession)
        .where(UserSession.key_hash == sa.bindparam("key_hash"))
        .options(so.joinedload(UserSession.user, innerjoin=True))
    )
