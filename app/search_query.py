"""What the words in a search box mean, read once and written out for each database.

People type what a web search engine takes: words (a post must have all of them), "a phrase
in quotes", ``or`` between alternatives, and ``-word`` for posts without that word. PostgreSQL
reads that syntax itself (``websearch_to_tsquery``); SQLite's FTS5 has a query language of its
own, in which ``*``, ``NEAR``, ``:``, a parenthesis or an unmatched quote is an operator or a
syntax error. So what was typed is parsed here, and each database is given a query in which
every term is one quoted string of words (letters and digits; everything else parts words, as
both indexes part them): whatever was typed, the database sees only words to match.

Both databases then read the query alike: an ``or`` parts alternatives, each needing all of
its own terms; an alternative with only ``-word`` terms is left out (it would mean "every post
but these", which no index serves), as is one needing a word longer than any post; and only
the first ``MAX_WORDS`` words count, phrases' words included, so no query makes the index
merge hundreds of lists.
"""

from dataclasses import dataclass
from functools import cached_property

import regex
from markupsafe import Markup, escape

# Words the query may hold in all, phrases' words included: each is one more list of posts
# for the index to read.
MAX_WORDS = 12
# No post holds a longer word (PostgreSQL would leave it out of the query, SQLite find nothing).
MAX_WORD_LENGTH = 280
# A term counts only if it holds a word: "*" or "(" alone matches nothing.
# A word: letters of any script with their marks, and digits. Each database splits text at
# everything else, so a term is given to it as its words alone ("e-mail" as "e mail").
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
# A phrase in quotes (to the closing quote or the end), else a run without spaces or quotes.
_CHUNK = regex.compile(r'(?P<minus>-?)(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')
_OR = "or"


@dataclass(frozen=True)
class Term:
    """A word, or a phrase of words in a row, that a post must (or, ``excluded``, must not)
    hold. ``text`` is its words, parted by single spaces."""

    text: str
    excluded: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """The query as typed (``text``) and what it asks for: posts matching any of
    ``alternatives``, each a tuple of terms that must all hold."""

    text: str
    alternatives: tuple[tuple[Term, ...], ...]
    # Words past MAX_WORDS were left out.
    shortened: bool = False

    @classmethod
    def parse(cls, text: str) -> "SearchQuery":
        # PostgreSQL takes no NUL in text, and whitespace of any kind parts words.
        text = " ".join(text.replace("\0", " ").split())
        alternatives: list[list[Term]] = [[]]
        impossible: set[int] = set()  # alternatives needing a word no post has
        words_left = MAX_WORDS
        shortened = False
        for match in _CHUNK.finditer(text):
            phrase = match["phrase"]
            if phrase is None and not match["minus"] and match["word"].lower() == _OR:
                alternatives.append([])
                continue
            words = _WORD.findall(phrase if phrase is not None else match["word"])
            if any(len(word) > MAX_WORD_LENGTH for word in words):
                if not match["minus"]:
                    impossible.add(len(alternatives) - 1)
                continue
            if len(words) > words_left:
                shortened, words = True, words[:words_left]
            if not words:
                continue
            words_left -= len(words)
            alternatives[-1].append(Term(" ".join(words), excluded=bool(match["minus"])))
        return cls(
            text,
            tuple(
                tuple(terms)
                for number, terms in enumerate(alternatives)
                if any(not term.excluded for term in terms) and number not in impossible
            ),
            shortened,
        )

    def __bool__(self) -> bool:
        return bool(self.alternatives)

    def fts5(self) -> str:
        """The query in SQLite FTS5's syntax, every term a string ("" is a quote in one)."""

        def alternative(terms: tuple[Term, ...]) -> str:
            wanted = " AND ".join(f'"{term.text}"' for term in terms if not term.excluded)
            unwanted = "".join(f' NOT "{term.text}"' for term in terms if term.excluded)
            return f"({wanted}){unwanted}"

        return " OR ".join(f"({alternative(terms)})" for terms in self.alternatives)

    def websearch(self) -> str:
        """The query as ``websearch_to_tsquery`` reads it, every term in quotes."""
        return " or ".join(
            " ".join(f'{"-" if term.excluded else ""}"{term.text}"' for term in terms)
            for terms in self.alternatives
        )

    @cached_property
    def words(self) -> tuple[str, ...]:
        """The words a match holds, longest first: what a result's text highlights."""
        found = {
            word.casefold(): word
            for terms in self.alternatives
            for term in terms
            if not term.excluded
            for word in _WORD.findall(term.text)
        }
        return tuple(sorted(found.values(), key=len, reverse=True))

    @cached_property
    def highlighter(self) -> regex.Pattern | None:
        """Finds the query's words, whole and in any case, in a text."""
        if not self.words:
            return None
        choices = "|".join(regex.escape(word) for word in self.words)
        return regex.compile(
            rf"(?<![\p{{L}}\p{{M}}\p{{N}}])(?:{choices})(?![\p{{L}}\p{{M}}\p{{N}}])",
            regex.IGNORECASE | regex.FULLCASE,
        )


def highlighted(text: str, highlighter: regex.Pattern | None) -> Markup:
    """``text`` escaped, with what ``highlighter`` finds in it marked."""
    if highlighter is None:
        return escape(text)
    html = []
    position = 0
    for match in highlighter.finditer(text):
        html.append(escape(text[position : match.start()]))
        html.append(Markup("<mark>{}</mark>").format(match.group()))
        position = match.end()
    html.append(escape(text[position:]))
    return Markup("").join(html)
