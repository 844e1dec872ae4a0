"""Reading what was typed in a search box, and writing it out for each database."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.search_query import MAX_WORD_LENGTH, MAX_WORDS, SearchQuery, Term, highlighted


@pytest.mark.parametrize(
    ("typed", "alternatives"),
    [
        ("flask  python", ((Term("flask"), Term("python")),)),
        ('"hello world" again', ((Term("hello world"), Term("again")),)),
        ('"unterminated phrase', ((Term("unterminated phrase"),),)),
        ("flask -django", ((Term("flask"), Term("django", excluded=True)),)),
        ('flask -"bad phrase"', ((Term("flask"), Term("bad phrase", excluded=True)),)),
        ("tea OR coffee or", ((Term("tea"),), (Term("coffee"),))),
        ("or or tea", ((Term("tea"),),)),
        ("-django", ()),  # only what to leave out: nothing to look for
        ("tea or -coffee", ((Term("tea"),),)),
        ("<b> &amp; http://", ((Term("b"), Term("amp"), Term("http")),)),  # words only
        ("* ( ) : ^ - \"\" ' ", ()),  # no letter nor digit anywhere
        ("<b> -foo", ((Term("b"), Term("foo", excluded=True)),)),
        ("NEAR(a b) AND NOT c:d", (
            (Term("NEAR a"), Term("b"), Term("AND"), Term("NOT"), Term("c d")),
        )),
        ("a\0b\tc\n", ((Term("a"), Term("b"), Term("c")),)),
        ("well-known e-mail 3.5", ((Term("well known"), Term("e mail"), Term("3 5")),)),
        ("日本語 हिन्दी", ((Term("日本語"), Term("हिन्दी")),)),
    ],
)  # fmt: skip
def test_what_a_query_asks_for(typed, alternatives):
    assert SearchQuery.parse(typed).alternatives == alternatives


def test_only_the_first_words_count_phrases_words_included():
    query = SearchQuery.parse(" ".join(f"w{n}" for n in range(MAX_WORDS + 5)))
    assert [term.text for term in query.alternatives[0]] == [f"w{n}" for n in range(MAX_WORDS)]
    assert query.shortened
    phrase = SearchQuery.parse('x "' + "a " * 480 + '"')
    assert phrase.alternatives == ((Term("x"), Term(" ".join(["a"] * (MAX_WORDS - 1)))),)
    assert phrase.shortened
    assert not SearchQuery.parse("a b").shortened


def test_a_word_longer_than_any_post_finds_nothing_and_leaves_nothing_out():
    long = "中" * (MAX_WORD_LENGTH + 1)
    assert SearchQuery.parse(f"tea {long}").alternatives == ()
    assert SearchQuery.parse(f"{long} or tea").alternatives == ((Term("tea"),),)
    assert SearchQuery.parse(f"tea -{long}").alternatives == ((Term("tea"),),)


def test_each_database_gets_every_term_quoted():
    query = SearchQuery.parse('tea "green tea" -milk or NEAR(coffee)')
    assert query.fts5() == '(("tea" AND "green tea") NOT "milk") OR (("NEAR coffee"))'
    assert query.websearch() == '"tea" "green tea" -"milk" or "NEAR coffee"'


@given(st.text(max_size=300))
@example('"a" "b')
@example('-"\0')
def test_no_typed_text_gets_out_of_its_quotes(typed):
    query = SearchQuery.parse(typed)
    for terms in query.alternatives:
        assert any(not term.excluded for term in terms)
        for term in terms:
            assert '"' not in term.text and "\0" not in term.text and term.text.strip()
    # Outside the terms' quotes there are only the operators written here.
    outside = query.fts5().split('"')[::2]
    assert all(set(part) <= set("() ANDORT") for part in outside)
    assert all(set(part) <= set(" -or") for part in query.websearch().split('"')[::2])


def test_highlighting_marks_whole_words_in_any_case_and_escapes_the_rest():
    highlighter = SearchQuery.parse('Flask "BIG deal" -php').highlighter
    text = "<b>flask</b> Flasks FLASK big-deal php"
    assert str(highlighted(text, highlighter)) == (
        "&lt;b&gt;<mark>flask</mark>&lt;/b&gt; Flasks <mark>FLASK</mark> "
        "<mark>big</mark>-<mark>deal</mark> php"
    )


def test_highlighting_knows_other_scripts_and_case_folding():
    highlighter = SearchQuery.parse("straße हिन्दी").highlighter
    assert str(highlighted("STRASSE हिन्दी हिन्दीभाषा", highlighter)) == (
        "<mark>STRASSE</mark> <mark>हिन्दी</mark> हिन्दीभाषा"
    )


def test_nothing_to_find_highlights_nothing():
    assert SearchQuery.parse("-php").highlighter is None
    assert str(highlighted("<i>", None)) == "&lt;i&gt;"
