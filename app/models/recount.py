"""Recounting every stored count from the rows it counts."""

import sqlalchemy as sa

from app.extensions import db
from app.models.counters import SiteCount
from app.models.post import Post
from app.models.user import User


def recount() -> None:
    """Set every stored count from the rows it counts: after bulk inserts, or to check."""
    User.recount()
    db.session.execute(
        sa.update(SiteCount)
        .where(SiteCount.name == SiteCount.POSTS)
        .values(value=sa.select(sa.func.count()).select_from(Post).scalar_subquery())
    )
