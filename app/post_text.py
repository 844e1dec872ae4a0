"""A post's plain-text body as HTML: escaped whole, with its web links and mentions linked.

Bodies are stored as the author typed them, so whatever HTML they hold is text to show, never
markup to trust: every character is escaped, and the only markup added is the links made here
(and, on a search's results, the marks around the words searched for).
URLs are found by linkify-it-py (markdown-it's linkifier, ported) rather than a regex of our
own: where a URL ends before trailing punctuation is its call. Only ``http://`` and
``https://`` links count; a bare ``example.com`` or ``mailto:`` address stays text, as does
anything whose scheme a browser would run (``javascript:``), since no other scheme is linked.

A mention is ``@`` and a possible username, and is linked only when the caller has found the
account: ``mentioned_usernames`` says which names to look up, ``render_body`` takes the result.

A hashtag is ``#`` and a run of letters of any script (with their combining marks), digits and
``_``, not all digits nor all marks and underscores, not after such a character (``C#``,
``issue#12``) and not inside a link; it always links to its tag's page, since every post's
tags are stored with it.
"""

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

import regex
from linkify_it import LinkifyIt
from markupsafe import Markup

from app.links import fast_url_for
from app.models import TAG_MAX_LENGTH, USERNAME_MAX_LENGTH, USERNAME_MIN_LENGTH, USERNAME_PATTERN
from app.search_query import highlighted

# How much of a URL a link shows (without its scheme and "www."), so one long address cannot
# stretch a card; the whole URL is in the link's title.
LINK_TEXT_MAX_LENGTH = 30

