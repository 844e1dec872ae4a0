"""A post's thread: the chain of posts it answers, the post, a reply form and its replies."""

from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, render_template
from flask_login import current_user

from app.extensions import db, signed_in_reader
from app.forms import NewPostForm
from app.models import Post
from app.models.block import screened_authors
from app.models.feed import card_options
from app.pagination import Page, paginate

# The posts shown above the one asked for; a longer chain links to its earlier part.
CHAIN_LENGTH = 5


def viewer_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def screened_out() -> sa.ColumnElement[bool] | None:
    """Whether a post is by an account the reader screens out (muted, blocked either way), as
    in their feeds; None for readers who screen out nobody."""
    if not current_user.is_authenticated or not current_user.screened_count:
        return None
    return Post.author_id.in_(screened_authors(sa.literal(current_user.id)))


def screened(stmt: sa.Select) -> sa.Select:
    """``stmt``'s posts without those of the accounts the reader screens out."""
    out = screened_out()
    return stmt if out is None else stmt.where(~out)


def post_or_404(post_id: int) -> Post:
    """The post with what its card shows (its author, counts, the reader's like), if the
    reader may see it: a hidden post is there for its author and moderators only, and a
    post is not there for those its author blocked."""
    stmt = sa.select(Post).where(Post.id == post_id).options(*card_options())
    post = db.first_or_404(stmt.params(viewer_id=viewer_id()))
    if not post.visible_to(signed_in_reader()):
        abort(404)
    return post


class ChainPost(NamedTuple):
    post: Post
    shown_here: bool  # else the page says why not in its place: hidden, or screened out
    openable: bool  # the reader may open its page all the same (see Post.visible_to)


@dataclass
class Chain:
    """The posts above a post, oldest first: one the reader does not see keeps its place, so
    the chain has no gap. ``earlier`` is the post to open for the rest of a longer chain, and
    ``deleted_above`` says the oldest one answers a deleted post."""

    posts: list[ChainPost]
    earlier: int | None
    deleted_above: bool


def chain_above(post: Post) -> Chain:
    """Up to CHAIN_LENGTH posts that ``post`` answers, one recursive statement."""
    if post.reply_to_id is None:
        return Chain([], None, deleted_above=False)
    answered = so.aliased(Post)
    chain = (
        sa.select(Post.id, Post.reply_to_id, sa.literal(1).label("depth"))
        .where(Post.id == post.reply_to_id)
        .cte("chain", recursive=True)
    )
    chain = chain.union_all(
        sa.select(answered.id, answered.reply_to_id, chain.c.depth + 1).where(
            answered.id == chain.c.reply_to_id, chain.c.depth <= CHAIN_LENGTH
        )
    )
    out = screened_out()
    shown_here = Post.shown() if out is None else sa.and_(Post.shown(), ~out)
    stmt = (
        sa.select(Post, shown_here, Post.visible_to_condition(signed_in_reader()))
        .where(Post.id.in_(sa.select(chain.c.id)))
        .order_by(Post.id)
        .options(*card_options())
    )
    posts = [ChainPost(*row) for row in db.session.execute(stmt, {"viewer_id": viewer_id()})]
    if len(posts) > CHAIN_LENGTH:  # one more than is shown: there is an earlier part
        # The oldest the reader may open: its page shows the ones above it.
        earlier = next((above.post.id for above in posts if above.openable), None)
        return Chain(posts[1:], earlier, deleted_above=False)
    top = posts[0].post if posts else post
    return Chain(posts, None, deleted_above=top.reply_to_id is not None)


def replies_to(post: Post) -> Page[Post]:
    """The post's replies, oldest first, a page at a time (``?page=``)."""
    stmt = screened(
        sa.select(Post)
        .where(Post.reply_to_id == post.id, Post.shown())
        .order_by(Post.id)
        .options(*card_options())
        .params(viewer_id=viewer_id())
    )
    if current_user.is_authenticated and current_user.screened_count:
        # Fewer than the stored count: the replies the reader sees, counted (few, and read
        # only by readers who screen someone out).
        total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    else:
        total = post.replies_count
    return paginate(stmt, total)


def reply_form() -> NewPostForm:
    form = NewPostForm()
    form.body.label.text = "Your reply"
    form.submit.label.text = "Reply"
    return form


def render_thread(post: Post, form: NewPostForm | None = None) -> str:
    """The thread page of ``post``; ``form`` is a reply form sent back with its errors."""
    author = post.author
    is_following = current_user.is_authenticated and current_user.is_following(author)
    if form is None and current_user.is_authenticated:
        form = reply_form()
    return render_template(
        "main/post.html",
        title=f"Post by {author.username}",
        post=post,
        chain=chain_above(post),
        replies=replies_to(post),
        form=form,
        is_following=is_following,
    )
