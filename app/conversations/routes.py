"""Conversations: replies, likes and the notifications they send."""

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.auth.confirmation import confirmed_required
from app.auth.sessions import signed_in_user
from app.clients import wants_json
from app.conversations.notifications import notifications_page
from app.conversations.threads import post_or_404, render_thread, reply_form
from app.extensions import config_limit, db, limiter
from app.models import Post, PostLike, User
from app.pagination import paginate
from app.posting import publish_once
from app.redirects import back_to_next_or
from app.transactions import commit_unless_done_in_parallel, without_transaction

bp = Blueprint("conversations", __name__)


@bp.post("/post/<id:post_id>/reply")
@login_required
@limiter.limit(config_limit("POST_RATE_LIMIT"), key_func=signed_in_user)
@confirmed_required
def reply(post_id: int):
    answered = post_or_404(post_id)
    if answered.hidden:
        abort(403, "A hidden post takes no replies.")
    form = reply_form()
    if not form.validate_on_submit():
        return render_thread(answered, form), 422
    try:
        post, created = publish_once(
            current_user, form.body.data, form.submission_key.data, reply_to=answered
        )
    except so.exc.StaleDataError:  # the post answered was deleted meanwhile
        db.session.rollback()
        abort(404)
    if created:
        flash("Your reply is live.", "success")
    else:
        flash("You already sent this reply.", "info")
    # The reply's own page: it, and what it answers above it.
    return redirect(url_for("main.post", post_id=post.id))


@bp.post("/post/<id:post_id>/like")
@login_required
@confirmed_required
def like(post_id: int):
    return change_like(post_id, like=True)


@bp.post("/post/<id:post_id>/unlike")
@login_required
@confirmed_required
def unlike(post_id: int):
    return change_like(post_id, like=False)


def change_like(post_id: int, *, like: bool):
    post = post_or_404(post_id)
    if like:
        current_user.like(post)
    else:
        current_user.unlike(post)
    commit_unless_done_in_parallel()
    likes = db.session.scalar(sa.select(Post.likes_count).where(Post.id == post_id))
    if wants_json():
        return {"liked": like, "likes": likes}
    return back_to_next_or(url_for("main.post", post_id=post_id))


@bp.get("/post/<id:post_id>/likes")
@without_transaction
def likes(post_id: int):
    post = post_or_404(post_id)
    people = (
        sa.select(User)
        .join(PostLike, PostLike.user_id == User.id)
        .where(PostLike.post_id == post.id)
        .order_by(PostLike.created_at.desc(), PostLike.user_id.desc())
    )
    pagination = paginate(people, post.likes_count)
    followed_ids = (
        current_user.following_among(pagination.items) if current_user.is_authenticated else set()
    )
    return render_template(
        "conversations/likes.html",
        title=f"Likes of a post by {post.author.username}",
        post=post,
        pagination=pagination,
        followed_ids=followed_ids,
    )


@bp.get("/notifications")
@login_required
def notifications():
    return notifications_page()
