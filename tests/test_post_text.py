"""Post bodies as HTML: escaped whole, web links and known mentions linked, nothing else."""

import pytest
from flask import url_for
from markupsafe import Markup, escape

from app.post_text import mentioned_usernames, render_body

ACCOUNTS = {"ann": "Ann", "bob": "bob"}  # lower-cased name -> stored username


def link(href: str, text: str) -> str:
    """The markup of a link; ``href`` and ``text`` as they appear in HTML (already escaped)."""
    return f'<a href="{href}" rel="nofollow noopener ugc" title="{href}">{text}</a>'


def mention(stored: str, written: str) -> str:
    return (
        f'<span class="user-popup-anchor"><a class="user_popup" href="/user/{stored}"'
        f' data-popup-url="/user/{stored}/popup">@{written}</a></span>'
    )


@pytest.fixture
def render(app):
    def render(body: str, mentions: dict[str, str] | None = None) -> str:
        with app.test_request_context("/"):
            html = render_body(body, ACCOUNTS if mentions is None else mentions)
        assert isinstance(html, Markup)
        return str(html)

    return render


def test_plain_text_is_escaped(render):
    body = "<script>alert(\"hi\")</script> & 'quotes'"
    assert render(body) == (
        "&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt; &amp; &#39;quotes&#39;"
    )


def test_stored_html_is_text_never_markup(render):
    body = '<a href="javascript:alert(1)">click</a> <b>bold</b>'
    assert render(body) == (
        "&lt;a href=&#34;javascript:alert(1)&#34;&gt;click&lt;/a&gt; &lt;b&gt;bold&lt;/b&gt;"
    )


def test_empty_body(render):
    assert render("") == ""
    assert mentioned_usernames("") == []


def test_rendered_body_is_not_escaped_again():
    html = render_body("a & b", {})
    assert escape(html) == "a &amp; b"


def test_http_and_https_urls_are_linked(render):
    body = "see http://example.com and https://example.org/a/b?c=1 now"
    assert render(body) == (
        'see <a href="http://example.com" rel="nofollow noopener ugc" title="http://example.com">'
        "example.com</a> and "
        '<a href="https://example.org/a/b?c=1" rel="nofollow noopener ugc"'
        ' title="https://example.org/a/b?c=1">example.org/a/b?c=1</a> now'
    )


def test_link_text_drops_www_and_keeps_the_scheme_in_the_href(render):
    assert render("https://www.example.com/x") == link("https://www.example.com/x", "example.com/x")


def test_scheme_in_capitals_is_linked_as_written(render):
    assert render("HTTPS://WWW.Example.COM/Path") == link(
        "HTTPS://WWW.Example.COM/Path", "Example.COM/Path"
    )


def test_long_url_is_shortened_in_the_text_only(render):
    url = "https://www.example.com/2024/05/a-rather-long-article-title"
    assert render(url) == link(url, "example.com/2024/05/a-rather-l…")


def test_url_of_exactly_the_limit_is_not_shortened(render):
    url = "https://" + "a" * 26 + ".com"  # 30 characters without the scheme
    assert render(url) == link(url, "a" * 26 + ".com")
    longer = "https://" + "a" * 27 + ".com"
    assert render(longer) == link(longer, "a" * 27 + ".co…")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("read https://example.com.", "read " + link("https://example.com", "example.com") + "."),
        ("(https://example.com)", "(" + link("https://example.com", "example.com") + ")"),
        ("https://example.com/a, b", link("https://example.com/a", "example.com/a") + ", b"),
        ("https://example.com/a!", link("https://example.com/a", "example.com/a") + "!"),
        ("https://example.com/a?", link("https://example.com/a", "example.com/a") + "?"),
        ("https://example.com/a;", link("https://example.com/a", "example.com/a") + ";"),
        # linkify-it's own reading: a "?" that does not end the text starts a query
        ("https://example.com/a?!", link("https://example.com/a?", "example.com/a?") + "!"),
        (
            "(see https://w.org/Foo_(bar))",
            "(see " + link("https://w.org/Foo_(bar)", "w.org/Foo_(bar)") + ")",
        ),
    ],
)
def test_trailing_punctuation_is_not_part_of_the_link(render, body, expected):
    assert render(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "javascript:alert(1)",
        "mailto:x@y.z",
        "x@y.com",
        "example.com",
        "www.example.com",
        "ftp://x.y",
        "//example.com/path",
        "data:text/html,<script>alert(1)</script>",
        "http://",
        "xhttps://example.com",  # a scheme inside a word
    ],
)
def test_other_schemes_and_schemeless_addresses_are_text(render, body):
    assert render(body) == str(escape(body))


def test_quote_and_ampersand_in_a_url_are_escaped_in_href_title_and_text(render):
    body = 'https://example.com/?q="a"&b=1'
    href = "https://example.com/?q=&#34;a&#34;&amp;b=1"
    assert render(body) == link(href, "example.com/?q=&#34;a&#34;&amp;b=1")


def test_angle_bracket_ends_a_url(render):
    assert render("https://example.com/a<script>") == (
        link("https://example.com/a", "example.com/a") + "&lt;script&gt;"
    )
    assert render("<https://example.com>") == (
        "&lt;" + link("https://example.com", "example.com") + "&gt;"
    )


def test_apostrophe_in_a_url_is_escaped(render):
    assert render("https://example.com/it's") == link(
        "https://example.com/it&#39;s", "example.com/it&#39;s"
    )


