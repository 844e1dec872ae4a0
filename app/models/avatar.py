"""Uploaded avatars as served: a few small WebP files per user, kept in the database so that
every app host serves them without a shared disk."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.avatars.pictures import DIGEST_LENGTH, PICTURE_SIZES, Picture
from app.extensions import db
from app.models.clock import utcnow


class AvatarPicture(db.Model):
    """One size of a user's uploaded picture. A user has one picture at a time: its sizes
    share a digest, the name its URLs carry (``User.avatar_digest``)."""

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    pixels: so.Mapped[int] = so.mapped_column(primary_key=True)
    digest: so.Mapped[str] = so.mapped_column(sa.String(DIGEST_LENGTH))
    content: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (sa.Index("ix_avatar_picture_digest_pixels", digest, pixels),)

    @classmethod
    def content_of(cls, digest: str, pixels: int) -> bytes | None:
        """The picture's bytes at that size. Two users who uploaded the same picture hold the
        same bytes under the same digest: either row will do."""
        stmt = sa.select(cls.content).where(cls.digest == digest, cls.pixels == pixels).limit(1)
        return db.session.scalar(stmt)

    @classmethod
    def replace(cls, user_id: int, picture: Picture | None) -> None:
        """The user's picture becomes ``picture`` (None: they have none), in the caller's
        transaction, which must hold the user's row."""
        db.session.execute(sa.delete(cls).where(cls.user_id == user_id))
        if picture is not None:
            db.session.add_all(
                cls(user_id=user_id, pixels=pixels, digest=picture.digest, content=content)
                for pixels, content in picture.sizes.items()
            )

    @classmethod
    def largest_of(cls, user_id: int) -> "AvatarPicture | None":
        stmt = sa.select(cls).where(cls.user_id == user_id, cls.pixels == PICTURE_SIZES[-1])
        return db.session.scalar(stmt)
