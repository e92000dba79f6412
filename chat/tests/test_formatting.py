"""chat.formatting: Markdown to sanitised HTML, mentions, and what hostile bodies cannot do."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chat.formatting import (
    Rendered,
    _is_plain,
    _render_markdown,
    _render_plain,
    mention_candidates,
    render,
)

MEMBERS = {"ann": 1, "bob": 2, "bob.smith": 3, "zoë": 4}
BODY_LIMIT = 4000
LINK_REL = "nofollow noopener noreferrer"

# Written out here rather than imported, so a widened allow-list in the module fails a test.
TAGS = {"p", "br", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li"}
TAGS |= {"a", "span"}
ATTRIBUTES = {"a": {"href", "rel", "target"}, "span": {"class", "data-user-id"}, "ol": {"start"}}
SCHEMES = {"http", "https", "mailto"}


class _AllowListChecker(HTMLParser):
    """Collects every way an HTML fragment steps outside the allow-list, as a browser reads it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.violations: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.violations.append(f"tag <{tag}>")
            return
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.violations.append(f"repeated attribute on <{tag}>: {names}")
        for name, value in attrs:
            if name not in ATTRIBUTES.get(tag, set()):
                self.violations.append(f"attribute {name}= on <{tag}>")
            elif not _attribute_value_allowed(tag, name, value or ""):
                self.violations.append(f"{name}={value!r} on <{tag}>")
        if tag == "a" and not {("rel", LINK_REL), ("target", "_blank")} <= set(attrs):
            self.violations.append(f"link without rel/target: {attrs}")
        if tag == "span" and ("class", "mention") not in attrs:
            self.violations.append(f"span that is not a mention: {attrs}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in TAGS:
            self.violations.append(f"end tag </{tag}>")

    def handle_comment(self, data: str) -> None:
        self.violations.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.violations.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.violations.append(f"processing instruction {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.violations.append(f"declaration {data!r}")


def _scheme(url: str) -> str | None:
    """The scheme a browser would see: it drops tabs and newlines and trims controls first."""
    url = re.sub(r"[\t\n\r]", "", url).strip("".join(map(chr, range(0x21))))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", url)
    return match.group(1).lower() if match else None


def _attribute_value_allowed(tag: str, name: str, value: str) -> bool:
    if name == "href":
        return _scheme(value) in SCHEMES
    if name == "rel":
        return value == LINK_REL
    if name == "target":
        return value == "_blank"
    if name == "class":
        return value == "mention"
    if name in ("data-user-id", "start"):
        return value.isdigit()
    return False


def assert_allowed(html: str) -> None:
    """Fail with every tag, attribute and URL scheme in `html` outside the allow-list."""
    checker = _AllowListChecker()
    checker.feed(html)
    checker.close()
    assert checker.violations == [], html


@pytest.mark.parametrize(
    "html",
    [
        "<img src=x>",
        '<a href="javascript:alert(1)" rel="nofollow noopener noreferrer" target="_blank">x</a>',
        '<a href=" jav&#x09;ascript:x" rel="nofollow noopener noreferrer" target="_blank">x</a>',
        '<a href="/relative" rel="nofollow noopener noreferrer" target="_blank">x</a>',
        '<a href="https://x.example">no rel or target</a>',
        '<p onclick="x()">x</p>',
        '<span class="mention" data-user-id="1" style="color:red">@x</span>',
        "<span>not a mention</span>",
        "<!-- comment -->",
    ],
)
def test_allow_list_check_catches_what_it_should(html):
    with pytest.raises(AssertionError):
        assert_allowed(html)


def html_of(body: str, members=MEMBERS) -> str:
    return render(body, members).html


# -- hostile vectors: OWASP XSS filter evasion cheat sheet, in Markdown and raw HTML --------

XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)//",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></math>",
    "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<a href="javascript:alert(1)">x</a>',
    "<a href=javascript:alert(1)>x</a>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<span class="mention" data-user-id="1">@forged</span>',
    "<div style=\"width: expression(alert('XSS'));\">",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<?xml-stylesheet href=x?>",
    "<META HTTP-EQUIV=refresh CONTENT=0;url=javascript:alert(1)>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<form action=javascript:alert(1)><input type=submit>",
    "<details open ontoggle=alert(1)>",
    "<base href=javascript:alert(1)//>",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<table background=javascript:alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](jav&#x0A;ascript:alert(1))",
    "[x](jav&#x0D;ascript:alert(1))",
    "[x](<java script:alert(1)>)",
    "[x](<java\tscript:alert(1)>)",
    "[x](\u0001javascript:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](%6A%61%76%61%73%63%72%69%70%74:alert(1))",
    "[x](javascript://%0Aalert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](data:image/png;base64,iVBORw0KGgo=)",
    "[x](DATA:text/html,<script>alert(1)</script>)",
    "[x](file:///etc/passwd)",
    "[x](//evil.example/)",
    "[x](/relative)",
    "[x](#fragment)",
    '[x](http://ok.example "onmouseover=alert(1)")',
    '[x](http://ok.example"onmouseover="alert(1))',
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "[x]: javascript:alert(1)\n\n[x]",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    '<http://ok.example/"onmouseover="alert(1)>',
    "javascript:alert(1)",
    "http://ok.example/<script>alert(1)</script>",
    'http://ok.example/"onmouseover="alert(1)',
    "![img](http://x.example/a.png)",
    "![img](javascript:alert(1))",
    '![x" onerror="alert(1)](http://x.example/a.png)',
    "![img][ref]\n\n[ref]: http://x.example/a.png",
    "```html\n<script>alert(1)</script>\n```",
    '```"><script>alert(1)</script>\nx\n```',
    '```js" onmouseover="alert(1)\nx\n```',
    "`<img src=x onerror=alert(1)>`",
    "**<script>alert(1)</script>**",
    "> <iframe src=javascript:alert(1)>",
    "- <svg onload=alert(1)>",
    "[<img src=x onerror=alert(1)>](http://ok.example)",
    "[![img](http://x.example/a.png)](http://ok.example)",
    "@bob<script>alert(1)</script>",
    '@bob" onmouseover="alert(1)',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "\\<script>alert(1)\\</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>alert(1)//<</script>",
    "\u0000<script>alert(1)</script>",
    "\ud800<script>alert(1)</script>",
]


