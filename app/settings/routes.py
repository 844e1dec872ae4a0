import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from app.auth.email import send_email_change_link
from app.auth.reverify import confirm_current_password
from app.auth.sessions import sign_out, signed_in_user, start_session
from app.avatars import AvatarSource
from app.clients import record_security_event
from app.email import link_base, run_in_background
from app.errors.handlers import http_error
from app.extensions import config_limit, db, limiter
from app.models import (
    USERNAME_RESERVATION,
    SecurityEvent,
    SecurityEventKind,
    UserSession,
    delete_account,
    normalize_email,
)
from app.settings.export import account_data_json
from app.settings.forms import (
    AvatarSourceForm,
    AvatarUploadForm,
    ChangeEmailForm,
    ChangePasswordForm,
    DeleteAccountForm,
    ProfileForm,
    too_large,
)
from app.uploads import accepts_upload

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


def avatar_page(
    source_form: AvatarSourceForm | None = None,
    upload_form: AvatarUploadForm | None = None,
    status: int = 200,
):
    user = current_user._get_current_object()
    page = render_template(
        "settings/avatar.html",
        title="Avatar",
        source_form=source_form or AvatarSourceForm(user, formdata=None),
        upload_form=upload_form or AvatarUploadForm(formdata=None),
    )
    return page, status


@bp.route("/settings/avatar", methods=["GET", "POST"])
@accepts_upload("AVATAR_MAX_BYTES")
@limiter.limit(config_limit("AVATAR_UPLOAD_RATE_LIMIT"), methods=["POST"], key_func=signed_in_user)
def avatar():
    form = AvatarUploadForm()
    if form.validate_on_submit():
        if not current_user.use_picture(form.picture):
            abort(404)  # the account was deleted while its picture was processed
        db.session.commit()
        flash("Your new picture is your avatar now.", "success")
        return redirect(url_for("settings.avatar"))
    return avatar_page(upload_form=form, status=400 if form.errors else 200)


@bp.errorhandler(RequestEntityTooLarge)
def request_too_large(error: RequestEntityTooLarge):
    """Only the avatar page takes a file: its form says what went wrong, not a bare 413."""
    if request.endpoint not in {"settings.avatar", "settings.avatar_too_large"}:
        return http_error(error)
    if not current_user.is_authenticated:  # raised before the login check could run
        return current_app.login_manager.unauthorized()
    form = AvatarUploadForm(formdata=None)
    form.avatar.errors = [too_large(form.max_bytes)]
    return avatar_page(upload_form=form, status=413)


@bp.get("/settings/avatar/too-large")
def avatar_too_large():
    """Where nginx sends an upload over its own limit (deploy/nginx-microblog.conf.template)."""
    raise RequestEntityTooLarge()


@bp.post("/settings/avatar/source")
def avatar_source():
    user = current_user._get_current_object()
    form = AvatarSourceForm(user)
    if not form.validate_on_submit():
        return avatar_page(source_form=form, status=400)
    if user.choose_avatar(AvatarSource(form.source.data)):
        db.session.commit()
        flash("Your avatar has been changed.", "success")
    else:
        flash("Your picture was deleted meanwhile: there is no picture to show.", "warning")
    return redirect(url_for("settings.avatar"))


@bp.post("/settings/avatar/remove")
def remove_avatar_picture():
    if current_user.remove_picture():
        db.session.commit()
        flash("Your picture has been deleted.", "success")
    else:
        flash("You have no uploaded picture.", "info")
    return redirect(url_for("settings.avatar"))


@bp.route("/settings/password", methods=["GET", "POST"])
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit() and confirm_current_password(form.current_password):
        user = current_user._get_current_object()
        remembered = user.current_session.remembered
        user.set_password(form.password.data)  # ends every session, this one too
        record_security_event(user.id, SecurityEventKind.PASSWORD_CHANGED)
        # This browser stays signed in under a new key: a copy of its old cookies, perhaps
        # the reason for the change, dies with the other sessions.
        start_session(user, remember=remembered)
        db.session.commit()
        flash("Your password has been changed. Other sessions were logged out.", "success")
        return redirect(url_for("settings.password"))
    return render_template("settings/password.html", title="Password", form=form)


