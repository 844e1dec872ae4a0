"""Who to follow, on the home page: worked out at most every few minutes per reader.

Finding suggestions reads what fifty accounts follow, a few milliseconds: more than the rest of
the home page. What comes out changes slowly, so each process keeps the last answer for each
reader (the accounts' ids and their counts), for SUGGESTIONS_CACHE_SECONDS, under a key that
also holds how many accounts the reader follows: following or unfollowing anyone (from the
list itself, say) makes a new key, and the list is worked out afresh. A kept answer costs one
lookup of three users by id.
"""

import threading

import sqlalchemy as sa
from cachetools import TTLCache
from flask import Flask, current_app
from flask_login import current_user

from app.auth.confirmation import awaiting_confirmation
from app.extensions import db
from app.models import Suggestion, User

SUGGESTIONS_SHOWN = 3
CACHE_SIZE = 10_000  # readers per process: a few hundred kB


class SuggestionCache:
    def __init__(self, seconds: int) -> None:
        self.answers: TTLCache = TTLCache(maxsize=CACHE_SIZE, ttl=seconds)
        self.lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> list[tuple[int, int]] | None:
        with self.lock:
            return self.answers.get(key)

    def put(self, key: tuple[int, int], answer: list[tuple[int, int]]) -> None:
        with self.lock:
            self.answers[key] = answer


def who_to_follow() -> list[Suggestion]:
    # Suggestions come from the reader's follows: with none there is nothing to ask the
    # database. Nor for a reader who may not follow anyone yet (address not confirmed).
    if current_user.following_count == 0 or awaiting_confirmation():
        return []
    cache: SuggestionCache = current_app.extensions["suggestions"]
    key = (current_user.id, current_user.following_count)
    kept = cache.get(key)
    if kept is None:
        suggestions = current_user.suggested_for(limit=SUGGESTIONS_SHOWN)
        cache.put(key, [(suggestion.user.id, suggestion.followed_by) for suggestion in suggestions])
        return suggestions
    if not kept:
        return []
    users = {
        user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(dict(kept))))
    }
    # An account deleted meanwhile is left out.
    return [Suggestion(users[user_id], count) for user_id, count in kept if user_id in users]


def init_app(app: Flask) -> None:
    app.extensions["suggestions"] = SuggestionCache(app.config["SUGGESTIONS_CACHE_SECONDS"])
