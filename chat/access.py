"""Who may read a room: the one access check every page, socket, API, search and file goes through.

Public rooms are readable by every active user; private rooms and direct
messages by their members only. A user banned from a room may not read it.
To anyone who may not read a private room it does not exist: callers answer
404 (pages, files, JSON) or refuse the handshake, never a different error.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from chat import selectors
from chat.models import Ban, Membership, Room


def readable_rooms(user) -> QuerySet[Room]:
    """Every room the user may read (for search, files, lists), as one query."""
    if not user.is_authenticated or not user.is_active:
        return Room.objects.none()
    member = Membership.objects.filter(room=OuterRef("pk"), user=user)
    banned = Ban.objects.active().filter(user=user).filter(Q(room=OuterRef("pk")) | Q(room=None))
    return (
        Room.objects.annotate(is_member=Exists(member), is_banned=Exists(banned))
        .filter(Q(kind=Room.Kind.PUBLIC) | Q(is_member=True))
        .filter(is_banned=False)
    )


def is_visible(user, room: Room) -> bool:
    """Whether the room exists for the user: public, or one they are a member of.

    Bans are not looked at here: a banned user is told so (page 403, socket
    `banned`), since the room's existence is no secret to them.
    """
    if room.kind == Room.Kind.PUBLIC:
        return True
    return Membership.objects.filter(room=room, user_id=user.pk).exists()


def may_read(user, room: Room) -> bool:
    """Whether the user may read the room now: it is visible to them and they are not banned."""
    return (
        user.is_authenticated
        and user.is_active
        and is_visible(user, room)
        and selectors.active_ban(user.pk, room) is None
    )
