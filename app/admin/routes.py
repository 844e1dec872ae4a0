"""The admin area: moderators' and admins' dashboard, report queue, accounts and audit log.

Everyone else gets a 404 for every address here, as if it did not exist. Each action is a
``Moderation`` method, which checks the actor's permission for it (app/models/roles.py): a
moderator asking for an admin's action gets a 403 saying why.
"""

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, flash, render_template, request, url_for
from flask_login import current_user

from app.admin.forms import HidePostForm, RoleForm, SuspendForm
from app.extensions import db
from app.models import (
    Moderation,
    ModerationAction,
    Permission,
    Post,
    Report,
    Role,
    SiteCount,
    User,
)
from app.models.moderation import (
    audit_log,
    count_of,
    daily_activity,
    find_accounts,
    open_reports_count,
    open_targets_count,
    report_queue,
)
from app.pagination import Page, number_or_404, page_count, paginate, per_page
from app.profile.routes import user_or_404
from app.redirects import back_to_next_or

bp = Blueprint("admin", __name__, url_prefix="/admin")

DASHBOARD_DAYS = 30


def may_moderate() -> bool:
    return current_user.is_authenticated and current_user.can(Permission.MODERATE)


@bp.before_request
def moderators_only() -> None:
    if not may_moderate():
        abort(404)


@bp.app_context_processor
def admin_links() -> dict[str, object]:
    return {"may_moderate": may_moderate, "Permission": Permission}


def moderation() -> Moderation:
    return Moderation(by=current_user)


@bp.get("/")
def dashboard():
    return render_template(
        "admin/dashboard.html",
        title="Dashboard",
        users=db.session.scalar(sa.select(sa.func.count()).select_from(User)),
        posts=SiteCount.of(SiteCount.POSTS),
        open_reports=open_reports_count(),
        days=daily_activity(DASHBOARD_DAYS),
    )


@bp.get("/reports")
def reports():
    total = open_targets_count()
    number = number_or_404(total)
    items = report_queue((number - 1) * per_page(), per_page())
    pages = page_count(total)
    pagination = Page(items, number, pages, has_newer=number > 1, has_older=number < pages)
    return render_template(
        "admin/reports.html",
        title="Reports",
        pagination=pagination,
        total=total,
        hide_form=HidePostForm(formdata=None),
        suspend_form=SuspendForm(formdata=None),
    )


@bp.get("/users")
def users():
    query = request.args.get("q", "", type=str)[:254]
    accounts = find_accounts(query)
    pagination = paginate(accounts, count_of(accounts))
    return render_template("admin/users.html", title="Users", pagination=pagination, query=query)


@bp.get("/users/<username>")
def user(username: str):
    account = user_or_404(username)
    role_form = RoleForm(formdata=None, role=account.role.value)
    actions = db.session.scalars(
        audit_log().where(ModerationAction.target_user_id == account.id).limit(20)
    ).all()
    reports = db.session.scalars(
        sa.select(Report)
        .where(Report.user_id == account.id)
        .options(so.joinedload(Report.reporter, innerjoin=True))
        .order_by(Report.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "admin/user.html",
        title=f"Account {account.username}",
        account=account,
        role_form=role_form,
        suspend_form=SuspendForm(formdata=None),
        actions=actions,
        reports=reports,
    )


@bp.get("/audit")
def audit():
    stmt = audit_log()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ModerationAction))
    return render_template("admin/audit.html", title="Audit log", pagination=paginate(stmt, total))


# Actions --------------------------------------------------------------------------------


def post_or_404(post_id: int) -> Post:
    return db.first_or_404(
        sa.select(Post).where(Post.id == post_id).options(so.joinedload(Post.author))
    )


def outcome(changed: bool, done: str, unchanged: str, back: str):
    """Commit and say what was done; or say why nothing was (there is nothing to commit).
    The messages are written before the commit: once it is made, what they name may be
    deleted in parallel, and reading it again would fail although the change was saved."""
    if changed:
        db.session.commit()
        flash(done, "success")
    else:
        flash(unchanged, "info")
    return back_to_next_or(back)


def refused(form, back: str):
    """A form with errors: each said in a flash, back where it was sent from."""
    for field in form:
        for error in field.errors:
            flash(f"{field.label.text}: {error}", "danger")
    return back_to_next_or(back)


@bp.post("/posts/<id:post_id>/hide")
def hide_post(post_id: int):
    post = post_or_404(post_id)
    form = HidePostForm()
    back = url_for("main.post", post_id=post.id)
    if not form.validate_on_submit():
        return refused(form, back)
    return outcome(
        moderation().hide_post(post, form.reason.data),
        f"The post by {post.author.username} is hidden.",
        "That post was hidden already.",
        back,
    )


@bp.post("/posts/<id:post_id>/restore")
def restore_post(post_id: int):
    post = post_or_404(post_id)
    return outcome(
        moderation().restore_post(post),
        f"The post by {post.author.username} is restored.",
        "That post was not hidden by a moderator.",
        url_for("main.post", post_id=post.id),
    )


@bp.post("/reports/<id:report_id>/dismiss")
def dismiss_report(report_id: int):
    report = db.get_or_404(Report, report_id)
    dismissed = moderation().dismiss_reports(report)
    return outcome(
        dismissed > 0,
        f"Dismissed {dismissed} report{'s' if dismissed != 1 else ''}.",
        "Those reports were handled already.",
        url_for("admin.reports"),
    )


@bp.post("/users/<username>/suspend")
def suspend(username: str):
    account = user_or_404(username)
    form = SuspendForm()
    back = url_for("admin.user", username=account.username)
    if not form.validate_on_submit():
        return refused(form, back)
    moderation().suspend(account, form.reason.data, form.days.data)
    done = f"{account.username} is suspended."  # before the commit, as in outcome
    db.session.commit()
    flash(done, "success")
    return back_to_next_or(back)


@bp.post("/users/<username>/unsuspend")
def unsuspend(username: str):
    account = user_or_404(username)
    return outcome(
        moderation().unsuspend(account),
        f"{account.username}’s suspension is lifted.",
        f"{account.username} is not suspended.",
        url_for("admin.user", username=account.username),
    )


@bp.post("/users/<username>/remove-picture")
def remove_picture(username: str):
    account = user_or_404(username)
    return outcome(
        moderation().remove_picture(account, request.form.get("digest")),
        f"{account.username}’s picture is deleted.",
        f"{account.username} has no uploaded picture, or another since you looked.",
        url_for("admin.user", username=account.username),
    )


@bp.post("/users/<username>/role")
def set_role(username: str):
    account = user_or_404(username)
    form = RoleForm()
    back = url_for("admin.user", username=account.username)
    if not form.validate_on_submit():
        return refused(form, back)
    return outcome(
        moderation().set_role(account, Role(form.role.data)),
        f"{account.username} is now {form.role.data}.",
        f"{account.username} is {form.role.data} already.",
        back,
    )
