"""The notifications page: newest first, the likes of one post on one line, read on opening."""

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, render_template
from flask_login import current_user

from app.extensions import ROW_ID_MAX, db
from app.models import Notification, NotificationKind
from app.pagination import Page, per_page, requested_page


@dataclass
class Item:
    """One line of the page: the newest notification of its group, and how many it stands
    for (the likes of one post are one group while they share their read state)."""

    notification: Notification
    count: int
    unread: bool  # as it was when the page was opened

    @property
    def others(self) -> int:
        return self.count - 1


def grouped(user_id: int) -> sa.Select:
    """A reader's notifications, one row per group, newest group first."""
    group = sa.case(
        (Notification.kind == NotificationKind.LIKE, Notification.post_id),
        else_=Notification.id,
    )
    groups = (
        sa.select(
            sa.func.max(Notification.id).label("newest"),
            # People, not rows: a like taken back and given again after reading is one person.
            sa.func.count(sa.distinct(Notification.actor_id)).label("count"),
        )
        .where(Notification.user_id == user_id)
        .group_by(Notification.kind, Notification.read, group)
        .subquery()
    )
    return (
        sa.select(Notification, groups.c.count)
        .join(groups, groups.c.newest == Notification.id)
        .order_by(Notification.id.desc())
        .options(so.joinedload(Notification.actor), so.joinedload(Notification.post))
    )


def notifications_page() -> str:
    """The page of a reader's notifications; opening it marks them all read (the lines keep
    their unread mark this once)."""
    size, number = per_page(), requested_page()
    if (number - 1) * size > ROW_ID_MAX:  # past any list there can be (and any OFFSET)
        abort(404)
    stmt = grouped(current_user.id).offset((number - 1) * size).limit(size + 1)
    rows = db.session.execute(stmt).all()
    if number > 1 and not rows:
        abort(404)
    has_older = len(rows) > size
    items = [Item(notice, count, not notice.read) for notice, count in rows[:size]]
    pages = number + 1 if has_older else number
    page = Page(items, number, pages, has_newer=number > 1, has_older=has_older)
    if current_user.unread_notifications:
        Notification.mark_all_read(current_user.id)  # the badge on this page reads 0 already
    # Drawn before the commit, which would expire the rows the page shows.
    html = render_template("conversations/notifications.html", title="Notifications", page=page)
    db.session.commit()
    return html