@pytest.mark.parametrize("body", XSS_VECTORS)
def test_hostile_vector_renders_only_allowed_markup(body):
    html = html_of(body)

    assert_allowed(html)
    lowered = html.lower()
    for dangerous in ("<script", "<img", "<svg", "<iframe", "<style", "<math"):
        assert dangerous not in lowered


@pytest.mark.parametrize(
    "body",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html,hi)",
        "[x](vbscript:msgbox(1))",
        "[x](/relative)",
        "[x](//evil.example/)",
        "<javascript:alert(1)>",
    ],
)
def test_link_with_a_refused_scheme_is_shown_as_text(body):
    assert "<a" not in html_of(body)


def test_raw_html_shows_as_text():
    assert html_of("<b>hi</b>") == "<p>&lt;b&gt;hi&lt;/b&gt;</p>"


def test_image_syntax_renders_as_a_link_never_an_image():
    html = html_of("![cat](https://x.example/cat.png)")

    assert html == (
        '<p>!<a href="https://x.example/cat.png" target="_blank" rel="nofollow noopener '
        'noreferrer">cat</a></p>'
    )


def test_mention_markup_typed_by_a_user_is_not_a_mention():
    html = html_of('<span class="mention" data-user-id="1">@forged</span>')

    assert html == ('<p>&lt;span class="mention" data-user-id="1"&gt;@forged&lt;/span&gt;</p>')


def test_link_title_is_dropped():
    html = html_of('[x](https://ok.example "title")')

    assert html == (
        '<p><a href="https://ok.example" target="_blank" rel="nofollow noopener noreferrer">'
        "x</a></p>"
    )


