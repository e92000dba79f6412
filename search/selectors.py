"""Search reads: a page of the messages a user may read that match a query, newest first."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.safestring import SafeString

from chat import access, protocol, selectors
from chat.models import Message
from search import engines, query
from search.snippets import marked

PAGE_SIZE = 20


@dataclass(frozen=True)
class Result:
    message: dict  # the MESSAGE object, as the socket sends it
    snippet: SafeString  # escaped text, matched words in <mark>


@dataclass(frozen=True)
class SearchPage:
    results: list[Result]
    next: str | None  # the cursor of the following page

    def as_json(self) -> dict:
        return {
            "results": [{"message": r.message, "snippet": str(r.snippet)} for r in self.results],
            "next": self.next,
        }


def search(user, text: str, cursor: str | None = None) -> SearchPage:
    """One page of matches for any query text (never raises for bad input)."""
    parsed = query.parse(text)
    if parsed.is_empty:
        return SearchPage([], None)
    rooms = access.readable_rooms(user)
    room_ids = None
    if parsed.rooms:
        rooms = rooms.filter(name__in=parsed.rooms)
        room_ids = tuple(rooms.values_list("pk", flat=True))
    scope = engines.Scope(
        rooms=rooms,
        author_ids=_author_ids(parsed.authors),
        before=decode_cursor(cursor),
        room_ids=room_ids,
    )
    found = engines.find(parsed, scope, PAGE_SIZE + 1)
    page = found[:PAGE_SIZE]
    payloads = _payloads([message_id for message_id, _ in page])
    results = [Result(payloads[message_id], marked(raw or "")) for message_id, raw in page]
    more = len(found) > PAGE_SIZE
    return SearchPage(results, encode_cursor(page[-1][0]) if more else None)


def _author_ids(names: tuple[str, ...]) -> tuple[int, ...] | None:
    if not names:
        return None
    users = get_user_model().objects
    # Exact names first (an index look-up); any case only for the names not found so.
    found = dict(users.filter(username__in=names).values_list("username", "pk"))
    others = Q()
    for name in names:
        if name not in found:
            others |= Q(username__iexact=name)
    ids = set(found.values())
    if others:
        ids.update(users.filter(others).values_list("pk", flat=True))
    return tuple(sorted(ids))


def _payloads(message_ids: list[int]) -> dict[int, dict]:
    rows = Message.objects.filter(pk__in=message_ids).values_list(*protocol.MESSAGE_ROW)
    reactions = selectors.reactions_by_message(message_ids)
    return {row[0]: protocol.message_payload_row(row, reactions.get(row[0])) for row in rows}


def encode_cursor(message_id: int) -> str:
    """The opaque cursor of the page after the message with this id."""
    return base64.urlsafe_b64encode(f"m{message_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The message id a cursor stands for; None (the first page) for anything else."""
    if not cursor or len(cursor) > 40:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not text.startswith("m") or not text[1:].isdigit() or len(text) > 20:
        return None
    return int(text[1:])
