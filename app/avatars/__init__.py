"""Avatars: an identicon drawn here from a random per-user key, a picture the user uploaded
(see app.avatars.pictures), or Gravatar's if the user chose it.

The app's own avatars reveal nothing about anyone: their URL carries a random key or the
digest of the picture itself, never something derived from the email address.
"""

import enum
import functools
import hashlib
import secrets

from flask import current_app

from app.avatars.pictures import PICTURE_SIZES
from app.links import fast_url_for

GRID = 5  # cells per side; the left half is mirrored, as faces and logos are
CELL = 10  # SVG units per cell
PADDING = 5
AVATAR_KEY_LENGTH = 32  # hex digits: 128 random bits
GRAVATAR_ORIGIN = "https://www.gravatar.com"


class AvatarSource(enum.StrEnum):
    GENERATED = "generated"
    GRAVATAR = "gravatar"
    UPLOADED = "uploaded"


def new_avatar_key() -> str:
    return secrets.token_hex(AVATAR_KEY_LENGTH // 2)


def gravatar_enabled() -> bool:
    return current_app.config["GRAVATAR_ENABLED"]


def avatar_url(*, source: str, key: str, email: str, digest: str | None, size: int) -> str:
    """The avatar's URL, from the user row's own columns (no query per avatar)."""
    if source == AvatarSource.UPLOADED and digest is not None:
        return picture_url(digest, size)
    if source == AvatarSource.GRAVATAR and gravatar_enabled():
        # Only for users who chose Gravatar, knowing that its URL carries a hash of their
        # address that anyone can match against addresses they know.
        return f"{gravatar_base(email)}?d=identicon&s={int(size)}"
    return fast_url_for("avatars.identicon", key=key)


def picture_url(digest: str, size: int) -> str:
    """An uploaded picture's URL, at the stored size that covers ``size`` pixels."""
    return fast_url_for("avatars.picture", name=f"{digest}-{picture_size(size)}")


def picture_size(size: int) -> int:
    """The smallest stored size of an uploaded picture that covers ``size`` pixels."""
    return next((pixels for pixels in PICTURE_SIZES if pixels >= size), PICTURE_SIZES[-1])


@functools.lru_cache(maxsize=1024)
def gravatar_base(email: str) -> str:
    """Gravatar's address for this email, hashed once however many times a page shows it."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"{GRAVATAR_ORIGIN}/avatar/{digest}"


def identicon_svg(key: str) -> str:
    """A symmetric 5x5 pattern in one colour, both taken from the hex key."""
    value = int(key, 16)
    hue = value % 360
    colour = f"hsl({hue} 55% 50%)"
    cells = []
    columns = (GRID + 1) // 2
    for index in range(GRID * columns):
        if not (value >> (index + 9)) & 1:
            continue
        row, column = divmod(index, columns)
        for x in {column, GRID - 1 - column}:
            cells.append(
                f'<rect x="{PADDING + x * CELL}" y="{PADDING + row * CELL}" '
                f'width="{CELL}" height="{CELL}"/>'
            )
    side = GRID * CELL + 2 * PADDING
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" role="img">'
        f'<rect width="{side}" height="{side}" fill="hsl({hue} 40% 94%)"/>'
        f'<g fill="{colour}">{"".join(cells)}</g></svg>'
    )
