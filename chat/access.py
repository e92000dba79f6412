"""Who may read a room: the one access check every page, socket, API, search and file goes through.

Public rooms are readable by every active user; private rooms and direct
messages by their members only. A user banned from a room may not read it.
To anyone who may not read a private room it does not exist: callers answer
404 (pages, files, JSON) or refuse the handshake, never a different error.
Names starting with ``dm-`` belong to direct messages: a public room of such a
name does not exist for anyone, and visiting one never creates it.
"""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from chat import selectors
from chat.models import Ban, Membership, Room

DIRECT_PREFIX = "dm-"


def is_reserved(name: str) -> bool:
    """Whether a name belongs to direct messages (never a public or private room)."""
    return name.startswith(DIRECT_PREFIX)


def direct_room_name(first_id: int, second_id: int) -> str:
    """The name of the direct-message room between two users: dm-<lower id>-<higher id>."""
    low, high = sorted((first_id, second_id))
    return f"{DIRECT_PREFIX}{low}-{high}"


def _public() -> Q:
    # A public room under a reserved name (made before names were reserved) is nobody's.
    return Q(kind=Room.Kind.PUBLIC) & ~Q(name__startswith=DIRECT_PREFIX)


def listed_rooms(user) -> QuerySet[Room]:
    """The rooms a user can see listed (public ones and those they belong to), bans aside."""
    if not user.is_authenticated or not user.is_active:
        return Room.objects.none()
    member = Membership.objects.filter(room=OuterRef("pk"), user=user)
    return Room.objects.annotate(is_member=Exists(member)).filter(_public() | Q(is_member=True))


def readable_rooms(user) -> QuerySet[Room]:
    """Every room the user may read (for search, files, lists), as one query."""
    if not user.is_authenticated or not user.is_active:
        return Room.objects.none()
    banned = Ban.objects.active().filter(user=user).filter(Q(room=OuterRef("pk")) | Q(room=None))
    return listed_rooms(user).annotate(is_banned=Exists(banned)).filter(is_banned=False)


def is_visible(user, room: Room) -> bool:
    """Whether the room exists for the user: public, or one they are a member of.

    Bans are not looked at here: a banned user is told so (page 403, socket
    `banned`), since the room's existence is no secret to them.
    """
    return bool(visible_pairs([(user.pk, room)]))


def visible_pairs(pairs: Iterable[tuple[int | None, Room]]) -> set[tuple[int, int]]:
    """Those of the (user id, room) pairs where the room exists for the user, in one query."""
    pairs = [(user_id, room) for user_id, room in pairs if user_id is not None]
    visible = {
        (user_id, room.pk)
        for user_id, room in pairs
        if room.kind == Room.Kind.PUBLIC and not is_reserved(room.name)
    }
    closed = {(user_id, room.pk) for user_id, room in pairs if room.kind != Room.Kind.PUBLIC}
    if closed:
        found = Membership.objects.filter(
            user_id__in={user_id for user_id, _ in closed},
            room_id__in={room_id for _, room_id in closed},
        ).values_list("user_id", "room_id")
        visible |= closed & set(found)
    return visible


def find_room(user, name: str) -> Room | None:
    """The room of that name if it exists for the user (never creates one)."""
    room = Room.objects.filter(name=name).first()
    if room is None or not is_visible(user, room):
        return None
    return room


def role(user, room: Room) -> str | None:
    """The user's Membership.Role in the room, or None when they are not a member."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(room=room, user_id=user.pk).values_list("role", flat=True).first()
    )


def may_read(user, room: Room) -> bool:
    """Whether the user may read the room now: it is visible to them and they are not banned."""
    return (
        user.is_authenticated
        and user.is_active
        and is_visible(user, room)
        and selectors.active_ban(user.pk, room) is None
    )
