"""How users protect themselves: reporting posts and accounts, blocking and muting."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.auth.confirmation import confirmed_required
from app.auth.sessions import signed_in_user
from app.conversations.threads import post_or_404
from app.extensions import config_limit, limiter
from app.models import Report, ReportReason, User
from app.profile.routes import user_or_404
from app.redirects import back_to_next_or
from app.safety.forms import ReportForm
from app.transactions import commit_unless_done_in_parallel

bp = Blueprint("safety", __name__)

report_limit = limiter.limit(
    config_limit("REPORT_RATE_LIMIT"), key_func=signed_in_user, methods=["POST"]
)


@bp.route("/post/<id:post_id>/report", methods=["GET", "POST"])
@login_required
@report_limit
@confirmed_required
def report_post(post_id: int):
    post = post_or_404(post_id)
    if post.author_id == current_user.id:
        abort(400, "You cannot report your own post.")
    form = ReportForm()
    if form.validate_on_submit():
        filed = Report.file(current_user, ReportReason(form.reason.data), form.note.data, post=post)
        return report_sent(filed, url_for("main.post", post_id=post.id))
    return render_template(
        "safety/report.html",
        title=f"Report a post by {post.author.username}",
        form=form,
        post=post,
        subject=post.author,
    ), 200 if not form.errors else 422


@bp.get("/user/<username>/safety")
@login_required
def user_safety(username: str):
    user = own_account_refused(user_or_404(username))
    return render_safety_page(user, ReportForm())


@bp.post("/user/<username>/report")
@login_required
@report_limit
@confirmed_required
def report_user(username: str):
    user = own_account_refused(user_or_404(username))
    form = ReportForm()
    if not form.validate_on_submit():
        return render_safety_page(user, form), 422
    filed = Report.file(current_user, ReportReason(form.reason.data), form.note.data, user=user)
    return report_sent(filed, url_for("profile.user", username=user.username))


def render_safety_page(user: User, form: ReportForm) -> str:
    return render_template(
        "safety/user.html",
        title=f"Block, mute or report {user.username}",
        user=user,
        form=form,
        blocked=current_user.has_blocked(user),
        muted=current_user.has_muted(user),
    )


def own_account_refused(user: User) -> User:
    if user.id == current_user.id:
        abort(400, "You cannot block, mute or report yourself.")
    return user


def report_sent(filed: bool, back: str):
    commit_unless_done_in_parallel()  # a second report sent at the same time is the same one
    if filed:
        flash("Thank you: your report was sent to the moderators.", "success")
    else:
        flash("You have reported this already; the moderators will look at it.", "info")
    return redirect(back)


@bp.post("/user/<username>/block")
@login_required
def block(username: str):
    return protect(username, "block", "You blocked {}. They can no longer follow or answer you.")


@bp.post("/user/<username>/unblock")
@login_required
def unblock(username: str):
    return protect(username, "unblock", "You unblocked {}.")


@bp.post("/user/<username>/mute")
@login_required
def mute(username: str):
    return protect(username, "mute", "You muted {}. Their posts leave your feeds.")


@bp.post("/user/<username>/unmute")
@login_required
def unmute(username: str):
    return protect(username, "unmute", "You unmuted {}.")


def protect(username: str, action: str, message: str):
    user = own_account_refused(user_or_404(username))
    getattr(current_user, action)(user)
    commit_unless_done_in_parallel()
    flash(message.format(user.username), "success")
    return back_to_next_or(url_for("safety.user_safety", username=user.username))