def test_shortening_cuts_the_text_before_escaping_it(render):
    url = "https://example.com/" + "&" * 20
    # 30 characters of text are cut, then escaped: no entity is cut in half.
    assert render(url) == link(
        "https://example.com/" + "&amp;" * 20, "example.com/" + "&amp;" * 18 + "…"
    )


def test_unicode_text_around_links(render):
    body = "Café ☕ → https://example.com/café ✓ 日本"
    assert render(body) == (
        "Café ☕ → " + link("https://example.com/café", "example.com/café") + " ✓ 日本"
    )


def test_newlines_are_kept(render):
    body = "first line\nhttps://example.com\n\n@ann <3"
    assert render(body) == (
        "first line\n"
        + link("https://example.com", "example.com")
        + "\n\n"
        + mention("Ann", "ann")
        + " &lt;3"
    )


def test_known_mention_links_the_stored_username(render):
    assert render("hi @ANN!") == (
        'hi <span class="user-popup-anchor"><a class="user_popup" href="/user/Ann"'
        ' data-popup-url="/user/Ann/popup">@ANN</a></span>!'
    )


def test_mention_links_follow_the_script_root(app):
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/blog"}):
        html = render_body("@bob", ACCOUNTS)
    assert html == (
        '<span class="user-popup-anchor"><a class="user_popup" href="/blog/user/bob"'
        ' data-popup-url="/blog/user/bob/popup">@bob</a></span>'
    )


def test_mention_links_come_from_the_url_builder_given(app):
    def absolute(endpoint: str, **values: str) -> str:
        return url_for(endpoint, _external=True, **values)

    with app.test_request_context("/", base_url="https://example.com"):
        html = render_body("@bob <b> #Flask", ACCOUNTS, absolute)
    assert html == (
        '<span class="user-popup-anchor"><a class="user_popup" href="https://example.com/user/bob"'
        ' data-popup-url="https://example.com/user/bob/popup">@bob</a></span> &lt;b&gt; '
        '<a class="hashtag" href="https://example.com/tag/flask">#Flask</a>'
    )


def test_unknown_mention_is_text(render):
    assert render("hi @carol & @ann") == "hi @carol &amp; " + mention("Ann", "ann")
    assert render("hi @ann", {}) == "hi @ann"


def test_address_is_no_mention(render):
    assert mentioned_usernames("mail ann@example.com") == []
    assert render("mail ann@example.com") == "mail ann@example.com"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("@ann.", mention("Ann", "ann") + "."),
        ("(@ann)", "(" + mention("Ann", "ann") + ")"),
        ("hi @ann, hello", "hi " + mention("Ann", "ann") + ", hello"),
        ("@ann-", mention("Ann", "ann") + "-"),
        ("@ann...", mention("Ann", "ann") + "..."),
        ("@ann.-.", mention("Ann", "ann") + ".-."),
        ("@ann: hi", mention("Ann", "ann") + ": hi"),
        ("«@ann»", "«" + mention("Ann", "ann") + "»"),
        ("@@ann", "@" + mention("Ann", "ann")),
    ],
)
def test_punctuation_around_a_mention(render, body, expected):
    assert mentioned_usernames(body) == ["ann"]
    assert render(body) == expected


def test_names_with_inner_dots_and_dashes(render):
    accounts = {"a.b-c_d": "a.b-c_d"}
    assert mentioned_usernames("@a.b-c_d.") == ["a.b-c_d"]
    assert render("@a.b-c_d.", accounts) == mention("a.b-c_d", "a.b-c_d") + "."


@pytest.mark.parametrize(
    "body",
    [
        "@ab",  # too short
        "@ab.",  # too short without its full stop
        "@a.-",
        "@",
        "@ ann",
        "@@",
        "x@ann",
        "_@ann",
        ".@ann",
        "@" + "a" * 33,  # too long: not cut to 32 either
        "@ännä",  # not a username's characters
    ],
)
def test_no_mention(render, body):
    assert mentioned_usernames(body) == []
    assert render(body, {"ann": "ann", "a" * 32: "a" * 32, "ab": "ab"}) == str(escape(body))


def test_longest_name_is_a_mention(render):
    name = "a" * 32
    assert mentioned_usernames(f"@{name}.") == [name]
    assert render(f"@{name}.", {name: name}) == mention(name, name) + "."


def test_mentions_in_order_once_each_whatever_their_case():
    body = "@bob @Ann and @ann, @BOB, @carol @ANN"
    assert mentioned_usernames(body) == ["bob", "Ann", "carol"]


def test_every_spelling_of_a_mention_is_linked(render):
    assert render("@ann @ANN") == mention("Ann", "ann") + " " + mention("Ann", "ANN")


def test_at_sign_in_a_link_is_no_mention(render):
    body = "https://example.com/@ann"
    assert mentioned_usernames(body) == []
    assert render(body) == link("https://example.com/@ann", "example.com/@ann")


def test_mention_and_link_side_by_side(render):
    body = "@ann https://example.com/@bob @bob"
    assert mentioned_usernames(body) == ["ann", "bob"]
    assert render(body) == (
        mention("Ann", "ann")
        + " "
        + link("https://example.com/@bob", "example.com/@bob")
        + " "
        + mention("bob", "bob")
    )


def test_a_name_stops_where_a_link_starts(render):
    body = "@ann.https://example.com"
    assert mentioned_usernames(body) == ["ann"]
    assert render(body) == mention("Ann", "ann") + "." + link("https://example.com", "example.com")
