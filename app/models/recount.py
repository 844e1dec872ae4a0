"""Recounting every stored count from the rows it counts."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.counters import SiteCount
from app.models.post import Post, PostLike
from app.models.tag import PostTag, Tag
from app.models.user import User


def recount() -> None:
    """Set every stored count from the rows it counts: after bulk inserts, or to check."""
    User.recount()
    reply = so.aliased(Post)
    replies = sa.select(sa.func.count()).where(reply.reply_to_id == Post.id, reply.shown())
    likes = sa.select(sa.func.count()).where(PostLike.post_id == Post.id)
    db.session.execute(
        sa.update(Post).values(
            replies_count=replies.correlate(Post).scalar_subquery(),
            likes_count=likes.scalar_subquery(),
        )
    )
    tagged = sa.select(sa.func.count()).where(PostTag.tag_id == Tag.id)
    db.session.execute(sa.update(Tag).values(posts_count=tagged.scalar_subquery()))
    db.session.execute(
        sa.update(SiteCount)
        .where(SiteCount.name == SiteCount.POSTS)
        .values(value=sa.select(sa.func.count()).where(Post.shown()).scalar_subquery())
    )
