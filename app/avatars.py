"""Avatars: Gravatar's, or an identicon drawn here (no third-party request, works offline)."""

import hashlib
from urllib.parse import urlencode

from flask import current_app, url_for

GRID = 5  # cells per side; the left half is mirrored, as faces and logos are
CELL = 10  # SVG units per cell
PADDING = 5


def email_digest(email: str) -> str:
    # SHA-256 rather than MD5: Gravatar accepts both, and an MD5 of an address is easy to
    # reverse with a list of known addresses.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def avatar_url(email: str, size: int) -> str:
    digest = email_digest(email)
    if current_app.config["AVATAR_PROVIDER"] == "identicon":
        return url_for("profile.identicon", digest=digest)
    query = urlencode({"d": "identicon", "s": size})
    return f"https://www.gravatar.com/avatar/{digest}?{query}"


def identicon_svg(digest: str) -> str:
    """A symmetric 5x5 pattern in one colour, both taken from the hex digest."""
    value = int(digest, 16)
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