# Schemed web links only: no guessing at "example.com" or "ann@example.com", which are as often
# a file name or a typo as a link, and none of linkify-it's other schemes (ftp:, mailto:, //).
_linkify = LinkifyIt(
    schemas={"ftp:": None, "mailto:": None, "//": None},
    options={"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False},
)
_WEB_SCHEME = re.compile(r"https?://", re.IGNORECASE)
_SHOWN_PREFIX = re.compile(r"https?://(?:www\.)?", re.IGNORECASE)

# USERNAME_PATTERN is one character class, repeated: that class is a username's character.
_NAME_CHARACTER = USERNAME_PATTERN.removeprefix("^").removesuffix("+\\Z")
if not re.fullmatch(r"\[[^\[\]]+\]", _NAME_CHARACTER):  # its shape changed: so must this
    raise RuntimeError(f"USERNAME_PATTERN is no longer one character class: {USERNAME_PATTERN}")
# A hashtag's characters: letters of any script with their marks, digits and "_".
_TAG_CHARACTER = r"[\p{L}\p{M}\p{Nd}_]"
_TAG_WORD = regex.compile(rf"{_TAG_CHARACTER}+")
_LETTER_OR_DIGIT = regex.compile(r"[\p{L}\p{N}]")
# "@" and a run of name characters, unless the "@" follows one (ann@example.com is an address);
# "#" and a run of tag characters, unless the "#" follows one of those or a "&" or "#".
_MENTION_OR_TAG = regex.compile(
    rf"(?<!{_NAME_CHARACTER})@(?P<mention>{_NAME_CHARACTER}+)"
    rf"|(?<![&#]|{_TAG_CHARACTER})#(?P<tag>{_TAG_CHARACTER}+)"
)
# Ends a sentence, or dashes it, more often than it ends a name: "thanks @ann."
_SENTENCE_PUNCTUATION = ".-"

_LINK = Markup('<a href="{url}" rel="nofollow noopener ugc" title="{url}">{text}</a>')
_TAG_LINK = Markup('<a class="hashtag" href="{url}">#{name}</a>')
_MENTION_LINK = Markup(
    '<span class="user-popup-anchor"><a class="user_popup" href="{profile}"'
    ' data-popup-url="{popup}">@{name}</a></span>'
)


class _Piece(NamedTuple):
    """A stretch of a body: text to show as it is, a link's URL, a mentioned name or a tag."""

    kind: str  # "text", "link", "mention" or "tag"
    value: str
    raw: str  # the body's own characters


def _links(body: str) -> Iterator[tuple[int, int, str]]:
    """Start, end and URL of each web link in ``body``, in order."""
    for match in _linkify.match(body) or ():
        if _WEB_SCHEME.match(match.url):  # only these are configured; a scheme is never assumed
            yield match.index, match.last_index, match.url


def _mentions_and_tags(body: str, start: int, end: int) -> Iterator[_Piece]:
    """``body[start:end]`` as text, mentions and tags.

    The pattern looks behind ``start`` (a mention's "@" must not follow a name character even
    when a link ends there) but never past ``end``, so a name stops where a link starts.
    """
    position = start
    for match in _MENTION_OR_TAG.finditer(body, start, end):
        if match["mention"] is not None:
            name = match["mention"].rstrip(_SENTENCE_PUNCTUATION)
            if not USERNAME_MIN_LENGTH <= len(name) <= USERNAME_MAX_LENGTH:
                continue
            piece = _Piece("mention", name, f"@{name}")
        else:
            name = match["tag"]
            if not is_tag_name(name):
                continue
            piece = _Piece("tag", name, f"#{name}")
        if match.start() > position:
            text = body[position : match.start()]
            yield _Piece("text", text, text)
        yield piece
        position = match.start() + len(piece.raw)
    if end > position:
        text = body[position:end]
        yield _Piece("text", text, text)


def _pieces(body: str) -> Iterator[_Piece]:
    """``body`` cut into text, links, mentions and tags, in order; their raw text is the body."""
    position = 0
    for start, end, url in _links(body):
        yield from _mentions_and_tags(body, position, start)
        yield _Piece("link", url, body[start:end])
        position = end
    yield from _mentions_and_tags(body, position, len(body))


def mentioned_usernames(body: str) -> list[str]:
    """The names ``body`` mentions, as written, first appearance first, once each in any case.

    What the caller looks up before ``render_body``: usernames are unique whatever their case,
    so ``@Ann`` and ``@ann`` are one account and one lookup.
    """
    seen: dict[str, str] = {}
    for piece in _pieces(body):
        if piece.kind == "mention":
            seen.setdefault(piece.value.lower(), piece.value)
    return list(seen.values())


def tag_key(name: str) -> str:
    """What makes tags one: ``#Flask``, ``#flask`` and ``#FLASK`` are one tag, as are
    ``#Straße`` and ``#STRASSE``, and a ``café`` typed with a combining accent is ``café``."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def is_tag_name(name: str) -> bool:
    """Whether a run of tag characters is a tag: a letter or digit in it but not only digits,
    and short enough, as written and as its key (folding case can lengthen a word: ß is ss)."""
    return (
        _LETTER_OR_DIGIT.search(name) is not None
        and not name.isdigit()
        and len(name) <= TAG_MAX_LENGTH
        and len(tag_key(name)) <= TAG_MAX_LENGTH
    )


def is_hashtag(word: str) -> bool:
    """Whether ``#word`` is a whole tag (what a tag page's address may name)."""
    return hashtags(f"#{word}") == {tag_key(word): word}


def tag_key_prefix(text: str) -> str | None:
    """What the keys of tags beginning with ``text`` (``#`` optional) begin with; None when
    no tag can begin so."""
    word = text.removeprefix("#")
    if not _TAG_WORD.fullmatch(word) or len(word) > TAG_MAX_LENGTH:
        return None
    return tag_key(word)


def hashtags(body: str) -> dict[str, str]:
    """The tags ``body`` carries: each tag's key, and the tag as first written there."""
    tags: dict[str, str] = {}
    for piece in _pieces(body):
        if piece.kind == "tag":
            tags.setdefault(tag_key(piece.value), piece.value)
    return tags


def _link_text(url: str) -> str:
    """What a link shows: the URL without its scheme or "www.", shortened when long.

    The scheme says nothing a reader needs, and a card has room for about this much.
    """
    text = _SHOWN_PREFIX.sub("", url, count=1) or url
    if len(text) > LINK_TEXT_MAX_LENGTH:
        return f"{text[:LINK_TEXT_MAX_LENGTH]}…"
    return text


def render_body(
    body: str,
    mentions: Mapping[str, str],
    url_for: Callable[..., str] = fast_url_for,
    highlight: regex.Pattern | None = None,
) -> Markup:
    """``body`` as HTML: all of it escaped, its web links, tags and known mentions made links,
    and what ``highlight`` finds (a search's words) marked in its text, tags and mentions.

    ``mentions`` maps each lower-cased name of ``mentioned_usernames(body)`` that is an account
    to the account's username as stored; other mentions stay text, so a name that is nobody's
    does not lead to a page that is not found. ``url_for(endpoint, **values)`` builds the
    profile and tag URLs: paths on this site by default (needs a request context); a feed,
    read away from the site, passes one that builds absolute URLs.
    """
    html = []
    for piece in _pieces(body):
        if piece.kind == "link":
            html.append(_LINK.format(url=piece.value, text=_link_text(piece.value)))
        elif piece.kind == "mention" and piece.value.lower() in mentions:
            username = mentions[piece.value.lower()]
            html.append(
                _MENTION_LINK.format(
                    profile=url_for("profile.user", username=username),
                    popup=url_for("profile.popup", username=username),
                    name=highlighted(piece.value, highlight),
                )
            )
        elif piece.kind == "tag":
            url = url_for("tags.tag", word=tag_key(piece.value))
            html.append(_TAG_LINK.format(url=url, name=highlighted(piece.value, highlight)))
        else:
            html.append(highlighted(piece.raw, highlight))
    return Markup("").join(html)
