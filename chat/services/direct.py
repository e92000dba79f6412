"""Direct messages: the one room two people talk in, opened on first visit, within a rate limit."""

from collections.abc import Collection

from django.db import IntegrityError, transaction

from accounts import services as accounts
from chat import access, protocol
from chat.models import Membership, Room
from chat.services.errors import ChatError
from chat.services.limits import direct_bucket
from chat.services.members import user_named
from chat.services.rooms import announce_joined
from jabber import events


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
            announce_joined({(user.pk, room.pk), (other.pk, room.pk)})
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


def direct_peers(user_ids: Collection[int]) -> dict[int, set[int]]:
    """Whom each user shares a direct room with (both members), in one query; none: left out."""
    if not user_ids:
        return {}
    theirs = Membership.objects.filter(
        user_id__in=list(user_ids), room__kind=Room.Kind.DIRECT
    ).values("room_id")
    members: dict[int, set[int]] = {}
    for room_id, user_id in Membership.objects.filter(room_id__in=theirs).values_list(
        "room_id", "user_id"
    ):
        members.setdefault(room_id, set()).add(user_id)
    peers: dict[int, set[int]] = {}
    for pair in members.values():
        for user_id in pair & set(user_ids):
            others = pair - {user_id}
            if others:
                peers.setdefault(user_id, set()).update(others)
    return peers


def peer_presence_events(
    online: Collection[int] = (), offline: Collection[int] = ()
) -> list[events.UserFrame]:
    """`peer_presence` for everyone sharing a direct room with users who came online or went
    offline (one query; none without such users), one event per recipient."""
    states = {**dict.fromkeys(online, True), **dict.fromkeys(offline, False)}
    if not states:
        return []
    peers = direct_peers(states.keys())
    found = []
    for user_id, state in states.items():
        if user_id not in peers:
            continue
        text = protocol.encode(protocol.peer_presence_frame(user_id, state))
        found.extend(events.UserFrame(user=peer, text=text) for peer in sorted(peers[user_id]))
    return found
