import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from app.auth.confirmation import awaiting_confirmation
from app.auth.devices import remember_device
from app.auth.email import (
    send_email_changed_notice,
    send_email_confirmation,
    send_password_reset,
    send_registration_attempt_notice,
)
from app.auth.forms import (
    ConfirmEmailChangeForm,
    ConfirmEmailForm,
    LoginForm,
    RegistrationForm,
    ResetPasswordForm,
    ResetPasswordRequestForm,
)
from app.auth.lockout import LoginThrottle, clear_account_failures
from app.auth.sessions import sign_in, sign_out, signed_in_user
from app.clients import record_security_event
from app.email import link_base, run_in_background
from app.extensions import config_limit, db, limiter
from app.models import (
    EMAIL_MAX_LENGTH,
    SecurityEventKind,
    User,
    lift_ended_suspensions,
    normalize_email,
)
from app.redirects import safe_next_path

bp = Blueprint("auth", __name__, url_prefix="/auth")


def submitted_email() -> str:
    return "mail-to:" + normalize_email(request.form.get("email", "")[:EMAIL_MAX_LENGTH])


# Mails a form sends to the address typed into it (a reset link, a confirmation link, a notice
# that someone tried to register with it) share one budget per address, whatever the client:
# nobody can flood a stranger's inbox. Registration counts alike for new and taken addresses.
mails_to_one_address = limiter.shared_limit(
    config_limit("RESET_EMAIL_RATE_LIMIT"),
    scope="mails-to-one-address",
    key_func=submitted_email,
    methods=["POST"],
)


