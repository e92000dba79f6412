"""The search query language, parsed by us into plain tokens (pure: no Django, no I/O).

`words` (all must match), `"quoted phrases"`, `-word` / `-"phrase"`, `from:username`
and `in:room`; anything else is plain words. The result holds only lower-case
runs of letters and digits, so no quote, operator or punctuation of ours or of
the user's can ever reach FTS5's or tsquery's own syntax. Both engines see the
same tokens, split the way FTS5's unicode61 tokenizer splits text, which is also
how PostgreSQL is made to index it (search.index), so they find the same messages.

English stop words (PostgreSQL's list) are left out of words: PostgreSQL never
indexes them, FTS5 does, and a query for "the" would otherwise differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Bounds that keep any input cheap: a query is at most this many terms, and a
# token longer than PostgreSQL will index (2047 bytes) could never match anyway.
MAX_INPUT = 1000
MAX_TERMS = 16
MAX_TOKEN = 200
MAX_FILTERS = 10

# PostgreSQL's english.stop (snowball), which its 'english' configuration drops.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will just
    don should now""".split()
)

# A token is a run of letters and digits (underscore excluded), as unicode61 cuts text.
_TOKEN = re.compile(r"[^\W_]+")
# A quoted phrase (an unclosed quote runs to the end), or a run of non-space characters.
_CHUNK = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_USERNAME = re.compile(r"[\w.@+-]{1,150}")
_ROOM = re.compile(r"[a-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Query:
    """A parsed query: each phrase is a tuple of tokens (a word is a phrase of one)."""

    phrases: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[tuple[str, ...], ...] = ()
    authors: tuple[str, ...] = ()
    rooms: tuple[str, ...] = ()

    @property
    def has_text(self) -> bool:
        return bool(self.phrases)

    @property
    def is_empty(self) -> bool:
        """Nothing to look for: no text, no author, no room (negations alone find nothing)."""
        return not (self.phrases or self.authors or self.rooms)


def tokens(text: str) -> tuple[str, ...]:
    """The lower-case letter-and-digit runs of a text, as both engines index it."""
    return tuple(
        token for token in (match.group().lower() for match in _TOKEN.finditer(text))
        if len(token) <= MAX_TOKEN
    )  # fmt: skip


def _phrase(text: str) -> tuple[str, ...]:
    """The tokens of a phrase, without the stop words at either end (PostgreSQL drops them)."""
    found = list(tokens(text))
    while found and found[0] in STOP_WORDS:
        found.pop(0)
    while found and found[-1] in STOP_WORDS:
        found.pop()
    return tuple(found)


def parse(text: str) -> Query:
    """Parse any string into a Query; nothing raises, whatever the input."""
    text = "".join(char for char in text[:MAX_INPUT] if char.isprintable() or char.isspace())
    phrases: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    authors: list[str] = []
    rooms: list[str] = []
    for match in _CHUNK.finditer(text):
        negative, quoted, bare = match.groups()
        if quoted is not None:
            (excluded if negative else phrases).append(_phrase(quoted))
            continue
        lowered = bare.lower()
        if lowered.startswith("from:") and _USERNAME.fullmatch(bare[5:].lstrip("@")):
            authors.append(bare[5:].lstrip("@"))
        elif lowered.startswith("in:") and _ROOM.fullmatch(lowered[3:].lstrip("#")):
            rooms.append(lowered[3:].lstrip("#"))
        elif bare.startswith("-") and len(bare) > 1:
            excluded.append(_phrase(bare[1:]))
        else:
            # Punctuation inside a word ("example.com", "don't") joins its tokens
            # into a phrase, as an indexed text would hold them.
            phrases.append(_phrase(bare))
    return Query(
        phrases=_unique(phrases)[:MAX_TERMS],
        excluded=_unique(excluded)[:MAX_TERMS],
        authors=tuple(dict.fromkeys(authors))[:MAX_FILTERS],
        rooms=tuple(dict.fromkeys(rooms))[:MAX_FILTERS],
    )


def _unique(phrases: list[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    return tuple(dict.fromkeys(phrase for phrase in phrases if phrase))


def fts5_phrases(phrases: tuple[tuple[str, ...], ...]) -> list[str]:
    """Each phrase as an FTS5 string. Tokens hold letters and digits only: nothing to escape."""
    return ['"' + " ".join(phrase) + '"' for phrase in phrases]
