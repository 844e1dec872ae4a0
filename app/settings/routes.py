import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from app.auth.reverify import confirm_current_password
from app.clients import record_security_event
from app.extensions import db
from app.models import SecurityEventKind
from app.settings.forms import ChangePasswordForm, ProfileForm

# Paths are written out in full: the pages' addresses from before the settings area live here too.
bp = Blueprint("settings", __name__)


@bp.before_request
@login_required
def require_login() -> None:
    """Every settings page is about the signed-in account."""


@bp.route("/settings/profile", methods=["GET", "POST"])
def profile():
    form = ProfileForm(current_user)
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
    return render_template("settings/profile.html", title="Profile", form=form)


@bp.route("/settings/password", methods=["GET", "POST"])
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit() and confirm_current_password(form.current_password):
        user = current_user._get_current_object()
        user.set_password(form.password.data)
        record_security_event(user.id, SecurityEventKind.PASSWORD_CHANGED)
        db.session.commit()
        # The new session token logged out every session, this one too: renew it here,
        # with a new remember-me cookie if this browser had one.
        remembered = current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies
        login_user(user, remember=remembered)
        flash("Your password has been changed. Other sessions were logged out.", "success")
        return redirect(url_for("settings.password"))
    return render_template("settings/password.html", title="Password", form=form)


# Where these pages lived before there was a settings area; 308 keeps a form's POST a POST.
@bp.route("/edit_profile", methods=["GET", "POST"], defaults={"page": "settings.profile"})
@bp.route("/auth/change_password", methods=["GET", "POST"], defaults={"page": "settings.password"})
def moved(page: str):
    return redirect(url_for(page), 308)
