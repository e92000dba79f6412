"""Rooms: created on first visit or from the lobby, locked and unlocked, their latest seq."""

from django.db import IntegrityError, transaction

from chat import access
from chat.models import ROOM_NAME_RE, Membership, Room
from chat.services.errors import ChatError


def get_or_create_room(name: str) -> Room:
    """The room of that name, created on first visit; not_found for a bad or reserved name."""
    if not ROOM_NAME_RE.fullmatch(name) or access.is_reserved(name):
        raise ChatError("not_found", "No such room.")
    room, _ = Room.objects.get_or_create(name=name)
    return room


def visit_rooms(names: set[str]) -> dict[str, Room]:
    """The rooms of these names, in one query; a free, valid, unreserved name becomes a public room.

    Whether each room exists for a given user is for chat.access to say.
    """
    found = {room.name: room for room in Room.objects.filter(name__in=names)}
    for name in names - found.keys():
        if ROOM_NAME_RE.fullmatch(name) and not access.is_reserved(name):
            found[name], _ = Room.objects.get_or_create(name=name)
    return found


def visit_room(user, name: str) -> Room:
    """The room a user opens by its name (created if free); not_found if not theirs to see."""
    room = visit_rooms({name}).get(name)
    if room is None or not access.is_visible(user, room):
        raise ChatError("not_found", "No such room.")
    return room


def create_room(user, name: str, *, private: bool) -> Room:
    """A room from the lobby: a private one owned by its creator, or a public one as on a visit."""
    if not ROOM_NAME_RE.fullmatch(name):
        raise ChatError("bad_request", "Room names are 1-64 characters of a-z, 0-9, _ and -.")
    if access.is_reserved(name):
        raise ChatError(
            "bad_request",
            f"Names starting with {access.DIRECT_PREFIX} are kept for direct messages.",
        )
    taken = ChatError("bad_request", "That name is taken; pick another.")
    existing = Room.objects.filter(name=name).first()
    if existing is not None:
        wanted = Room.Kind.PRIVATE if private else Room.Kind.PUBLIC
        # Asking again for a room one already has is a visit, not an error.
        if existing.kind == wanted and access.is_visible(user, existing):
            return existing
        raise taken
    if not private:
        return visit_room(user, name)
    try:
        with transaction.atomic():
            room = Room.objects.create(name=name, kind=Room.Kind.PRIVATE)
            Membership.objects.create(user=user, room=room, role=Membership.Role.OWNER)
    except IntegrityError:
        raise taken from None
    return room


def room_latest_seq(room_id: int) -> int:
    return Room.objects.filter(pk=room_id).values_list("last_seq", flat=True).first() or 0


def set_room_locked(room: Room, locked: bool) -> Room:
    """Make a room read-only (or writable again); sends check it on every message."""
    Room.objects.filter(pk=room.pk).update(locked=locked)
    room.locked = locked
    return room


def set_slow_mode(room: Room, seconds: int) -> Room:
    """Seconds between one user's messages in the room (0: off); sends check it on every message."""
    Room.objects.filter(pk=room.pk).update(slow_mode_seconds=seconds)
    room.slow_mode_seconds = seconds
    return room


def set_room_text(room: Room, *, title: str | None = None, topic: str | None = None) -> Room:
    """Change a room's title or topic (only the fields given are written)."""
    fields = {}
    if title is not None:
        fields["title"] = title
    if topic is not None:
        fields["topic"] = topic
    Room.objects.filter(pk=room.pk).update(**fields)
    for field, value in fields.items():
        setattr(room, field, value)
    return room


def join_rooms(pairs: set[tuple[int, int]]) -> None:
    """Make each (user id, room id) a membership, if it is not one already (opening a room)."""
    Membership.objects.bulk_create(
        [Membership(user_id=user_id, room_id=room_id) for user_id, room_id in pairs],
        ignore_conflicts=True,
    )
