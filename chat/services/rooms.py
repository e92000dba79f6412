"""Rooms: created on first visit, locked and unlocked, their latest seq."""

from django.db import transaction

from chat.models import ROOM_NAME_RE, Membership, Room
from chat.services.errors import ChatError
from jabber import events


def get_or_create_room(name: str) -> Room:
    """The room of that name, created on first visit; raises not_found for a bad name."""
    if not ROOM_NAME_RE.fullmatch(name):
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
    """Make each (user id, room id) a membership, if it is not one already (opening a room).

    A new member has read what came before: joining shows the latest messages,
    and a backlog of strangers' talk is not news to anyone. The new member's
    open sockets elsewhere start hearing the room's activity.
    """
    if not pairs:
        return
    existing = Membership.objects.filter(
        user_id__in={user_id for user_id, _ in pairs}, room_id__in={room_id for _, room_id in pairs}
    ).values_list("user_id", "room_id")
    pairs = set(pairs) - set(existing)
    if not pairs:
        return
    last_seqs = dict(
        Room.objects.filter(pk__in={room_id for _, room_id in pairs}).values_list("pk", "last_seq")
    )
    Membership.objects.bulk_create(
        [
            Membership(user_id=user_id, room_id=room_id, last_read_seq=last_seqs.get(room_id, 0))
            for user_id, room_id in pairs
        ],
        ignore_conflicts=True,
    )
    change = events.MembershipChanged(pairs=[list(pair) for pair in sorted(pairs)], joined=True)
    transaction.on_commit(lambda: events.publish(change))
