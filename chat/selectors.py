"""Read-only queries: history pages, the lobby, restrictions in force."""

from django.conf import settings
from django.db.models import QuerySet

from chat.models import Ban, Message, Mute, Room
from jabber import clock
from presence import services as presence


def _visible(room: Room) -> QuerySet[Message]:
    return (
        Message.objects.filter(room=room, deleted__isnull=True)
        .select_related("user", "room")
        .only("id", "seq", "body", "created", "edited", "client_id", "user__username", "room__name")
    )


def latest_messages(room: Room, limit: int | None = None) -> tuple[list[Message], bool]:
    """The last `limit` visible messages, oldest first, and whether older ones exist."""
    return messages_before(room, None, limit or settings.JABBER_HISTORY_PAGE)


def messages_before(room: Room, before: int | None, limit: int) -> tuple[list[Message], bool]:
    """Visible messages with id < before (all when None), newest `limit`, oldest first."""
    queryset = _visible(room)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    page = list(queryset.order_by("-id")[: limit + 1])
    has_more = len(page) > limit
    return page[:limit][::-1], has_more


def messages_after(room: Room, after: int, limit: int) -> tuple[list[Message], bool]:
    """The first `limit` visible messages with id > after, oldest first."""
    page = list(_visible(room).filter(id__gt=after).order_by("id")[: limit + 1])
    return page[:limit], len(page) > limit


def lobby_rooms(limit: int = 200) -> list[Room]:
    """Rooms by last activity, each annotated with `online_count`."""
    rooms = list(Room.objects.order_by("-last_activity")[:limit])
    counts = presence.online_counts([room.id for room in rooms])
    for room in rooms:
        room.online_count = counts.get(room.id, 0)
    return rooms


def active_ban(user_id: int, room: Room) -> Ban | None:
    return Ban.objects.active(clock.utcnow()).applying_to(user_id, room.id).first()


def active_mute(user_id: int, room: Room) -> Mute | None:
    return Mute.objects.active(clock.utcnow()).applying_to(user_id, room.id).first()
