from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from app import transactions
from app.auth.confirmation import confirmed_required
from app.auth.sessions import user_or_address
from app.conversations.threads import post_or_404, render_thread
from app.extensions import config_limit, db, limiter, login, moment
from app.feeds.routes import FEED_ENDPOINTS
from app.forms import NewPostForm, PostForm
from app.health.routes import PROBE_ENDPOINTS
from app.live.routes import BACKGROUND_ENDPOINTS
from app.main.suggestions import who_to_follow
from app.models import HIDDEN_POST_UNEDITABLE, Post, every_post, timeline_of
from app.pagination import paginate_posts
from app.posting import publish_once
from app.redirects import safe_next_path
from app.transactions import without_transaction

bp = Blueprint("main", __name__)


# Files a page pulls in: counting them as visits would load the user from the database once
# per stylesheet, script and avatar.
ASSET_ENDPOINTS = {
    "static",
    "bootstrap.static",
    "main.moment_js",
    "avatars.identicon",
    "avatars.picture",
}
NOT_VISITS = ASSET_ENDPOINTS | PROBE_ENDPOINTS | BACKGROUND_ENDPOINTS | FEED_ENDPOINTS


@bp.before_app_request
def record_visit():
    if request.endpoint in NOT_VISITS:
        return
    if not current_user.is_authenticated:
        return
    # Each at most once a minute, in one commit; none when neither moved.
    moved = [current_user.record_visit(), current_user.current_session.record_activity()]
    if any(moved):
        transactions.commit()


@bp.route("/index", methods=["GET", "POST"])
@bp.route("/", methods=["GET", "POST"])  # registered first, so url_for() builds "/"
@without_transaction
@limiter.limit(config_limit("POST_RATE_LIMIT"), methods=["POST"], key_func=user_or_address)
@confirmed_required
def index():
    if not current_user.is_authenticated:
        if request.method == "POST":
            return login.unauthorized()
        pagination = paginate_posts(every_post())
        return render_template("main/index.html", title="Home", form=None, pagination=pagination)
    form = NewPostForm()
    if form.validate_on_submit():
        post, created = publish_once(current_user, form.body.data, form.submission_key.data)
        if created:
            flash("Your post is live.", "success")
            return redirect(url_for("main.index"))
        # The same form again (a double click, a browser resubmit, a client retrying after a
        # lost answer): show the post it made, wherever the timeline has moved since.
        if post.body == form.body.data:
            flash("You already posted this.", "info")
        else:
            flash(
                "This form was already sent: here is the post it made. Your changed text was "
                "not posted.",
                "warning",
            )
        return redirect(url_for("main.post", post_id=post.id))
    pagination = paginate_posts(timeline_of(current_user))
    return render_template(
        "main/index.html",
        title="Home",
        form=form,
        pagination=pagination,
        suggestions=who_to_follow(),
    )


@bp.get("/explore")
@without_transaction
def explore():
    pagination = paginate_posts(every_post())
    return render_template("main/explore.html", title="Explore", pagination=pagination)


def own_post_or_403(post_id: int) -> Post:
    post = db.first_or_404(
        sa.select(Post).where(Post.id == post_id).options(so.joinedload(Post.author))
    )
    if post.author_id != current_user.id:
        abort(403)
    return post


@bp.get("/post/<id:post_id>")
@without_transaction
def post(post_id: int):
    return render_thread(post_or_404(post_id))


@bp.route("/post/<id:post_id>/edit", methods=["GET", "POST"])
@login_required
@confirmed_required
def edit_post(post_id: int):
    post = own_post_or_403(post_id)
    if post.hidden:
        abort(403, HIDDEN_POST_UNEDITABLE)
    form = PostForm()
    if form.validate_on_submit():
        current_user.edit_post(post, form.body.data)
        db.session.commit()
        flash("Your post has been updated.", "success")
        return redirect(url_for("main.post", post_id=post.id))
    if request.method == "GET":
        form.body.data = post.body
    form.submit.label.text = "Save"
    return render_template("main/edit_post.html", title="Edit post", form=form, post=post)


@bp.post("/post/<id:post_id>/delete")
@login_required
def delete_post(post_id: int):
    post = own_post_or_403(post_id)
    if current_user.delete_post(post):
        db.session.commit()
        flash("Your post has been deleted.", "success")
    else:
        db.session.rollback()
        flash("That post was already deleted.", "info")
    back = safe_next_path(request.form.get("next"))
    gone = {url_for("main.post", post_id=post_id), url_for("main.edit_post", post_id=post_id)}
    if back is None or urlsplit(back).path in gone:  # that page no longer exists
        back = url_for("profile.user", username=current_user.username)
    return redirect(back)


@bp.get("/js/flask-moment.js")
def moment_js():
    # Flask-Moment's glue as a script file rather than inline code, so a Content-Security-Policy
    # can forbid inline scripts. Its first line calls moment(), which is missing when the CDN is
    # blocked or offline: then the glue stays out and the server's UTC times stay on the page.
    # Its functions, declared in this block, still become globals when it runs (sloppy-mode
    # script), which is how popovers.js finds flask_moment_render.
    glue = f'if (typeof moment === "function") {{\n{moment.flask_moment_js()}\n}}\n'
    response = current_app.response_class(glue, mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
