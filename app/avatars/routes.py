"""The avatars the app serves itself: identicons, and the pictures users uploaded.

Both are pure functions of their URL (a random key; a picture's digest and size), so browsers
and proxies keep them for good, and neither is a page: no user is loaded for them, and their
own policy forbids everything a page may do, in case a browser ever treats one as a document.
"""

import re

from flask import Blueprint, Response, abort, current_app, request

from app.avatars import AVATAR_KEY_LENGTH, identicon_svg
from app.avatars.pictures import DIGEST_LENGTH, PICTURE_SIZES, PICTURE_TYPE
from app.models import AvatarPicture
from app.transactions import without_transaction

bp = Blueprint("avatars", __name__)

AVATAR_KEY = re.compile(rf"[0-9a-f]{{{AVATAR_KEY_LENGTH}}}")
SIZE_NAMES = "|".join(map(str, PICTURE_SIZES))  # each size one way: no "064"
PICTURE_NAME = re.compile(rf"(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})-(?P<pixels>{SIZE_NAMES})")
# No script, style, frame or plugin: an image shown in a page needs none of it, and a file
# opened on its own gets none either. Set here, it replaces the pages' policy (app.security).
IMAGE_POLICY = "default-src 'none'; sandbox"


def kept_for_good(response: Response) -> Response:
    response.cache_control.public = True
    response.cache_control.max_age = 365 * 24 * 3600
    response.cache_control.immutable = True
    response.headers["Content-Security-Policy"] = IMAGE_POLICY
    return response


@bp.get("/avatar/<key>.svg")
def identicon(key: str):
    if not AVATAR_KEY.fullmatch(key):
        abort(404)
    return kept_for_good(current_app.response_class(identicon_svg(key), mimetype="image/svg+xml"))


@bp.get("/avatar/<name>.webp")
@without_transaction
def picture(name: str):
    """One size of an uploaded picture, named ``<digest>-<pixels>``: a new picture is a new
    name, and a deleted one is gone (404)."""
    match = PICTURE_NAME.fullmatch(name)
    if match is None:
        abort(404)
    content = AvatarPicture.content_of(match["digest"], int(match["pixels"]))
    if content is None:
        abort(404)
    response = current_app.response_class(content, mimetype=PICTURE_TYPE)
    response.set_etag(name)
    return kept_for_good(response.make_conditional(request))