# -- formatting ------------------------------------------------------------------------------


def link(href: str, text: str | None = None) -> str:
    return f'<a href="{href}" target="_blank" rel="{LINK_REL}">{text or href}</a>'


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("*em* and _em_", "<p><em>em</em> and <em>em</em></p>"),
        ("**strong** and __strong__", "<p><strong>strong</strong> and <strong>strong</strong></p>"),
        ("~~gone~~", "<p><s>gone</s></p>"),
        ("use `x < y` here", "<p>use <code>x &lt; y</code> here</p>"),
        ("> quoted\n> still", "<blockquote>\n<p>quoted<br>\nstill</p>\n</blockquote>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
        ("3. three\n4. four", '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>'),
        ("first\nsecond", "<p>first<br>\nsecond</p>"),
        ("para one\n\npara two", "<p>para one</p>\n<p>para two</p>"),
        (
            "see https://example.com/a?b=1&c=2.",
            f"<p>see {link('https://example.com/a?b=1&amp;c=2')}.</p>",
        ),
        ("HTTPS://EXAMPLE.COM", f"<p>{link('HTTPS://EXAMPLE.COM')}</p>"),
        ("[docs](https://example.com/docs)", f"<p>{link('https://example.com/docs', 'docs')}</p>"),
        (
            "[mail me](mailto:ann@example.com)",
            f"<p>{link('mailto:ann@example.com', 'mail me')}</p>",
        ),
        ("<https://example.com>", f"<p>{link('https://example.com')}</p>"),
        ("www.example.com and ann@example.com", "<p>www.example.com and ann@example.com</p>"),
        ("ftp://example.com", "<p>ftp://example.com</p>"),
        ("# not a heading", "<p># not a heading</p>"),
        ("a\n\n---", "<p>a</p>\n<p>---</p>"),
        ("&amp; &copy;", "<p>&amp; ©</p>"),
    ],
)
def test_markdown_renders(body, html):
    assert html_of(body) == html


def test_fenced_code_keeps_its_whitespace_and_drops_the_language():
    body = "```python\ndef f():\n\n    return  1\t# tab\n```"

    assert html_of(body) == "<pre><code>def f():\n\n    return  1\t# tab\n</code></pre>"


def test_markdown_inside_code_is_left_alone():
    assert html_of("```\n**not bold** [x](http://a.example)\n```") == (
        "<pre><code>**not bold** [x](http://a.example)\n</code></pre>"
    )


def test_text_is_the_body_without_markup():
    rendered = render("**hi** @bob, see [the docs](https://x.example)\n\n```\ncode\n```", MEMBERS)

    assert rendered.text == "hi @bob, see the docs\ncode"


def test_plain_body_is_its_own_text():
    assert render("just words", MEMBERS).text == "just words"


# -- mentions --------------------------------------------------------------------------------


def mention(user_id: int, typed: str) -> str:
    return f'<span class="mention" data-user-id="{user_id}">{typed}</span>'


def test_mention_of_a_member_renders_a_mention_element():
    rendered = render("hi @bob, see **this**", MEMBERS)

    assert rendered == Rendered(
        html=f"<p>hi {mention(2, '@bob')}, see <strong>this</strong></p>",
        mentions=[2],
        text="hi @bob, see this",
    )


def test_mention_of_a_non_member_stays_plain_text():
    rendered = render("hi @carol", MEMBERS)

    assert (rendered.html, rendered.mentions) == ("<p>hi @carol</p>", [])


def test_mention_matches_case_insensitively_and_shows_what_was_typed():
    rendered = render("@BoB", MEMBERS)

    assert (rendered.html, rendered.mentions) == (f"<p>{mention(2, '@BoB')}</p>", [2])


@pytest.mark.parametrize("after", [".", ",", "!", "?", ":", ";", ")", "'s", "...", "-", " "])
def test_punctuation_after_a_mention_is_not_part_of_it(after):
    rendered = render(f"thanks @bob{after}", MEMBERS)

    assert rendered.html == f"<p>thanks {mention(2, '@bob')}{after.rstrip()}</p>"
    assert rendered.mentions == [2]


