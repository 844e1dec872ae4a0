"""``flask users``: roles and suspensions from the command line (the first admin is made here)."""

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.extensions import db
from app.models import Moderation, NotAllowed, Role, User, lift_ended_suspensions

users_cli = AppGroup("users", help="List accounts, give roles, lift ended suspensions.")


@users_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([role.value for role in Role]))
def set_role(username: str, role: str) -> None:
    """Give USERNAME the ROLE (recorded in the audit log as done from the command line)."""
    user = User.find(username)
    if user is None or "@" in username:
        raise click.UsageError(f"There is no account named {username!r}.")
    try:
        changed = Moderation(by=None).set_role(user, Role(role))
    except NotAllowed as refusal:  # pragma: no cover (the command line may do everything)
        raise click.UsageError(str(refusal)) from refusal
    db.session.commit()
    click.echo(f"{user.username} is {'now' if changed else 'already'} {role}.")


@users_cli.command("list")
@click.option("--role", type=click.Choice([role.value for role in Role]), help="Only this role.")
@click.option("--suspended", is_flag=True, help="Only suspended accounts.")
def list_users(role: str | None, suspended: bool) -> None:
    """List accounts, newest first: username, role, email and standing."""
    stmt = sa.select(User).order_by(User.id.desc())
    if role is not None:
        stmt = stmt.where(User.role == Role(role))
    if suspended:
        stmt = stmt.where(User.suspended_at.is_not(None))
    for user in db.session.scalars(stmt):
        standing = "suspended" if user.is_suspended else "active"
        click.echo(f"{user.username}\t{user.role}\t{user.email}\t{standing}")


@users_cli.command("lift-suspensions")
def lift_suspensions() -> None:
    """Lift the suspensions whose end has passed (their posts come back). Run it from a timer
    (deploy/microblog-lift-suspensions.timer); a suspended user signing in after the end
    lifts their own."""
    lifted = lift_ended_suspensions()
    db.session.commit()
    click.echo(f"Lifted {len(lifted)} suspension{'s' if len(lifted) != 1 else ''}.")
