"""Direct messages: the one room two people talk in, opened on first visit, within a rate limit."""

from django.db import IntegrityError, transaction

from accounts import services as accounts
from chat import access
from chat.models import Membership, Room
from chat.services.errors import ChatError
from chat.services.limits import direct_bucket
from chat.services.members import user_named


def open_direct(user, username: str) -> Room:
    """The direct-message room between the user and `username`, created on first visit.

    Refused: oneself (bad_request), someone who blocks the user (forbidden, said
    no more plainly than that), and a new conversation over the rate limit.
    """
    other = user_named(username)
    if other.pk == user.pk:
        raise ChatError("bad_request", "You cannot open a conversation with yourself.")
    if accounts.blocked_pairs({(other.pk, user.pk)}):
        raise ChatError("forbidden", "You cannot do that.")
    name = access.direct_room_name(user.pk, other.pk)
    room = Room.objects.filter(name=name, kind=Room.Kind.DIRECT).first()
    if room is not None:
        return room
    wait = direct_bucket().take(user.pk)
    if wait:
        raise ChatError(
            "rate_limited", "You are opening conversations too often.", retry_after=wait
        )
    try:
        with transaction.atomic():
            room = Room.objects.create(name=name, kind=Room.Kind.DIRECT)
            Membership.objects.bulk_create(
                [Membership(user=user, room=room), Membership(user=other, room=room)]
            )
    except IntegrityError:
        # Both opened it at once: the other request made it.
        room = Room.objects.get(name=name)
    return room


def direct_peer_ids(room_names: dict[int, str]) -> dict[int, tuple[int, int]]:
    """The two user ids of each direct room (by room id), read from its name."""
    peers = {}
    for room_id, name in room_names.items():
        low, _, high = name.removeprefix(access.DIRECT_PREFIX).partition("-")
        if low.isdigit() and high.isdigit():
            peers[room_id] = (int(low), int(high))
    return peers