def test_username_with_a_dot_is_matched_whole():
    rendered = render("@bob.smith.", MEMBERS)

    assert (rendered.html, rendered.mentions) == (f"<p>{mention(3, '@bob.smith')}.</p>", [3])


def test_longer_username_is_not_a_mention_of_its_prefix():
    assert render("@bobby @bob_ @bob.x", MEMBERS).mentions == []


def test_non_ascii_username_is_not_cut_short():
    assert render("@zoë @zo", MEMBERS).mentions == [4]


def test_email_address_is_not_a_mention():
    assert render("write to ann@bob.example or x@bob", MEMBERS).mentions == []


@pytest.mark.parametrize(
    "body", ["`@bob`", "```\n@bob\n```", "    @bob", "[@bob](https://x.example)", "\\@bob"]
)
def test_mention_inside_code_links_or_escaped_is_not_a_mention(body):
    rendered = render(body, MEMBERS)

    assert rendered.mentions == []
    assert "mention" not in rendered.html


def test_repeated_mention_counts_once_in_order_of_first_appearance():
    rendered = render("@bob then @ann, @BOB again and @ann", MEMBERS)

    assert rendered.mentions == [2, 1]
    assert rendered.html.count('class="mention"') == 4


def test_mention_inside_emphasis_and_lists():
    rendered = render("_@ann_\n\n- **@bob**", MEMBERS)

    assert rendered.mentions == [1, 2]


def test_resolver_is_asked_once_for_the_names_the_body_may_mention():
    asked = []

    def members(names):
        asked.append(set(names))
        return {name: MEMBERS[name] for name in names if name in MEMBERS}

    rendered = render("@Ann @carol `@bob` @ann", members)

    assert len(asked) == 1
    assert {"ann", "carol"} <= asked[0] <= mention_candidates("@Ann @carol `@bob` @ann")
    assert "bob" not in asked[0]
    assert rendered.mentions == [1]


def test_resolver_is_asked_for_a_name_without_the_sentence_punctuation_after_it():
    def members(names):
        return {name: MEMBERS[name] for name in names if name in MEMBERS}

    assert render("thanks @bob.", members).mentions == [2]


def test_resolver_is_not_asked_without_an_at_sign():
    def members(names):
        raise AssertionError("asked")

    assert render("**no mentions** here", members).mentions == []


def test_mention_candidates_cover_what_render_looks_up():
    body = "hi @Bob. _@ann_ see `@code` mail ann@example.com"

    assert {"bob", "ann", "code"} <= mention_candidates(body)


# -- the fast path ---------------------------------------------------------------------------

PLAIN_ALPHABET = st.characters(
    blacklist_characters="\\`*_~[]<&@\r\x00", blacklist_categories=["Cs"]
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(PLAIN_ALPHABET, min_size=1, max_size=40), min_size=1, max_size=4))
@example(["sounds good, see you at 10:30 -> ok?"])
@example(["a >b", "c# d", "1 2"])
@example(["caf\u00e9 \u00a0nbsp\u00a0x \"quoted\" 'single' (parens) {braces} | pipe"])
@example(["\u2028line sep\u2028x", "tab\tinside"])
def test_fast_path_renders_exactly_what_the_full_pipeline_renders(lines):
    body = "\n".join(lines)

    if _is_plain(body):
        assert _render_plain(body) == _render_markdown(body, MEMBERS)


@pytest.mark.parametrize(
    "body", ["hello world", "it's 10:30 -> fine", "caf\u00e9 \u00a0x", "line one\nline two"]
)
def test_everyday_plain_text_takes_the_fast_path(body):
    assert _is_plain(body)
    assert render(body, MEMBERS) == _render_markdown(body, MEMBERS)


# -- arbitrary and hostile input -------------------------------------------------------------