@bp.app_context_processor
def confirmation_state() -> dict[str, object]:
    return {"awaiting_confirmation": awaiting_confirmation}


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(config_limit("REGISTER_RATE_LIMIT"), methods=["POST"])
@mails_to_one_address
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        user = User(username=form.username.data)
        user.set_email(form.email.data)
        # Hashed before the address is looked at, so a taken one takes as long as a free one.
        user.set_password(form.password.data)
        if current_app.config["REQUIRE_EMAIL_CONFIRMATION"]:
            return register_unconfirmed(form, user)
        db.session.add(user)
        if not commit_new_account():
            form.username.errors.append("That username or email address was just taken.")
        else:
            sign_in(user)
            db.session.commit()
            flash(f"Welcome to Microblog, {user.username}!", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/register.html", title="Register", form=form)


def register_unconfirmed(form: RegistrationForm, user: User):
    """Create the account unconfirmed and mail it a link; for a taken address create nothing and
    tell its owner. Both answer with the same redirect to the same page."""
    if User.email_taken(user.email):
        run_in_background(send_registration_attempt_notice, user.email, link_base())
    else:
        db.session.add(user)
        if commit_new_account():
            run_in_background(send_email_confirmation, user.id, link_base())
        elif User.email_taken(user.email):  # the address went to someone else meanwhile
            run_in_background(send_registration_attempt_notice, user.email, link_base())
        else:
            form.username.errors.append("That username was just taken. Please choose another.")
            return render_template("auth/register.html", title="Register", form=form)
    return redirect(url_for("auth.check_inbox"))


def commit_new_account() -> bool:
    """Commit the account added to the session; False if its name or address went to someone
    else between the form's check and this insert (the unique indexes decide)."""
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return False
    return True


@bp.get("/check_inbox")
def check_inbox():
    return render_template("auth/check_inbox.html", title="Check your inbox")


# The two links mailed to an address open a page that changes nothing; its button does the work.
# Mail scanners (Outlook Safe Links, corporate gateways) fetch every link in a mail before its
# reader does: a link that acted on GET would be used up by them, and sign them in.


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    user = User.from_email_confirmation_token(token)
    form = ConfirmEmailForm()
    if user is None:
        flash(
            "That confirmation link is invalid, expired or already used. If your address is "
            "not confirmed yet, log in and ask for a new link.",
            "warning",
        )
        response = redirect(url_for("main.index"))
    elif form.validate_on_submit():
        user.confirm_email()
        record_security_event(user.id, SecurityEventKind.EMAIL_CONFIRMED)
        sign_in(user)
        db.session.commit()
        flash(f"Your email address is confirmed. Welcome to Microblog, {user.username}!", "success")
        response = redirect(url_for("main.index"))
    else:
        response = make_response(
            render_template(
                "auth/confirm_email.html", title="Confirm your email address", form=form, user=user
            )
        )
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this URL
    return response


@bp.post("/confirm/resend")
@login_required
@limiter.limit(
    config_limit("CONFIRMATION_RESEND_RATE_LIMIT"), methods=["POST"], key_func=signed_in_user
)
def resend_confirmation():
    if current_user.email_confirmed:
        flash("Your email address is already confirmed.", "info")
    else:
        run_in_background(send_email_confirmation, current_user.id, link_base())
        flash(
            f"A new confirmation link is on its way to {current_user.email}. "
            "Check your inbox (and spam folder).",
            "info",
        )
    return redirect(url_for("main.index"))


@bp.route("/confirm_email_change/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    destination = url_for("settings.email" if current_user.is_authenticated else "auth.login")
    found = User.from_email_change_token(token)
    form = ConfirmEmailChangeForm()
    if found is None:
        flash("That email change link is invalid, expired or already used.", "warning")
        response = redirect(destination)
    elif form.validate_on_submit():
        change_address(*found)
        response = redirect(destination)
    else:
        user, new_address = found
        response = make_response(
            render_template(
                "auth/confirm_email_change.html",
                title="Confirm your new email address",
                form=form,
                user=user,
                new_address=new_address,
            )
        )
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this URL
    return response


def change_address(user: User, new_address: str) -> None:
    """Move the account, tell the old address, and say how it went."""
    old_address = user.email
    if move_account(user, new_address):
        run_in_background(send_email_changed_notice, user.username, old_address, new_address)
        flash(f"Your email address is now {new_address}.", "success")
    else:
        flash(
            f"{new_address} belongs to another account, so your address was not changed. "
            "Choose another one in your settings.",
            "warning",
        )


def move_account(user: User, new_address: str) -> bool:
    """Give ``user`` the address and commit; False if another account has it."""
    if User.email_taken(new_address):
        return False
    try:
        user.change_email(new_address)
        record_security_event(user.id, SecurityEventKind.EMAIL_CHANGED)
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()  # the unique index has the final word: it was taken meanwhile
        return False
    return True


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
            if refusal := suspension_refusal(account):
                db.session.commit()  # a hash upgraded on the way
                form.form_errors.append(refusal)
                return render_template("auth/login.html", title="Log in", form=form), 403
            sign_in(account, remember=form.remember_me.data)
            db.session.commit()  # the sign-in's record, and a hash upgraded on the way
            flash(f"Welcome back, {account.username}.", "success")
            response = redirect(safe_next_path(request.args.get("next")) or url_for("main.index"))
            remember_device(response, account)
            return response
        throttle.fail()
        if account is not None:
            record_security_event(account.id, SecurityEventKind.SIGN_IN_FAILED)
            db.session.commit()
        # One message for both cases: which accounts exist is nobody's business.
        form.form_errors.append("Invalid username, email or password.")
    return render_template("auth/login.html", title="Log in", form=form)


def suspension_refusal(account: User) -> str | None:
    """Why a suspended account may not sign in; None if it may (a suspension that has run
    out is lifted here)."""
    if not account.is_suspended:
        return None
    if account.suspension_is_over():
        lift_ended_suspensions(user_id=account.id)
        return None
    return account.suspension_notice()


@bp.post("/logout")
@login_required
def logout():
    sign_out(current_user._get_current_object())
    db.session.commit()
    flash("You have been logged out.", "info")
    return redirect(url_for("main.index"))


@bp.route("/reset_password_request", methods=["GET", "POST"])
@limiter.limit(config_limit("RESET_RATE_LIMIT"), methods=["POST"])
@mails_to_one_address
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
        if current_user.is_authenticated:  # whoever it is signs in again, with the new password
            sign_out(current_user._get_current_object())
        user.set_password(form.password.data)  # ends every session of the account
        record_security_event(user.id, SecurityEventKind.PASSWORD_RESET)
        db.session.commit()
        clear_account_failures(user)  # whoever locked the account out, its owner signs in now
        flash("Your password has been reset. Log in with your new password.", "success")
        return redirect(url_for("auth.login"))
    response = make_response(
        render_template("auth/reset_password.html", title="Choose a new password", form=form)
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    return response
