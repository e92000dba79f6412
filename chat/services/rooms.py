"""Rooms: created on first visit or from the lobby (limited per user), locked and unlocked,
their latest seq."""

from django.conf import settings
from django.db import IntegrityError, transaction

from chat import access
from chat.models import RESERVED_ROOM_NAMES, ROOM_NAME_RE, Membership, Room
from chat.services.errors import ChatError
from jabber import events
from jabber.ratelimit import Bucket


def get_or_create_room(name: str) -> Room:
    """The room of that name, created on first visit; not_found for a bad or reserved name."""
    if not ROOM_NAME_RE.fullmatch(name) or name in RESERVED_ROOM_NAMES or access.is_reserved(name):
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

    Called last, so a refused visit or handshake creates nothing (SPEC §15). A
    dm- name is never created here: direct rooms are made by chat.services.direct.
    """
    if not ROOM_NAME_RE.fullmatch(name) or access.is_reserved(name):
        raise ChatError("not_found", "No such room.")
    existing = Room.objects.filter(name=name).first()
    if existing is not None:
        return existing
    wait = room_create_bucket().take(user.pk)
    if wait:
        raise ChatError("rate_limited", "You are creating rooms too often.", retry_after=wait)
    room, _ = Room.objects.get_or_create(name=name)
    return room


def new_room(user, name: str, *, private: bool) -> Room:
    """A room from the lobby: a private one owned by its creator, or a public one as on a visit."""
    if not ROOM_NAME_RE.fullmatch(name) or name in RESERVED_ROOM_NAMES:
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
        return create_room(user, name)
    wait = room_create_bucket().take(user.pk)
    if wait:
        raise ChatError("rate_limited", "You are creating rooms too often.", retry_after=wait)
    try:
        with transaction.atomic():
            room = Room.objects.create(name=name, kind=Room.Kind.PRIVATE)
            Membership.objects.create(user=user, room=room, role=Membership.Role.OWNER)
            announce_joined({(user.pk, room.pk)})
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
    announce_joined(pairs)


def announce_joined(pairs: set[tuple[int, int]]) -> None:
    """After the commit, the new members' open sockets elsewhere start hearing these rooms'
    activity (and their sidebars learn of the rooms). Every path that makes members calls it."""
    change = events.MembershipChanged(pairs=[list(pair) for pair in sorted(pairs)], joined=True)
    transaction.on_commit(lambda: events.publish(change))
