"""Rules about a whole account that span every model: deleting it, and the name it leaves."""

from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.block import Block, Mute
from app.models.clock import utcnow
from app.models.counters import SiteCount
from app.models.follow import Follow
from app.models.notification import Notification, lock_users
from app.models.post import Post, PostLike
from app.models.tag import PostTag, Tag
from app.models.user import USERNAME_MAX_LENGTH, User, username_skeleton

# Long enough that followers notice the account is gone before someone else can wear its name.
USERNAME_RESERVATION = timedelta(days=30)


class ReservedUsername(db.Model):
    """The name of a deleted account, which nobody can register or rename to until ``until``,
    in any case or in a look-alike spelling (it is kept as its skeleton)."""

    skeleton: so.Mapped[str] = so.mapped_column(
        sa.String(2 * USERNAME_MAX_LENGTH), primary_key=True
    )
    until: so.Mapped[datetime] = so.mapped_column(index=True)

    @classmethod
    def reserve(cls, username: str) -> None:
        """Hold ``username`` (any case) for 30 days, and forget every reservation that expired.

        Purging as names arrive keeps the table bounded without a scheduled job.
        """
        db.session.execute(sa.delete(cls).where(cls.until <= utcnow()))
        skeleton = username_skeleton(username)
        db.session.merge(cls(skeleton=skeleton, until=utcnow() + USERNAME_RESERVATION))

    @classmethod
    def is_reserved(cls, username: str) -> bool:
        skeleton = username_skeleton(username)
        stmt = sa.select(cls.skeleton).where(cls.skeleton == skeleton, cls.until > utcnow())
        return db.session.scalar(stmt) is not None


def delete_account(user: User) -> None:
    """Delete ``user`` and everything that is theirs, in the caller's transaction.

    Posts, follows, likes, mentions, tags, notifications, security events, sessions, blocks,
    mutes, reports (theirs and about them) and uploaded avatar pictures go with the user row
    through their foreign keys' ON DELETE CASCADE; the audit log keeps its records, which name
    them as they were named.
    Replies others wrote to their posts stay, their threads showing the post was deleted. Reset
    links die because no account has the password hash they are bound to. Features that keep
    more about a user extend this function.
    """
    # The site count first, as every writer takes it (see SiteCount). Once it is held no post
    # of this user can be published or deleted elsewhere, so the count read next is final.
    SiteCount.lock(SiteCount.POSTS)
    followed_ids = sa.select(Follow.followed_id).where(Follow.follower_id == user.id)
    follower_ids = sa.select(Follow.follower_id).where(Follow.followed_id == user.id)
    screening = sa.union_all(  # whom they blocked or muted, and who blocked them
        sa.select(Block.blocked_id).where(Block.blocker_id == user.id),
        sa.select(Block.blocker_id).where(Block.blocked_id == user.id),
        sa.select(Mute.muter_id).where(Mute.muted_id == user.id),
    ).subquery()
    told = sa.select(Notification.user_id).where(
        Notification.actor_id == user.id, sa.not_(Notification.read)
    )
    # Then every user row whose counts change, and theirs, in one statement and in order of id,
    # as every other writer locks users (see lock_users): a follow or a block between the same
    # people in parallel waits for this deletion rather than deadlocks with it.
    lock_users(
        sa.union(
            sa.select(sa.literal(user.id)),
            followed_ids,
            follower_ids,
            sa.select(screening.c[0]),
            told,
        )
    )
    posts = sa.select(User.posts_count).where(User.id == user.id).scalar_subquery()
    SiteCount.add(SiteCount.POSTS, -posts)
    # One statement per kind of count, whatever the number of follows.
    db.session.execute(
        sa.update(User)
        .where(User.id.in_(followed_ids))
        .values(followers_count=User.followers_count - 1)
    )
    db.session.execute(
        sa.update(User)
        .where(User.id.in_(follower_ids))
        .values(following_count=User.following_count - 1)
    )
    # What they told others and have not been read yet goes, and the others' unread totals
    # with it; then the counts of the posts they liked and answered.
    Notification.delete_unread(Notification.actor_id == user.id)
    liked_ids = sa.select(PostLike.post_id).where(PostLike.user_id == user.id)
    db.session.execute(
        sa.update(Post).where(Post.id.in_(liked_ids)).values(likes_count=Post.likes_count - 1)
    )
    reply = so.aliased(Post)
    their_replies = (
        sa.select(sa.func.count())
        .where(reply.reply_to_id == Post.id, reply.author_id == user.id, reply.shown())
        .correlate(Post)
        .scalar_subquery()
    )
    answered_ids = sa.select(reply.reply_to_id).where(reply.author_id == user.id, reply.shown())
    db.session.execute(
        sa.update(Post)
        .where(Post.id.in_(answered_ids))
        .values(replies_count=Post.replies_count - their_replies)
    )
    their_tagged = (
        sa.select(PostTag.tag_id)
        .join(Post, Post.id == PostTag.post_id)
        .where(Post.author_id == user.id)
    )
    their_posts_tagged = (
        sa.select(sa.func.count())
        .select_from(PostTag)
        .join(Post, Post.id == PostTag.post_id)
        .where(PostTag.tag_id == Tag.id, Post.author_id == user.id)
        .correlate(Tag)
        .scalar_subquery()
    )
    db.session.execute(
        sa.update(Tag)
        .where(Tag.id.in_(their_tagged))
        .values(posts_count=Tag.posts_count - their_posts_tagged)
    )
    # Whom they blocked or muted, and who blocked them, no longer screens anyone out.
    screened_here = (
        sa.select(sa.func.count())
        .select_from(screening)
        .where(screening.c[0] == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    db.session.execute(
        sa.update(User)
        .where(User.id.in_(sa.select(screening.c[0])))
        .values(screened_count=User.screened_count - screened_here)
    )
    ReservedUsername.reserve(user.username)
    db.session.delete(user)
    db.session.flush()
