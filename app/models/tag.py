"""Hashtags: the tags a post carries, stored when it is written or edited, never parsed at
read time, and each tag's stored count of posts."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.counters import add_to_count
from app.models.post import Post

# Longer tags are text (app/post_text.py), as written and as their key (the case-folded tag).
TAG_MAX_LENGTH = 50


class Tag(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # As first written (#Flask); ``key`` is what makes tags one (flask).
    name: so.Mapped[str] = so.mapped_column(sa.String(TAG_MAX_LENGTH))
    key: so.Mapped[str] = so.mapped_column(sa.String(TAG_MAX_LENGTH), unique=True)
    posts_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<Tag #{self.name}>"

    @classmethod
    def named(cls, word: str) -> "Tag | None":
        """The tag ``word`` names, in any case."""
        from app.post_text import tag_key

        return db.session.scalar(sa.select(cls).where(cls.key == tag_key(word)))


class PostTag(db.Model):
    """A post carrying a tag; the key (tag, post) serves a tag's posts, newest first."""

    __tablename__ = "post_tag"

    tag_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    tag: so.Mapped[Tag] = so.relationship()
    post: so.Mapped[Post] = so.relationship()


def tags_of(post: Post) -> dict[str, Tag]:
    """The tags ``post`` carries now, by key."""
    stmt = sa.select(Tag).join(PostTag, PostTag.tag_id == Tag.id).where(PostTag.post_id == post.id)
    return {tag.key: tag for tag in db.session.scalars(stmt)}


def retag(post: Post, body: str, before: dict[str, Tag]) -> None:
    """Give ``post`` the tags of ``body`` (it carried ``before``): new tags made, rows added
    and removed, counts moved, all at the next flush.

    The caller holds the site's post count (SiteCount), as every writer of posts does, and
    read ``before`` since: tag rows are then made and counted by one writer at a time, and
    a new tag cannot be made twice.
    """
    from app.post_text import hashtags

    after = hashtags(body)
    known = {}
    if after.keys() - before.keys():
        stmt = sa.select(Tag).where(Tag.key.in_(after.keys() - before.keys()))
        known = {tag.key: tag for tag in db.session.scalars(stmt)}
    for key, written in after.items():
        if key in before:
            continue
        tag = known.get(key)
        if tag is None:
            tag = Tag(name=written, key=key, posts_count=1)
            db.session.add(tag)
        else:
            add_to_count(tag, "posts_count", 1)
        db.session.add(PostTag(post=post, tag=tag))
    removed = [tag for key, tag in before.items() if key not in after]
    for tag in removed:
        add_to_count(tag, "posts_count", -1)
    if removed:
        db.session.execute(
            sa.delete(PostTag).where(
                PostTag.post_id == post.id, PostTag.tag_id.in_([tag.id for tag in removed])
            )
        )


def untag(post: Post) -> None:
    """Take a post that is about to be deleted off its tags' counts (its rows go with it)."""
    for tag in tags_of(post).values():
        add_to_count(tag, "posts_count", -1)
