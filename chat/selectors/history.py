"""History pages and MESSAGE payloads: what a room shows, read in as few queries as possible."""

from collections.abc import Callable

from django.conf import settings
from django.db.models import QuerySet

from chat import protocol
from chat.models import (
    Attachment,
    Message,
    Reaction,
    Room,
)


def _visible(room: Room) -> QuerySet[Message]:
    return Message.objects.filter(room=room, deleted__isnull=True)


def _payloads(queryset: QuerySet[Message]) -> list[dict]:
    # Rows, not model instances: a hello builds up to 1000 of these per socket.
    rows = list(queryset.values_list(*protocol.MESSAGE_ROW))
    ids = [row[0] for row in rows]
    reactions = reactions_by_message(ids)
    attachments = attachments_by_message(ids)
    return [
        protocol.message_payload_row(row, reactions.get(row[0]), attachments.get(row[0]))
        for row in rows
    ]


def attachments_by_message(message_ids: list[int]) -> dict[int, list[dict]]:
    """MESSAGE `attachments` of each of the messages that has any, in one query."""
    if not message_ids:
        return {}
    found: dict[int, list[dict]] = {}
    rows = (
        Attachment.objects.filter(message_id__in=message_ids)
        .order_by("id")
        .values_list("message_id", *protocol.ATTACHMENT_ROW)
    )
    for message_id, *row in rows:
        found.setdefault(message_id, []).append(protocol.attachment_payload_row(tuple(row)))
    return found


def reactions_by_message(message_ids: list[int]) -> dict[int, list[dict]]:
    """MESSAGE `reactions` of each of the messages that has any, in one query."""
    if not message_ids:
        return {}
    rows: dict[int, list[tuple[str, int]]] = {}
    found = Reaction.objects.filter(message_id__in=message_ids).order_by("id")
    for message_id, emoji, user_id in found.values_list("message_id", "emoji", "user_id"):
        rows.setdefault(message_id, []).append((emoji, user_id))
    return {message_id: protocol.reactions_payload(pairs) for message_id, pairs in rows.items()}


def message_payload(message_id: int) -> dict:
    """The MESSAGE object of one message, as the socket sends it."""
    (payload,) = _payloads(Message.objects.filter(pk=message_id))
    return payload


def latest_messages(room: Room, limit: int | None = None) -> tuple[list[dict], bool]:
    """MESSAGE objects of the last `limit` visible messages, oldest first, and whether older
    ones exist."""
    return payloads_before(room, None, limit or settings.JABBER_HISTORY_PAGE)


def payloads_around(room: Room, around: int, limit: int) -> tuple[list[dict], bool, bool]:
    """MESSAGE objects of up to `limit` visible messages centred on id `around`, oldest first,
    and whether older and newer ones exist beyond them."""
    newer_count = (limit - 1) // 2
    older, more_before = _before(room, around + 1, limit - newer_count, _payloads)
    newer, more_after = payloads_after(room, around, newer_count) if newer_count else ([], False)
    if not newer_count:
        more_after = _visible(room).filter(id__gt=around).exists()
    return older + newer, more_before, more_after


def payloads_before(room: Room, before: int | None, limit: int) -> tuple[list[dict], bool]:
    """MESSAGE objects of the visible messages with id < before (all when None), newest
    `limit`, oldest first, and whether older ones exist."""
    return _before(room, before, limit, _payloads)


def payloads_after(room: Room, after: int, limit: int) -> tuple[list[dict], bool]:
    """MESSAGE objects of the first `limit` visible messages with id > after, oldest first."""
    page = _payloads(_visible(room).filter(id__gt=after).order_by("id")[: limit + 1])
    return page[:limit], len(page) > limit


def history_page(
    room: Room, *, before: int | None, after: int | None, limit: int
) -> tuple[list[dict], bool]:
    """A `history` answer: up to `limit` messages before or after an id, within one frame.

    A page too big for one frame is cut to the part nearest the cursor, and
    `has_more` says there is more.
    """
    if after is not None:
        messages, has_more = payloads_after(room, after, limit)
    else:
        messages, has_more = payloads_before(room, before, limit)
    chunks = protocol.split_to_fit(messages)
    if len(chunks) > 1:
        return (chunks[0] if after is not None else chunks[-1]), True
    return chunks[0], has_more


def history_around(room: Room, around: int, limit: int) -> tuple[list[dict], bool, bool]:
    """A `history` answer centred on id `around`, within one frame: the messages, and whether
    older and newer ones exist beyond them."""
    messages, more_before, more_after = payloads_around(room, around, limit)
    chunks = protocol.split_to_fit(messages)
    if len(chunks) == 1:
        return messages, more_before, more_after
    # Too big for one frame: the part holding (or nearest before) the message asked for.
    index = max(i for i, chunk in enumerate(chunks) if i == 0 or chunk[0]["id"] <= around)
    return chunks[index], more_before or index > 0, more_after or index < len(chunks) - 1


def any_before(room: Room, before: int) -> bool:
    """Whether a visible message with id < before exists."""
    return _visible(room).filter(id__lt=before).exists()


def _before(room: Room, before: int | None, limit: int, read: Callable) -> tuple[list, bool]:
    queryset = _visible(room)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    page = read(queryset.order_by("-id")[: limit + 1])
    return page[:limit][::-1], len(page) > limit
