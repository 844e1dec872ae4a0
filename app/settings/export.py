"""The data an account holds, as JSON for its owner to download: one function per part.

Each part reads with a fixed number of statements and, where a part can grow without bound,
streams rows in batches, so a big account costs neither many queries nor much memory. A feature
that keeps more about a user adds its part to ``ACCOUNT_DATA_PARTS``.
"""

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app.avatars.pictures import PICTURE_TYPE
from app.extensions import db
from app.models import (
    AvatarPicture,
    Block,
    Follow,
    Mute,
    Notification,
    Post,
    PostLike,
    Report,
    User,
)

BATCH_SIZE = 500


def timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"  # stored as naive UTC


def stream(stmt: sa.Select) -> Iterator[sa.Row]:
    """The rows of ``stmt`` a batch at a time (a server-side cursor on PostgreSQL)."""
    return iter(db.session.execute(stmt.execution_options(yield_per=BATCH_SIZE)))


def profile_part(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "about_me": user.about_me,
        "member_since": timestamp(user.member_since),
        "avatar": user.avatar_source.value,
        "role": user.role.value,
        "suspension": None
        if not user.is_suspended
        else {
            "since": timestamp(user.suspended_at),
            "until": timestamp(user.suspended_until),
            "reason": user.suspension_reason,
        },
    }


def avatar_picture_part(user: User) -> dict[str, Any] | None:
    """The uploaded picture at its largest, as the site keeps it (None without one)."""
    picture = AvatarPicture.largest_of(user.id)
    if picture is None:
        return None
    return {
        "content_type": PICTURE_TYPE,
        "width": picture.pixels,
        "height": picture.pixels,
        "uploaded": timestamp(picture.created_at),
        "base64": base64.b64encode(picture.content).decode(),
    }


def posts_part(user: User) -> Iterator[dict[str, Any]]:
    stmt = (
        sa.select(
            Post.id,
            Post.body,
            Post.created_at,
            Post.edited_at,
            Post.reply_to_id,
            Post.hidden_at,
            Post.hidden_reason,
        )
        .where(Post.author_id == user.id)
        .order_by(Post.created_at, Post.id)
    )
    for post_id, body, created_at, edited_at, reply_to_id, hidden_at, reason in stream(stmt):
        yield {
            "id": post_id,
            "body": body,
            "created": timestamp(created_at),
            "edited": timestamp(edited_at),
            "reply_to": reply_to_id,
            "hidden_by_moderator": None
            if hidden_at is None
            else {"at": timestamp(hidden_at), "reason": reason},
        }


def likes_part(user: User) -> Iterator[dict[str, Any]]:
    """The posts they liked, by id (the posts of others are theirs to export)."""
    stmt = (
        sa.select(PostLike.post_id, PostLike.created_at)
        .where(PostLike.user_id == user.id)
        .order_by(PostLike.created_at, PostLike.post_id)
    )
    for post_id, liked_at in stream(stmt):
        yield {"post": post_id, "liked": timestamp(liked_at)}


def notifications_part(user: User) -> Iterator[dict[str, Any]]:
    stmt = (
        sa.select(Notification.kind, User.username, Notification.post_id, Notification.created_at)
        .join(User, User.id == Notification.actor_id)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id)
    )
    for kind, actor, post_id, created_at in stream(stmt):
        yield {"kind": kind.value, "by": actor, "post": post_id, "at": timestamp(created_at)}


def people_part(relation: type[Follow] | type[Block] | type[Mute], by: sa.Column, of: sa.Column):
    """The part listing the people a row of ``relation`` links to the user: the rows whose
    ``by`` is the user, each naming the person in ``of``, oldest first."""

    def part(user: User) -> Iterator[dict[str, Any]]:
        stmt = (
            sa.select(User.username, relation.created_at)
            .join(relation, of == User.id)
            .where(by == user.id)
            .order_by(relation.created_at, User.id)
        )
        for username, since in stream(stmt):
            yield {"username": username, "since": timestamp(since)}

    return part


def reports_part(user: User) -> Iterator[dict[str, Any]]:
    """The reports they sent (what moderators decided is theirs to say)."""
    stmt = (
        sa.select(Report.post_id, User.username, Report.reason, Report.note, Report.created_at)
        .join(User, User.id == Report.user_id)
        .where(Report.reporter_id == user.id)
        .order_by(Report.id)
    )
    for post_id, username, reason, note, created_at in stream(stmt):
        yield {
            "account": username,
            "post": post_id,
            "reason": reason.value,
            "note": note,
            "sent": timestamp(created_at),
        }


ACCOUNT_DATA_PARTS: dict[
    str, Callable[[User], dict[str, Any] | Iterable[dict[str, Any]] | None]
] = {
    "profile": profile_part,
    "avatar_picture": avatar_picture_part,
    "posts": posts_part,
    "following": people_part(Follow, Follow.follower_id, Follow.followed_id),
    "followers": people_part(Follow, Follow.followed_id, Follow.follower_id),
    "likes": likes_part,
    "notifications": notifications_part,
    "blocked": people_part(Block, Block.blocker_id, Block.blocked_id),
    "muted": people_part(Mute, Mute.muter_id, Mute.muted_id),
    "reports": reports_part,
}


def account_data_json(user: User) -> Iterator[str]:
    """The whole document, a piece at a time: lists are written item by item as rows arrive."""
    yield "{"
    for index, (name, part) in enumerate(ACCOUNT_DATA_PARTS.items()):
        yield f"{',' if index else ''}\n  {json.dumps(name)}: "
        value = part(user)
        if value is None or isinstance(value, dict):
            yield json.dumps(value, ensure_ascii=False)
            continue
        yield "["
        for position, item in enumerate(value):
            yield f"{',' if position else ''}\n    {json.dumps(item, ensure_ascii=False)}"
        yield "\n  ]"
    yield "\n}\n"
