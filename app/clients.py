"""Who is asking: the client's address and a short description of its browser and system."""

import functools

from flask import request
from flask_limiter.util import get_remote_address
from ua_parser import parse

from app.models.security import DEVICE_MAX_LENGTH, SecurityEvent, SecurityEventKind


def wants_json() -> bool:
    """True for a fetch() that asked for JSON rather than a page (forms get a redirect)."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def client_address() -> str:
    # The proxy-corrected address (ProxyFix, TRUSTED_PROXIES), as the rate limits see it.
    return get_remote_address()


@functools.lru_cache(maxsize=256)
def describe_device(user_agent: str) -> str:
    """``"Firefox on Windows"``, ``"Mobile Safari on iOS"``; ``"Unknown device"`` if unsure."""
    parsed = parse(user_agent[:1000])  # a long header must not cost a long parse
    browser = parsed.user_agent.family if parsed.user_agent else None
    system = parsed.os.family if parsed.os else None
    if browser in (None, "Other"):
        browser = None
    if system in (None, "Other"):
        system = None
    description = " on ".join(part for part in (browser, system) if part) or "Unknown device"
    return description[:DEVICE_MAX_LENGTH]


def client_device() -> str:
    return describe_device(request.headers.get("User-Agent", ""))


def record_security_event(user_id: int, kind: SecurityEventKind) -> SecurityEvent:
    """Note ``kind`` in the account's history, from this request's client (not committed)."""
    return SecurityEvent.record(user_id, kind, ip_address=client_address(), device=client_device())
