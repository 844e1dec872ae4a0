"""The one clock every stored time comes from."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current UTC time without tzinfo: SQLite drops it, so every stored time is naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)
