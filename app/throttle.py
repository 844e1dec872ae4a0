"""Counting failures, and only failures, in the rate limiter's storage (Redis when several
processes serve the app, so they count together).

Flask-Limiter's decorators count requests and decide after the view has run; a limit on
wrong passwords must be checked before the password is, counted only when it was wrong,
cleared when the owner proves who they are, and tell how long the wait is.
"""

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

from flask import current_app
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from app.extensions import limiter

Operation = Literal["test", "hit", "clear", "get_window_stats"]


@dataclass(frozen=True)
class FailureLimit:
    """At most so many failures per key in a window, e.g. ``"20 per hour"`` from the config."""

    config_name: str
    namespace: str

    def _arguments(self, key: str) -> tuple[RateLimitItem, str, ...]:
        """The limit and the identifiers it is counted under, as the strategies take them."""
        # The same key prefix as Flask-Limiter's own limits: apps sharing a Redis stay apart.
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
        limit = parse(current_app.config[self.config_name])
        return (limit, prefix, self.namespace, key) if prefix else (limit, self.namespace, key)

    def wait(self, key: str) -> int:
        """Seconds until ``key`` may fail again: 0 while it is under the limit."""
        if not limiter.enabled:
            return 0
        if self._counted(key, "test"):
            return 0
        reset_at, _ = self._counted(key, "get_window_stats")
        return max(1, math.ceil(reset_at - time.time()))

    def fail(self, key: str) -> None:
        if limiter.enabled:
            self._counted(key, "hit")

    def clear(self, key: str) -> None:
        if limiter.enabled:
            self._counted(key, "clear")

    def _counted(self, key: str, operation: Operation) -> Any:
        """``operation`` of the limiter's strategy (or the fallback's) for ``key``."""
        arguments = self._arguments(key)
        try:
            return getattr(limiter.limiter, operation)(*arguments)
        except limiter.storage.base_exceptions as error:
            current_app.logger.warning(
                "Rate limit storage unreachable (%s): failures counted in this process", error
            )
            return getattr(_fallback, operation)(*arguments)


# While the shared storage cannot be reached, failures are counted in each process's memory,
# as Flask-Limiter does for its own limits (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED): a Redis
# outage must not turn a password form into a 500, nor lift the limits.
_fallback = FixedWindowRateLimiter(MemoryStorage())


def describe_wait(seconds: int) -> str:
    """``"42 minutes"``: a wait as a person reads it, rounded up so it is never too short."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes <= 90:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"{hours} hours"
