import re

import sqlalchemy as sa
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

from app.avatars import identicon_svg
from app.extensions import db
from app.models import User
from app.pagination import paginate_posts
from app.profile.forms import EditProfileForm

bp = Blueprint("profile", __name__)

IDENTICON_DIGEST = re.compile(r"[0-9a-f]{64}")


def user_or_404(username: str) -> User:
    return db.first_or_404(sa.select(User).where(User.username_matches(username)))


@bp.get("/user/<username>")
def user(username: str):
    user = user_or_404(username)
    if username != user.username:  # one address per profile, whatever case was typed
        page = request.args.get("page")
        return redirect(url_for("profile.user", username=user.username, page=page), 301)
    pagination = paginate_posts(user.posts_newest_first())
    return render_template(
        "profile/user.html",
        title=user.username,
        user=user,
        post_count=pagination.total,
        pagination=pagination,
    )


@bp.get("/user/<username>/popup")
def popup(username: str):
    user = user_or_404(username)
    return render_template("profile/popup.html", user=user, post_count=user.post_count())


@bp.get("/avatar/<digest>.svg")
def identicon(digest: str):
    if not IDENTICON_DIGEST.fullmatch(digest):
        abort(404)
    response = current_app.response_class(identicon_svg(digest), mimetype="image/svg+xml")
    # The picture is a pure function of the URL, so browsers may keep it for good.
    response.cache_control.public = True
    response.cache_control.max_age = 365 * 24 * 3600
    response.cache_control.immutable = True
    return response


@bp.route("/edit_profile", methods=["GET", "POST"])
@login_required
def edit():
    form = EditProfileForm(current_user)
    if form.validate_on_submit():
        current_user.username = form.username.data
        current_user.about_me = form.about_me.data or None
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()  # another user took the name since the form's check
            form.username.errors.append("That username was just taken. Please choose another.")
        else:
            flash("Your profile has been saved.", "success")
            return redirect(url_for("profile.user", username=current_user.username))
    elif request.method == "GET":
        form.username.data = current_user.username
        form.about_me.data = current_user.about_me
    return render_template("profile/edit.html", title="Edit profile", form=form)
