"""Where a ``next`` parameter may send a user: only to a path on this site; and the one address
of a page asked for under another spelling."""

from urllib.parse import urlencode

from flask import redirect, request
from werkzeug.wrappers import Response


def safe_next_path(target: str | None) -> str | None:
    """``target`` if it is a same-site path such as ``/user/ann?page=2``, else None.

    Checking only for an empty host is not enough: browsers read ``/\\evil.example`` and
    ``http:evil.example`` as other sites, and drop tabs and newlines before parsing. A string
    that starts with one ``/`` and holds no backslash or control character has neither scheme
    nor host, however a browser parses it.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    return target


def moved_to(canonical: str) -> Response:
    """A permanent redirect to ``canonical``, the request's arguments (a page and its cursor)
    kept as they came."""
    query = urlencode(list(request.args.items(multi=True)))
    return redirect(f"{canonical}?{query}" if query else canonical, 301)


def back_to_next_or(default: str) -> Response:
    """A redirect to the form's ``next`` path when it is safe, else to ``default``."""
    return redirect(safe_next_path(request.form.get("next")) or default)