MARKDOWN_PIECES = st.sampled_from(
    [
        *"*_~`[]()<>!&#;:/@\\-+=.\"' \n\ta0",
        "javascript:",
        "JaVaScRiPt:",
        "data:",
        "http://",
        "https://x.example",
        "mailto:",
        "&#106;",
        "&#x3A;",
        "&colon;",
        "<script>",
        "<img src=x onerror=alert(1)>",
        "](",
        "```",
        "> ",
        "- ",
        "1. ",
        "@bob",
        "@ann.",
        "\u0000",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.text(max_size=BODY_LIMIT), st.lists(MARKDOWN_PIECES, max_size=300).map("".join))
)
def test_any_body_renders_within_the_allow_list(body):
    rendered = render(body, MEMBERS)

    assert_allowed(rendered.html)
    assert set(rendered.mentions) <= set(MEMBERS.values())
    assert len(rendered.mentions) == len(set(rendered.mentions))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MARKDOWN_PIECES, max_size=100).map("".join))
@example("_hi @bob_ and *@ann.*")
@example("_@ann._")
@example("@_https://x.example")  # the URL starts inside the run: the name looked up is "_"
@example("@éhttps://x.example")
def test_render_looks_up_only_names_among_the_mention_candidates(body):
    asked: list[str] = []

    def members(names):
        asked.extend(names)
        return {name: MEMBERS[name] for name in names if name in MEMBERS}

    rendered = render(body, members)

    assert set(asked) <= mention_candidates(body)
    assert rendered == render(body, MEMBERS)


HOSTILE_BODIES = {
    "nested emphasis": "*" * 1999 + "a" + "*" * 2000,
    "nested emphasis, both kinds": "*_" * 999 + "a" + "_*" * 1000,
    "unclosed emphasis": "*a " * 1333,
    "4000 backticks": "`" * 4000,
    "backtick runs of every length": "".join("`" * length + "a" for length in range(1, 88)),
    "link reference bomb": ("[a]: http://x.example/" + "a" * 1990 + "\n" + "[a]" * 662),
    "many references": "\n".join(f"[{index}]: http://x" for index in range(100))
    + "\n"
    + "".join(f"[{index}]" for index in list(range(100)) * 4),
    "nested quotes": ">" * 4000,
    "nested quotes with text": "> " * 1990 + "deep",
    "nested lists": "".join("  " * depth + "- a\n" for depth in range(60)),
    "nested list markers": "- " * 2000,
    "nested brackets": "[" * 2000 + "]" * 2000,
    "unclosed links": "[a](" * 1000,
    "link with parentheses": "[a](" + "(" * 3996,
    "long line": "a" * 4000,
    "long word with markup": "a*" * 2000,
    "many mentions": "@bob " * 800,
    "at signs": "@" * 4000,
    "dots after at": "@" + "." * 3999,
    "many urls": "http://a.example " * 235,
    "underscores": "_a" * 2000,
    "angle brackets": "<" * 4000,
    "entities": "&#106;" * 666,
    "tildes": "~~" * 2000,
    "everything": "*_~`[" * 800,
    "long autolink": "<http://" + "a" * 3991 + ">",
    "many lines": "a\n" * 2000,
    "blank lines": "\n" * 4000,
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_hostile_sized_body_renders_within_the_allow_list(body):
    assert len(body) <= BODY_LIMIT
    rendered = render(body, MEMBERS)

    assert_allowed(rendered.html)
    # Nothing a body can do makes its HTML much larger than itself (no reference bombs).
    assert len(rendered.html) <= 20 * len(body) + 100


def test_lone_surrogate_is_replaced_not_raised():
    assert render("a\ud800b", MEMBERS).html == "<p>a\ufffdb</p>"
    assert render("*a\ud800b*", MEMBERS).html == "<p><em>a\ufffdb</em></p>"


def test_a_mention_right_after_a_link_is_a_candidate():
    body = "https://x.example@bob@bob"
    asked: list[set[str]] = []

    def members(names):
        asked.append(set(names))
        return {}

    render(body, members)
    assert all(names <= mention_candidates(body) for names in asked)
