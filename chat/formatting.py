"""Render a message body (Markdown, SPEC §11) into sanitised HTML, with its mentions (§10).

Pure: no database, no I/O. `render` parses once with markdown-it-py (CommonMark, with
strikethrough and bare http(s) links), turns `@username` of the room's active members
into mention elements, and passes the HTML through nh3 (ammonia) with an allow-list,
so that a bug in either half alone cannot let markup through that the client would run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from html import escape

import nh3
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_SCHEMES", "ALLOWED_TAGS", "LINK_REL"]
__all__ += ["Rendered", "mention_candidates", "render"]

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li"}
    | {"a", "span"}
)
# `rel` and `target` are not listed: nh3 sets them on every link itself, whatever came in.
ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    # nh3 otherwise allows `title` and `lang` on every tag.
    "*": frozenset(),
    "a": frozenset({"href"}),
    "span": frozenset({"data-user-id"}),
    "ol": frozenset({"start"}),
}
ALLOWED_CLASSES: Mapping[str, frozenset[str]] = {"span": frozenset({"mention"})}
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"
LINK_TARGET = "_blank"

# Django's username characters (`[\w.@+-]`, Unicode \w so that "@josé" is not "@jos");
# accounts.validators narrows sign-ups to ASCII, but the admin may create others.
_USERNAME_CHARACTERS = r"\w.@+-"
_USERNAME_RUN = re.compile(rf"[{_USERNAME_CHARACTERS}]+")
# Every "@" with the run after it, overlapping: "@a@b" is a candidate for "a@b" and "b".
_CANDIDATE = re.compile(rf"@(?=([{_USERNAME_CHARACTERS}]+))")
# Punctuation that may end a username but more often ends the sentence ("thanks @bob.").
_TRAILING_PUNCTUATION = ".@+-"
# What markdown-it's inline linkify rule takes into a URL's scheme (its SCHEME_RE).
_SCHEME_CHARACTER = re.compile(r"[a-z0-9.+-]", re.IGNORECASE)
# Django's User.username max_length: anything longer cannot be anyone.
_USERNAME_MAX_LENGTH = 150

_SCHEME_PREFIXES = tuple(f"{scheme}:" for scheme in sorted(ALLOWED_SCHEMES))

# A body the fast path may take has none of the characters that mean something to the
# inline rules of CommonMark, to the mention rule or to linkify, and no block marker at the
# start of a line (nor whitespace at either end of one, which CommonMark trims).
_MARKUP_CHARACTERS = re.compile(r"[\\`*_~\[\]<&@\x00\r]|://")
_BLOCK_START = re.compile(r"[#=+\-*>]|\d{1,9}[.)]")
# What nh3 (html5ever's serialiser) escapes in text, so the fast path's bytes are the same.
_SURROGATE = re.compile("[\ud800-\udfff]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\u00a0": "&nbsp;"})


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered body: sanitised `html`, mentioned user ids, and the text without markup."""

    html: str
    mentions: list[int] = field(default_factory=list)
    text: str = ""


# A room's mentionable users: lower-cased username -> user id, or a function that is given
# the lower-cased names the body could mention and returns that mapping for them (one query).
Mentionable = Mapping[str, int] | Callable[[Collection[str]], Mapping[str, int]]


def mention_candidates(body: str) -> set[str]:
    """Lower-cased names that `body` may mention: a superset of what `render` will look up."""
    names: set[str] = set()
    for match in _CANDIDATE.finditer(body):
        run = match.group(1)
        if len(run) > _USERNAME_MAX_LENGTH:
            continue
        # Emphasis delimiters (`_hi @bob_`, `_@bob._`) are username characters in the raw
        # body: the name in a text token may end before any "_" of the run. A bare URL may
        # start after any character its scheme cannot contain (`@_https://x`: the name is "_").
        ends = {len(run)}
        for index, char in enumerate(run):
            if char == "_":
                ends.add(index)
            if not _SCHEME_CHARACTER.match(char):
                ends.add(index + 1)
        for end in ends:
            for name in (run[:end], run[:end].rstrip(_TRAILING_PUNCTUATION)):
                if name:
                    names.add(name.lower())
    return names


def render(body: str, mentionable: Mentionable) -> Rendered:
    """Render `body` to sanitised HTML, resolving `@name` against the room's members."""
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (JSON allows "\ud800") cannot be stored or sanitised.
        body = _SURROGATE.sub("\ufffd", body)
    if _is_plain(body):
        return _render_plain(body)
    return _render_markdown(body, mentionable)


def _is_plain(body: str) -> bool:
    """Whether the full pipeline would only escape `body` and make its lines one paragraph."""
    if not body or _MARKUP_CHARACTERS.search(body) is not None:
        return False
    for line in body.split("\n"):
        if not line or line[0].isspace() or line[-1].isspace() or _BLOCK_START.match(line):
            return False
    return True


def _render_plain(body: str) -> Rendered:
    """The fast path for the common message: plain text, the same bytes as the full path."""
    html = body.translate(_TEXT_ESCAPES).replace("\n", "<br>\n")
    return Rendered(html=f"<p>{html}</p>", mentions=[], text=body)


def _render_markdown(body: str, mentionable: Mentionable) -> Rendered:
    """The full path: parse, resolve mentions, render, sanitise."""
    env: dict = {"mentionable": mentionable, "mentions": []}
    tokens = _markdown.parse(body, env)
    html = _cleaner.clean(_markdown.renderer.render(tokens, _markdown.options, env)).strip()
    return Rendered(html=html, mentions=env["mentions"], text=_plain_text(tokens))


def _validate_link(url: str) -> bool:
    """Only http, https and mailto links, checked on the normalised URL markdown-it emits."""
    return url.lower().startswith(_SCHEME_PREFIXES)


