"""An account's security history: sign-ins, failures and changes, shown to its owner."""

import enum
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.clock import utcnow
from app.models.types import stored_as_text

SECURITY_EVENT_RETENTION = timedelta(days=90)
ADDRESS_MAX_LENGTH = 45  # the longest text form of an IPv6 address
DEVICE_MAX_LENGTH = 120


class SecurityEventKind(enum.StrEnum):
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGNED_OUT = "signed_out"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHECK_FAILED = "password_check_failed"
    EMAIL_CHANGE_REQUESTED = "email_change_requested"
    EMAIL_CHANGED = "email_changed"
    EMAIL_CONFIRMED = "email_confirmed"
    SESSION_ENDED = "session_ended"
    OTHER_SESSIONS_ENDED = "other_sessions_ended"

    @property
    def description(self) -> str:
        return EVENT_DESCRIPTIONS[self]


EVENT_DESCRIPTIONS = {
    SecurityEventKind.SIGNED_IN: "Signed in",
    SecurityEventKind.SIGN_IN_FAILED: "Failed sign-in (wrong password)",
    SecurityEventKind.SIGNED_OUT: "Signed out",
    SecurityEventKind.PASSWORD_CHANGED: "Password changed",
    SecurityEventKind.PASSWORD_RESET: "Password reset by email link",
    SecurityEventKind.PASSWORD_CHECK_FAILED: "Wrong current password given in settings",
    SecurityEventKind.EMAIL_CHANGE_REQUESTED: "Email change requested",
    SecurityEventKind.EMAIL_CHANGED: "Email address changed",
    SecurityEventKind.EMAIL_CONFIRMED: "Email address confirmed",
    SecurityEventKind.SESSION_ENDED: "A session was ended",
    SecurityEventKind.OTHER_SESSIONS_ENDED: "All other sessions were ended",
}


class SecurityEvent(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    kind: so.Mapped[SecurityEventKind] = so.mapped_column(stored_as_text(SecurityEventKind, 32))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    ip_address: so.Mapped[str | None] = so.mapped_column(sa.String(ADDRESS_MAX_LENGTH))
    device: so.Mapped[str | None] = so.mapped_column(sa.String(DEVICE_MAX_LENGTH))

    __table_args__ = (
        sa.Index("ix_security_event_user_id_created_at", user_id, created_at),
        sa.Index("ix_security_event_created_at", created_at),
    )

    @classmethod
    def record(
        cls, user_id: int, kind: SecurityEventKind, *, ip_address: str | None, device: str | None
    ) -> "SecurityEvent":
        """Add an event (committed with the caller's change), and forget every expired one.

        Purging as events arrive keeps the table bounded without a scheduled job, for accounts
        nobody uses any more too; the index on the time makes it a range of that index.
        """
        db.session.execute(
            sa.delete(cls).where(cls.created_at < utcnow() - SECURITY_EVENT_RETENTION)
        )
        event = cls(user_id=user_id, kind=kind, ip_address=ip_address, device=device)
        db.session.add(event)
        return event

    @classmethod
    def recent_for(cls, user_id: int, limit: int = 50) -> list["SecurityEvent"]:
        since = utcnow() - SECURITY_EVENT_RETENTION
        stmt = (
            sa.select(cls)
            .where(cls.user_id == user_id, cls.created_at >= since)
            .order_by(cls.created_at.desc(), cls.id.desc())
            .limit(limit)
        )
        return list(db.session.scalars(stmt))