@bp.route("/settings/email", methods=["GET", "POST"])
@limiter.limit(config_limit("EMAIL_CHANGE_RATE_LIMIT"), methods=["POST"], key_func=signed_in_user)
def email():
    form = ChangeEmailForm()
    if form.validate_on_submit() and confirm_current_password(form.current_password):
        new_address = normalize_email(form.email.data)
        if new_address == current_user.email:
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


@bp.get("/settings/sessions")
def sessions():
    return render_template(
        "settings/sessions.html",
        title="Sessions",
        user_sessions=UserSession.live_for(current_user.id),
        this_session_id=current_user.current_session.id,
        events=SecurityEvent.recent_for(current_user.id),
    )


@bp.post("/settings/sessions/<id:session_id>/end")
def end_session(session_id: int):
    # Another account's session is as unknown here as one that does not exist.
    user_session = db.first_or_404(
        sa.select(UserSession).where(
            UserSession.id == session_id, UserSession.user_id == current_user.id
        )
    )
    if user_session.id == current_user.current_session.id:
        flash("This is the session you are using: log out to end it.", "warning")
        return redirect(url_for("settings.sessions"))
    user_session.end()
    record_security_event(current_user.id, SecurityEventKind.SESSION_ENDED)
    db.session.commit()
    flash("That session has been ended: its device is signed out.", "success")
    return redirect(url_for("settings.sessions"))


@bp.post("/settings/sessions/end-others")
def end_other_sessions():
    user = current_user._get_current_object()
    ended = UserSession.end_all_for(user.id, keep=user.current_session)
    record_security_event(user.id, SecurityEventKind.OTHER_SESSIONS_ENDED)
    db.session.commit()
    if ended:
        flash("Every other session has been ended: only this device is signed in.", "success")
    else:
        flash("There were no other sessions: only this device is signed in.", "info")
    return redirect(url_for("settings.sessions"))


# Far more than anyone blocks or mutes by hand; the lists stop there rather than page.
PROTECTION_LIST_MAX = 500


@bp.get("/settings/blocked")
def blocked():
    return render_template(
        "settings/blocked.html",
        title="Blocked and muted",
        blocked=db.session.scalars(current_user.blocked_newest_first().limit(PROTECTION_LIST_MAX)),
        muted=db.session.scalars(current_user.muted_newest_first().limit(PROTECTION_LIST_MAX)),
    )


@bp.get("/settings/export")
def export():
    return render_template("settings/export.html", title="Export your data")


@bp.get("/settings/export/microblog.json")
def export_download():
    user = current_user._get_current_object()
    response = current_app.response_class(
        stream_with_context(account_data_json(user)), mimetype="application/json"
    )
    # Usernames are letters, digits, "_", "." and "-": nothing to quote in the header.
    response.headers["Content-Disposition"] = f"attachment; filename=microblog-{user.username}.json"
    return response


@bp.route("/settings/delete", methods=["GET", "POST"])
def delete():
    user = current_user._get_current_object()
    form = DeleteAccountForm(user)
    if form.validate_on_submit() and confirm_current_password(form.current_password):
        # Signed out first so that the event sign_out records is deleted with the rest.
        sign_out(user)
        delete_account(user)
        db.session.commit()
        flash("Your account and everything in it have been deleted. Goodbye.", "success")
        return redirect(url_for("main.index"))
    return render_template(
        "settings/delete.html",
        title="Delete your account",
        form=form,
        reserved_days=USERNAME_RESERVATION.days,
    )


# Where these pages lived before there was a settings area; 308 keeps a form's POST a POST.
@bp.route("/edit_profile", methods=["GET", "POST"], defaults={"page": "settings.profile"})
@bp.route("/auth/change_password", methods=["GET", "POST"], defaults={"page": "settings.password"})
def moved(page: str):
    return redirect(url_for(page), 308)
