import sqlalchemy as sa
from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, logout_user

from app.auth.devices import remember_device
from app.auth.email import send_password_reset
from app.auth.forms import (
    LoginForm,
    RegistrationForm,
    ResetPasswordForm,
    ResetPasswordRequestForm,
)
from app.auth.lockout import LoginThrottle, clear_account_failures
from app.auth.sessions import sign_in, sign_out
from app.clients import record_security_event
from app.email import link_base, run_in_background
from app.extensions import config_limit, db, limiter
from app.models import EMAIL_MAX_LENGTH, SecurityEventKind, User, normalize_email
from app.redirects import safe_next_path

bp = Blueprint("auth", __name__, url_prefix="/auth")


def submitted_email() -> str:
    return "reset:" + normalize_email(request.form.get("email", "")[:EMAIL_MAX_LENGTH])


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(config_limit("REGISTER_RATE_LIMIT"), methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        user = User(username=form.username.data)
        user.set_email(form.email.data)
        user.set_password(form.password.data)
        db.session.add(user)
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            # Someone took the name or address between the form's check and this insert.
            db.session.rollback()
            form.username.errors.append("That username or email address was just taken.")
        else:
            sign_in(user)
            db.session.commit()
            flash(f"Welcome to Microblog, {user.username}!", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/register.html", title="Register", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(config_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        account = User.find(form.username.data)
        throttle = LoginThrottle.for_attempt(form.username.data, account)
        throttle.check()
        if User.password_matches(account, form.password.data):
            sign_in(account, remember=form.remember_me.data)
            db.session.commit()  # the sign-in's record, and a hash upgraded on the way
            flash(f"Welcome back, {account.username}.", "success")
            response = redirect(safe_next_path(request.args.get("next")) or url_for("main.index"))
            remember_device(response, account.id)
            return response
        throttle.fail()
        if account is not None:
            record_security_event(account.id, SecurityEventKind.SIGN_IN_FAILED)
            db.session.commit()
        # One message for both cases: which accounts exist is nobody's business.
        form.form_errors.append("Invalid username, email or password.")
    return render_template("auth/login.html", title="Log in", form=form)


@bp.post("/logout")
@login_required
def logout():
    sign_out(current_user._get_current_object())
    db.session.commit()
    flash("You have been logged out.", "info")
    return redirect(url_for("main.index"))


@bp.route("/reset_password_request", methods=["GET", "POST"])
@limiter.limit(config_limit("RESET_RATE_LIMIT"), methods=["POST"])
@limiter.limit(config_limit("RESET_EMAIL_RATE_LIMIT"), methods=["POST"], key_func=submitted_email)
def reset_password_request():
    form = ResetPasswordRequestForm()
    if form.validate_on_submit():
        # The lookup happens in the background too: known and unknown addresses cost this
        # request the same, and get the same answer.
        run_in_background(send_password_reset, form.email.data, link_base())
        flash(
            "If an account uses that address, a link to reset its password is on its way. "
            "Check your inbox (and spam folder).",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/reset_password_request.html", title="Reset your password", form=form
    )


@bp.route("/reset_password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = User.from_password_reset_token(token)
    if user is None:
        flash(
            "That password reset link is invalid, expired or already used. "
            "Request a new one below.",
            "warning",
        )
        return redirect(url_for("auth.reset_password_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        record_security_event(user.id, SecurityEventKind.PASSWORD_RESET)
        db.session.commit()
        clear_account_failures(user)  # whoever locked the account out, its owner signs in now
        logout_user()  # whoever was logged in here signs in again, with the new password
        flash("Your password has been reset. Log in with your new password.", "success")
        return redirect(url_for("auth.login"))
    response = make_response(
        render_template("auth/reset_password.html", title="Choose a new password", form=form)
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    return response