def _mentions(state: StateCore) -> None:
    """Core rule: split text tokens around `@name` of a mentionable user into mention tokens."""
    found: list[tuple[list[Token], int, list[tuple[int, int, str]]]] = []
    names: set[str] = set()
    for block in state.tokens:
        if block.type != "inline" or not block.children or "@" not in block.content:
            continue
        children = block.children
        link_depth = 0
        for index, token in enumerate(children):
            if token.type == "link_open":
                link_depth += 1
            elif token.type == "link_close":
                link_depth -= 1
            elif token.type == "text" and link_depth == 0 and "@" in token.content:
                previous = children[index - 1] if index else None
                spans = _mention_spans(token.content, previous)
                if spans:
                    found.append((children, index, spans))
                    for _, _, name in spans:
                        names.add(name)
                        if trimmed := name.rstrip(_TRAILING_PUNCTUATION):
                            names.add(trimmed)
    if not found:
        return
    mentionable = state.env["mentionable"]
    members = mentionable if isinstance(mentionable, Mapping) else mentionable(names)
    resolved = [(children, index, _resolve(spans, members)) for children, index, spans in found]
    mentioned: list[int] = state.env["mentions"]
    for _, _, spans in resolved:
        for _, _, name in spans:
            if members[name] not in mentioned:
                mentioned.append(members[name])
    # Right to left, so that the indexes still to visit stay valid as tokens are inserted.
    for children, index, spans in reversed(resolved):
        if not spans:
            continue
        token = children[index]
        replacement: list[Token] = []
        cursor = 0
        for start, end, name in spans:
            if start > cursor:
                replacement.append(_text_token(token.content[cursor:start], token.level))
            mention = Token("mention", "span", 0, level=token.level)
            mention.content = token.content[start:end]
            mention.meta = {"user_id": members[name]}
            replacement.append(mention)
            cursor = end
        if cursor < len(token.content):
            replacement.append(_text_token(token.content[cursor:], token.level))
        children[index : index + 1] = replacement


def _mention_spans(text: str, previous: Token | None) -> list[tuple[int, int, str]]:
    """(start, end, lower-cased name) of each `@name` in a text token, by position only."""
    spans = []
    position = text.find("@")
    while position != -1:
        if position:
            before = text[position - 1]
        elif previous is not None and previous.type in ("text", "text_special"):
            before = previous.content[-1:] or " "
        else:
            before = " "
        run = _USERNAME_RUN.match(text, position + 1)
        if run is None:
            position = text.find("@", position + 1)
            continue
        if _USERNAME_RUN.fullmatch(before) is None and len(run.group()) <= _USERNAME_MAX_LENGTH:
            spans.append((position, run.end(), run.group().lower()))
        position = text.find("@", run.end())
    return spans


def _resolve(
    spans: list[tuple[int, int, str]], members: Mapping[str, int]
) -> list[tuple[int, int, str]]:
    """The spans that name a member, trimmed of trailing sentence punctuation if need be."""
    resolved = []
    for start, end, name in spans:
        if name in members:
            resolved.append((start, end, name))
            continue
        trimmed = name.rstrip(_TRAILING_PUNCTUATION)
        if trimmed and trimmed in members:
            resolved.append((start, end - (len(name) - len(trimmed)), trimmed))
    return resolved


def _text_token(content: str, level: int) -> Token:
    token = Token("text", "", 0, level=level)
    token.content = content
    return token


def _render_mention(self, tokens: list[Token], index: int, options, env) -> str:
    token = tokens[index]
    user_id = int(token.meta["user_id"])
    return f'<span class="mention" data-user-id="{user_id}">{escape(token.content)}</span>'


def _plain_text(tokens: list[Token]) -> str:
    """The body's words without markup: for reply excerpts and search."""
    blocks: list[str] = []
    for token in tokens:
        if token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
        elif token.type == "inline" and token.children is not None:
            parts = []
            for child in token.children:
                if child.type in ("softbreak", "hardbreak"):
                    parts.append("\n")
                else:
                    parts.append(child.content)
            blocks.append("".join(parts))
    return "\n".join(blocks)


def _build_markdown() -> MarkdownIt:
    markdown = MarkdownIt(
        "commonmark",
        # breaks: a single newline in a chat message is meant as one.
        # maxNesting bounds nested lists, quotes and links (what is deeper is cut off).
        {"html": False, "linkify": True, "breaks": True, "maxNesting": 20},
    )
    markdown.linkify = LinkifyIt()
    markdown.enable(["strikethrough", "linkify"])
    # Not in SPEC §11's subset: their markup would be stripped by the allow-list anyway, so
    # they stay the text that was typed. Images never load (no tracking pixels).
    markdown.disable(["image", "heading", "lheading", "hr"])
    # Reference definitions let 4,000 characters expand into ~700 KB of HTML (one long URL
    # used by hundreds of `[a]`), stored and sent to every socket; `[text](url)` is enough.
    markdown.disable("reference")
    # The core linkify rule finds scheme-less hosts and e-mail addresses; SPEC links only
    # bare http(s):// URLs, which the inline linkify rule finds.
    markdown.core.ruler.disable("linkify")
    markdown.core.ruler.before("text_join", "mention", _mentions)
    markdown.add_render_rule("mention", _render_mention)
    markdown.validateLink = _validate_link
    return markdown


_markdown = _build_markdown()
_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items()},
    url_schemes=set(ALLOWED_SCHEMES),
    url_relative="deny",
    link_rel=LINK_REL,
    set_tag_attribute_values={"a": {"target": LINK_TARGET}},
    strip_comments=True,
)
