"""Paging through lists: ``?page=`` rules shared by every list, and feeds at a fixed cost."""

import sqlalchemy as sa
from flask import abort, current_app, request
from flask_sqlalchemy.pagination import Pagination

from app.extensions import db
from app.models import Post

# OFFSET is a signed 64-bit integer in SQLite and PostgreSQL; a page beyond it cannot exist.
MAX_OFFSET = 2**63 - 1


def requested_page() -> int:
    """The ``?page=`` number; anything that is not a positive whole number means page 1."""
    page = request.args.get("page", 1, type=int)
    return max(page, 1)


def paginate(stmt: sa.Select) -> Pagination:
    """One page of ``stmt``'s rows, ``POSTS_PER_PAGE`` long; 404 past the last page."""
    per_page = current_app.config["POSTS_PER_PAGE"]
    page = requested_page()
    if (page - 1) * per_page > MAX_OFFSET:
        abort(404)
    pagination = db.paginate(stmt, page=page, per_page=per_page, max_per_page=None, error_out=False)
    if page > 1 and not pagination.items:
        abort(404)
    return pagination


def paginate_posts(posts: sa.Select[tuple[Post]]) -> Pagination:
    """One page of ``posts`` (a feed query) with their authors loaded.

    The page is chosen on post ids alone (a "deferred join"), so the database walks an index
    rather than joining the author of every skipped row; the page's posts and their authors
    are then loaded in one statement.
    """
    pagination = paginate(posts.with_only_columns(Post.id))
    pagination.items = Post.with_authors(pagination.items)
    return pagination
