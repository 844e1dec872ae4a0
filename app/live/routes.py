"""Live updates: an open page asks, every few seconds while it is visible, whether its feed
has new posts and how many notifications are unread, then fetches the new posts' cards when
the reader asks for them. Polling, not a held connection: see the README's "Live updates"."""

import hashlib

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user

from app import cards
from app.auth.sessions import session_key_in_cookie
from app.extensions import db
from app.live.feeds import CURSOR, MAX_COUNTED, LiveFeed, counted_with_session, row_id
from app.models import UserSession
from app.models.feed import NEWER_THAN_CURSOR
from app.pagination import per_page
from app.redirects import safe_next_path
from app.transactions import without_transaction

bp = Blueprint("live", __name__, url_prefix="/live")

# Asked by a script on its own, not by the reader: not a visit (app/main/routes.py), so an
# open tab does not keep its session from ending when idle.
BACKGROUND_ENDPOINTS = {"live.check"}


class BadRequest(Exception):
    """A feed or cursor that no page gives: the answer is a 400 saying which."""


def requested_feed() -> LiveFeed | None:
    """The ``feed`` argument; None when there is none (the notification count alone)."""
    name = request.args.get("feed")
    if name is None:
        return None
    feed = LiveFeed.named(name)
    if feed is None:
        raise BadRequest("feed must be timeline, home, explore, user:<id> or replies:<id>.")
    return feed


def requested_after() -> int:
    """``after``: the id of the newest post the page shows (0 when it shows none)."""
    after = request.args.get("after", "")
    if CURSOR.fullmatch(after) is None or row_id(after) is None:
        raise BadRequest("after must be the id of the newest post on the page, or 0.")
    return int(after)


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest):
    return jsonify(error=str(error)), 400


def unauthorized():
    return jsonify(error="Sign in to follow this."), 401


@bp.get("/check")
@without_transaction
def check():
    """What is new: ``{"new_posts": n, "more": bool, "unread_notifications": m}`` (the last
    for a signed-in reader), with an ETag, so an unchanged answer is a 304 with no body."""
    feed = requested_feed()
    params = {} if feed is None else feed.values() | {"cursor": requested_after()}
    unread, new_posts = what_is_new(feed, params)
    if unread is None and (feed is None or feed.is_timeline):
        return unauthorized()  # signed out meanwhile: the page stops asking
    answer: dict[str, object] = {}
    if unread is not None:
        answer["unread_notifications"] = unread
    if new_posts is not None:
        answer |= {"new_posts": min(new_posts, MAX_COUNTED), "more": new_posts > MAX_COUNTED}
    response = jsonify(answer)
    response.cache_control.private = True
    response.cache_control.no_cache = True
    # Kept by this browser alone, under a tag that names the session as well as the answer.
    reader = (session_key_in_cookie() or "").encode()
    response.set_etag(hashlib.sha256(reader + response.get_data()).hexdigest()[:32])
    return response.make_conditional(request)


def what_is_new(feed: LiveFeed | None, params: dict[str, int]) -> tuple[int | None, int | None]:
    """The reader's unread notifications (None for a visitor) and the feed's new posts (None
    without a feed, or for a timeline without its reader).

    A page checks every few seconds for as long as it is open, so for a signed-in reader one
    statement both checks the session and counts, and no user is loaded (Flask-Login would
    read the whole user and session first, in a statement of its own). Flask-Login's "basic"
    session protection only marks a session not fresh, which a check has no use for."""
    reader = unread = None
    if (key := session_key_in_cookie()) is not None:
        stmt = counted_with_session(feed.kind if feed else None)
        if (row := UserSession.read_if_live(key, stmt, params)) is not None:
            return row.unread_notifications, (row[2] if feed else None)
        # The session ended meanwhile: a visitor's answer.
    elif current_user.is_authenticated:  # signed in again just now by a remember-me cookie
        reader, unread = current_user, current_user.unread_notifications
    if feed is None or (feed.is_timeline and reader is None):
        return unread, None
    stmt, values = feed.counted_for(reader)
    return unread, db.session.connection().scalar(stmt, values | params)


@bp.get("/posts")
@without_transaction
def posts():
    """The cards of the posts after ``after``, as the feed's page draws them: the oldest of
    them first, a page's worth at most (the next check counts the rest). Their forms send the
    reader back to ``return_to``, the page they are on."""
    feed = requested_feed()
    if feed is None:
        raise BadRequest("feed is missing.")
    cursor = requested_after()
    if feed.is_timeline and not current_user.is_authenticated:
        return unauthorized()
    found = feed.chosen().posts(NEWER_THAN_CURSOR, cursor=cursor, limit=per_page())
    if feed.oldest_first:
        found.reverse()
    cards.set_page_path(safe_next_path(request.args.get("return_to")) or url_for("main.index"))
    # (A signed-in reader's answer, forms and token, is no-store like their pages: security.py.)
    return render_template("live/posts.html", posts=found, heading_level=feed.heading_level)
