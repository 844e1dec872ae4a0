import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from app.auth.email import send_email_change_link
from app.auth.sessions import signed_in_user
from app.clients import record_security_event
from app.email import link_base, run_in_background
from app.extensions import config_limit, db, limiter
from app.models import SecurityEventKind, normalize_email
from app.settings.forms import ChangeEmailForm, ChangePasswordForm, ProfileForm

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
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        else:
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


@bp.route("/settings/email", methods=["GET", "POST"])
@limiter.limit(config_limit("EMAIL_CHANGE_RATE_LIMIT"), methods=["POST"], key_func=signed_in_user)
def email():
    form = ChangeEmailForm()
    if form.validate_on_submit():
        new_address = normalize_email(form.email.data)
        # re-verification: throttled by the lockout slice
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        elif new_address == current_user.email:
            form.email.errors.append("That is already your address.")
        else:
            # Mailed whether or not another account has the address (the link then fails):
            # this page must not tell which addresses have accounts.
            run_in_background(send_email_change_link, current_user.id, new_address, link_base())
            record_security_event(current_user.id, SecurityEventKind.EMAIL_CHANGE_REQUESTED)
            db.session.commit()
            flash(
                f"We sent a link to {new_address}. Your address changes when you open it; "
                "until then it stays as it is.",
                "info",
            )
            return redirect(url_for("settings.email"))
    return render_template("settings/email.html", title="Email", form=form)


# Where these pages lived before there was a settings area; 308 keeps a form's POST a POST.
@bp.route("/edit_profile", methods=["GET", "POST"], defaults={"page": "settings.profile"})
@bp.route("/auth/change_password", methods=["GET", "POST"], defaults={"page": "settings.password"})
def moved(page: str):
    return redirect(url_for(page), 308)
