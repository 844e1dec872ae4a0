"""The one clock every stored time comes from."""

from datetime import UTC, datetime


def system_time() -> datetime:
    return datetime.now(UTC)


def utcnow() -> datetime:
    """The current UTC time without tzinfo: SQLite drops it, so every stored time is naive UTC.

    Reads ``system_time`` when called, so a test can move every clock at once by replacing it
    (the ``clock`` fixture in tests/conftest.py).
    """
    return system_time().replace(tzinfo=None)
