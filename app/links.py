"""Links a page repeats for every row, built once per request rather than once per row.

A feed page links every post, author and avatar: url_for() for each costs more than the rest
of the card. ``fast_url_for(endpoint, name=value)`` gives exactly what ``url_for`` gives for
an endpoint with one variable: the first call in a request builds the URL once with url_for,
around a placeholder, and later calls put the value in the placeholder's place. Only values
that url_for writes as they are (letters, digits, ``_ . -``: every username, avatar key and
row id) take that path; anything else goes to url_for itself, so quoting stays url_for's job.
"""

import re

from flask import Flask, g, url_for

# Characters that url_for leaves unquoted in a path segment, and that no converter changes.
VERBATIM = re.compile(r"[A-Za-z0-9_.-]+")
# A value every converter used here accepts (a string, or a row id within INTEGER's range),
# unlike anything in a real URL of this app.
PLACEHOLDER_TEXT = "Zq9placeholder9qZ"
PLACEHOLDER_NUMBER = 2147483519


def _pattern(endpoint: str, name: str, number: bool) -> tuple[str, str] | None:
    """The text before and after the variable in this request's URL for ``endpoint``."""
    placeholder = PLACEHOLDER_NUMBER if number else PLACEHOLDER_TEXT
    try:
        url = url_for(endpoint, **{name: placeholder})
    except ValueError:  # text for a number converter: url_for converts it, every time
        return None
    marker = str(placeholder)
    if url.count(marker) != 1:  # a prefix that happens to contain it: no shortcut
        return None
    before, after = url.split(marker)
    return before, after


def fast_url_for(endpoint: str, **values: object) -> str:
    """``url_for(endpoint, **values)`` for one variable, at a dictionary lookup's cost."""
    if len(values) != 1:
        return url_for(endpoint, **values)
    ((name, value),) = values.items()
    number = type(value) is int
    text = str(value) if number else value
    if not isinstance(text, str) or not VERBATIM.fullmatch(text):
        return url_for(endpoint, **values)
    patterns = g.setdefault("_fast_url_patterns", {})
    key = (endpoint, name, number)
    if key not in patterns:
        patterns[key] = _pattern(endpoint, name, number)
    pattern = patterns[key]
    if pattern is None:
        return url_for(endpoint, **values)
    return f"{pattern[0]}{text}{pattern[1]}"


def init_app(app: Flask) -> None:
    app.add_template_global(fast_url_for)
