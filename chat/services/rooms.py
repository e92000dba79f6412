"""Rooms: created on first visit (limited per user), locked and unlocked, their latest seq."""

from django.conf import settings
from django.db import transaction

from chat.models import RESERVED_ROOM_NAMES, ROOM_NAME_RE, Membership, Room
from chat.services.errors import ChatError
from jabber import events
from jabber.ratelimit import Bucket


def get_or_create_room(name: str) -> Room:
    """The room of that name, created on first visit; raises not_found for a bad name."""
    if not ROOM_NAME_RE.fullmatch(name) or name in RESERVED_ROOM_NAMES:
        raise ChatError("not_found", "No such room.")
    room, _ = Room.objects.get_or_create(name=name)
    return room


# What the admin edits; the counters (last_seq, last_activity) belong to sends.
EDITABLE_FIELDS = ("title", "topic", "locked", "slow_mode_seconds")


def save_room(room: Room, changed: list[str]) -> Room:
    """Save a room edited in the admin, writing only the fields that changed.

    A full save would write back last_seq as read when the page loaded, moving
    it back under any send that committed since.
    """
    if room.pk is None:
        room.save()
        return room
    fields = [name for name in changed if name in EDITABLE_FIELDS]
    if fields:
        room.save(update_fields=fields)
    return room


def room_create_bucket() -> Bucket:
    """JABBER_ROOM_CREATE_RATE new rooms per user per hour, all at once if saved up."""
    per_hour = settings.JABBER_ROOM_CREATE_RATE
    return Bucket("room-create", per_hour, per_hour / 3600)


def create_room(user, name: str) -> Room:
    """Create a room for a user who passed every other check; raises not_found / rate_limited.

    Called last, so a refused visit or handshake creates nothing (SPEC §15).
    """
    if not ROOM_NAME_RE.fullmatch(name):
        raise ChatError("not_found", "No such room.")
    existing = Room.objects.filter(name=name).first()
    if existing is not None:
        return existing
    wait = room_create_bucket().take(user.pk)
    if wait:
        raise ChatError("rate_limited", "You are creating rooms too often.", retry_after=wait)
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
