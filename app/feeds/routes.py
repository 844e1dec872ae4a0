"""Atom feeds of posts (issue 15): a user's newest posts, and a tag's."""

from flask import Blueprint, redirect, url_for

from app.feeds.atom import FEED_LENGTH, atom_feed_response, external_url_for
from app.models import posts_by, utcnow
from app.models.feed import FROM_NEWEST, tagged
from app.post_text import tag_key
from app.profile.routes import user_or_404
from app.tags.routes import tag_or_404
from app.transactions import without_transaction

bp = Blueprint("feeds", __name__)

# Fetched by feed readers, often in the background: not visits (app/main/routes.py). A feed
# view loads no signed-in user, so the feed is the same for everyone and caches may share it.
FEED_ENDPOINTS = {"feeds.user", "feeds.tag"}


@bp.get("/user/<username>/feed.atom")
@without_transaction
def user(username: str):
    user = user_or_404(username)
    if username != user.username:  # one address per feed, whatever case was typed
        return redirect(url_for("feeds.user", username=user.username), 301)
    posts = posts_by(user).seen_by(None).posts(FROM_NEWEST, offset=0, limit=FEED_LENGTH)
    external = external_url_for()
    profile_url = external("profile.user", username=user.username)
    return atom_feed_response(
        f"{user.username} on Microblog",
        profile_url,
        external("feeds.user", username=user.username),
        posts,
        updated_when_empty=user.member_since,
        author=(user.username, profile_url),
    )


@bp.get("/tag/<word>/feed.atom")
@without_transaction
def tag(word: str):
    tag = tag_or_404(word)
    if word != tag_key(word):  # one address per feed, whatever case was typed
        return redirect(url_for("feeds.tag", word=tag.key), 301)
    posts = tagged(tag).seen_by(None).posts(FROM_NEWEST, offset=0, limit=FEED_LENGTH)
    external = external_url_for()
    return atom_feed_response(
        f"#{tag.name} on Microblog",
        external("tags.tag", word=tag.key),
        external("feeds.tag", word=tag.key),
        posts,
        updated_when_empty=utcnow(),  # only while its last posts go: a tag page needs posts
    )
