import hashlib

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from app.auth.confirmation import confirmed_required
from app.clients import wants_json
from app.extensions import db
from app.models import User, is_valid_username, posts_by
from app.pagination import paginate, paginate_posts
from app.redirects import back_to_next_or, moved_to
from app.transactions import commit_unless_done_in_parallel, without_transaction

bp = Blueprint("profile", __name__)

# What the hover card shows of its user, besides the avatar: each is part of the card's ETag
# (a test checks the card's templates read nothing else).
CARD_FIELDS = (
    "id",
    "username",
    "about_me",
    "last_seen",
    "posts_count",
    "followers_count",
    "following_count",
)
CARD_TEMPLATES = ("profile/popup.html", "_user_card.html", "_macros.html")
CARD_AVATAR_SIZE = 128  # the card's 64-pixel avatar, drawn for high-density screens


def user_or_404(username: str) -> User:
    # A name no account can have is not looked up (PostgreSQL refuses NUL bytes outright).
    if not is_valid_username(username):
        abort(404)
    return db.first_or_404(sa.select(User).where(User.username_matches(username)))


def user_and_follow_state_or_404(username: str) -> tuple[User, bool]:
    """The user, and whether the reader follows them, in one statement."""
    if not is_valid_username(username):
        abort(404)
    viewer = current_user.id if current_user.is_authenticated else None
    found = User.with_follow_state(username, viewer)
    if found is None:
        abort(404)
    return found


@bp.get("/user/<username>")
@without_transaction
def user(username: str):
    user, is_following = user_and_follow_state_or_404(username)
    if username != user.username:  # one address per profile, whatever case was typed
        return moved_to(url_for("profile.user", username=user.username))
    blocked = block_notice(user)
    pagination = None
    if not blocked and not user.is_suspended:
        pagination = paginate_posts(posts_by(user), user.posts_count)
    return render_template(
        "profile/user.html",
        title=user.username,
        user=user,
        is_following=is_following,
        pagination=pagination,
        blocked=blocked,
    )


def block_notice(user: User) -> str | None:
    """What the profile says instead of the posts when a block stands between the reader and
    ``user``; None when none does (a look only for readers with mutes or blocks)."""
    if not current_user.is_authenticated or current_user.id == user.id:
        return None
    if not current_user.screened_count:
        return None
    if current_user.has_blocked(user):
        return f"You blocked {user.username}. Unblock them to see their posts."
    if user.has_blocked(current_user):
        return f"{user.username} blocked you: you cannot see their posts."
    return None


@bp.get("/user/<username>/popup")
@without_transaction
def popup(username: str):
    user, is_following = user_and_follow_state_or_404(username)
    etag = hover_card_etag(user, is_following)
    if request.if_none_match.contains_weak(etag):
        response = current_app.response_class(status=304)  # the reader's copy is current
    else:
        html = render_template("profile/popup.html", user=user, is_following=is_following)
        response = make_response(html)
    response.set_etag(etag)
    # Kept by this browser only, and checked with the ETag before every use: a later reader at
    # the same browser (signed out, or someone else) sends the same ETag but is not the viewer
    # it names, so gets the card as they should see it. The card carries no form token.
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response


def hover_card_etag(user: User, is_following: bool) -> str:
    """Everything the card's HTML depends on, hashed: who looks, at whom, and the templates."""
    viewer = current_user.id if current_user.is_authenticated else None
    shown = [getattr(user, field) for field in CARD_FIELDS]
    avatar = user.avatar(CARD_AVATAR_SIZE)
    parts = (card_templates_digest(), request.script_root, viewer, is_following, avatar, shown)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def card_templates_digest() -> str:
    """Changes with the card's templates, so a new release's card replaces what browsers keep."""
    digest = current_app.extensions.get("hover_card_templates")
    if digest is None:
        env = current_app.jinja_env
        sources = [env.loader.get_source(env, name)[0] for name in CARD_TEMPLATES]
        digest = hashlib.sha256("\0".join(sources).encode()).hexdigest()
        current_app.extensions["hover_card_templates"] = digest
    return digest


def follow_list(username: str, relation: str):
    user = user_or_404(username)
    if relation == "followers":
        people, total = user.followers_newest_first(), user.followers_count
        heading = f"People following {user.username}"
    else:
        people, total = user.following_newest_first(), user.following_count
        heading = f"People {user.username} follows"
    pagination = paginate(people, total)
    followed_ids = (
        current_user.following_among(pagination.items) if current_user.is_authenticated else set()
    )
    return render_template(
        "profile/follow_list.html",
        title=heading,
        heading=heading,
        user=user,
        pagination=pagination,
        followed_ids=followed_ids,
    )


@bp.get("/user/<username>/followers")
@without_transaction
def followers(username: str):
    return follow_list(username, "followers")


@bp.get("/user/<username>/following")
@without_transaction
def following(username: str):
    return follow_list(username, "following")


def change_following(username: str, *, follow: bool):
    user = user_or_404(username)
    if user.id == current_user.id:
        abort(400, "You cannot follow yourself.")
    if follow:
        current_user.follow(user)
    else:
        current_user.unfollow(user)
    commit_unless_done_in_parallel()
    if wants_json():
        return {"following": follow, "followers": user.followers_count}
    if follow:
        flash(f"You are following {user.username}.", "success")
    else:
        flash(f"You are no longer following {user.username}.", "info")
    return back_to_next_or(url_for("profile.user", username=user.username))


@bp.post("/follow/<username>")
@login_required
@confirmed_required
def follow(username: str):
    return change_following(username, follow=True)


@bp.post("/unfollow/<username>")
@login_required
@confirmed_required
def unfollow(username: str):
    return change_following(username, follow=False)
