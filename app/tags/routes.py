"""Tag pages: the posts carrying a hashtag, newest first."""

from flask import Blueprint, abort, render_template, url_for

from app.models import Tag
from app.models.feed import tagged
from app.pagination import paginate_posts
from app.post_text import is_hashtag, tag_key
from app.redirects import moved_to
from app.transactions import without_transaction

bp = Blueprint("tags", __name__)


def tag_or_404(word: str) -> Tag:
    # A word no tag can be is not looked up (PostgreSQL refuses NUL bytes outright).
    tag = Tag.named(word) if is_hashtag(word) else None
    if tag is None or tag.posts_count < 1:
        abort(404)
    return tag


@bp.get("/tag/<word>")
@without_transaction
def tag(word: str):
    tag = tag_or_404(word)
    if word != tag_key(word):  # one address per tag, whatever case was typed
        return moved_to(url_for("tags.tag", word=tag.key))
    pagination = paginate_posts(tagged(tag), tag.posts_count)
    return render_template("tags/tag.html", title=f"#{tag.name}", tag=tag, pagination=pagination)
