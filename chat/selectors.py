"""Read-only queries: history pages, the lobby, restrictions in force."""

from collections.abc import Callable

from django.conf import settings
from django.db.models import QuerySet

from chat import protocol
from chat.models import Ban, Message, Mute, Room
from jabber import clock
from presence import services as presence


def _visible(room: Room) -> QuerySet[Message]:
    return Message.objects.filter(room=room, deleted__isnull=True)


def _models(queryset: QuerySet[Message]) -> list[Message]:
    return list(
        queryset.select_related("user", "room").only(
            "id", "seq", "body", "created", "edited", "client_id", "user__username", "room__name"
        )
    )


def _payloads(queryset: QuerySet[Message]) -> list[dict]:
    # Rows, not model instances: a hello builds up to 1000 of these per socket.
    return [
        protocol.message_payload_row(row) for row in queryset.values_list(*protocol.MESSAGE_ROW)
    ]


def latest_messages(room: Room, limit: int | None = None) -> tuple[list[Message], bool]:
    """The last `limit` visible messages, oldest first, and whether older ones exist."""
    return _before(room, None, limit or settings.JABBER_HISTORY_PAGE, _models)


def payloads_before(room: Room, before: int | None, limit: int) -> tuple[list[dict], bool]:
    """MESSAGE objects of the visible messages with id < before (all when None), newest
    `limit`, oldest first, and whether older ones exist."""
    return _before(room, before, limit, _payloads)


def payloads_after(room: Room, after: int, limit: int) -> tuple[list[dict], bool]:
    """MESSAGE objects of the first `limit` visible messages with id > after, oldest first."""
    page = _payloads(_visible(room).filter(id__gt=after).order_by("id")[: limit + 1])
    return page[:limit], len(page) > limit


def _before(room: Room, before: int | None, limit: int, read: Callable) -> tuple[list, bool]:
    queryset = _visible(room)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    page = read(queryset.order_by("-id")[: limit + 1])
    return page[:limit][::-1], len(page) > limit


def lobby_rooms(limit: int = 200) -> list[Room]:
    """Rooms by last activity, each annotated with `online_count`."""
    rooms = list(Room.objects.order_by("-last_activity")[:limit])
    counts = presence.online_counts([room.id for room in rooms])
    for room in rooms:
        room.online_count = counts.get(room.id, 0)
    return rooms


def active_ban(user_id: int, room: Room) -> Ban | None:
    return Ban.objects.active(clock.utcnow()).applying_to(user_id, room.id).first()


def is_muted(user_id: int, room: Room) -> bool:
    return Mute.objects.active(clock.utcnow()).applying_to(user_id, room.id).exists()
