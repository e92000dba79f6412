"""Rooms: created on first visit, locked and unlocked, their latest seq."""

from chat.models import RESERVED_ROOM_NAMES, ROOM_NAME_RE, Membership, Room
from chat.services.errors import ChatError


def get_or_create_room(name: str) -> Room:
    """The room of that name, created on first visit; raises not_found for a bad name."""
    if not ROOM_NAME_RE.fullmatch(name) or name in RESERVED_ROOM_NAMES:
        raise ChatError("not_found", "No such room.")
    room, _ = Room.objects.get_or_create(name=name)
    return room


def room_latest_seq(room_id: int) -> int:
    return Room.objects.filter(pk=room_id).values_list("last_seq", flat=True).first() or 0


def set_room_locked(room: Room, locked: bool) -> Room:
    """Make a room read-only (or writable again); sends check it on every message."""
    Room.objects.filter(pk=room.pk).update(locked=locked)
    room.locked = locked
    return room


def join_rooms(pairs: set[tuple[int, int]]) -> None:
    """Make each (user id, room id) a membership, if it is not one already (opening a room)."""
    Membership.objects.bulk_create(
        [Membership(user_id=user_id, room_id=room_id) for user_id, room_id in pairs],
        ignore_conflicts=True,
    )
