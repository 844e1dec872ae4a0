"""Creating posts from forms that may arrive more than once (resubmitted, retried, raced)."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Post, User


def publish_once(
    author: User, body: str, submission_key: str, reply_to: Post | None = None
) -> tuple[Post, bool]:
    """Publish and commit ``body`` (answering ``reply_to``, if given) unless a form with this
    key already did; True if new.

    Commits, unlike model methods: whether this submission is the first is only settled when
    the unique index on (author, key) accepts or refuses the row. The earlier post comes back
    with False.
    """
    earlier = author.post_submitted_with(submission_key)
    if earlier is not None:
        return earlier, False
    post = author.publish(body, submission_key=submission_key, reply_to=reply_to)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # A concurrent submission of the same form committed between the lookup and the
        # insert. Rolling back undoes this one whole, its posts_count increment included.
        db.session.rollback()
        earlier = author.post_submitted_with(submission_key)
        if earlier is None:
            raise  # another constraint refused the row: not a repeat, a real error
        return earlier, False
    return post, True
