"""Counting failures, and only failures, in the rate limiter's storage (Redis when several
processes serve the app, so they count together).

Flask-Limiter's decorators count requests and decide after the view has run; a limit on
wrong passwords must be checked before the password is, counted only when it was wrong,
cleared when the owner proves who they are, and tell how long the wait is.
"""

import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse

from app.extensions import limiter


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
        arguments = self._arguments(key)
        if limiter.limiter.test(*arguments):
            return 0
        reset_at, _ = limiter.limiter.get_window_stats(*arguments)
        return max(1, math.ceil(reset_at - time.time()))

    def fail(self, key: str) -> None:
        if limiter.enabled:
            limiter.limiter.hit(*self._arguments(key))

    def clear(self, key: str) -> None:
        if limiter.enabled:
            limiter.limiter.clear(*self._arguments(key))


def describe_wait(seconds: int) -> str:
    """``"42 minutes"``: a wait as a person reads it, rounded up so it is never too short."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes <= 90:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"{hours} hours"
