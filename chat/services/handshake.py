"""Opening a socket: admission at the door, then presence and the hello, in batches."""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from chat import access, protocol, selectors
from chat.models import ROOM_NAME_RE, Ban, Room
from chat.services.direct import peer_presence_events
from chat.services.enforcement import session_expiries
from chat.services.errors import ChatError, settle
from chat.services.limits import join_bucket
from chat.services.moderation import ban_error
from chat.services.rooms import create_room, join_rooms
from jabber import clock, events
from presence import services as presence

# Seconds back from the hello within which a delete or edit's event may still be on its way.
COUNTED_HORIZON = 60


@dataclass(frozen=True)
class Admission:
    """What a new socket learns at the door."""

    room: Room | None  # None only for a ban that kept a new room from being created
    ban: Ban | None
    # The user's other rooms: the socket hears their `activity` (docs/protocol.md).
    watched: frozenset[int] = frozenset()


def admit(user, room_name: str) -> Admission:
    """Decide whether a socket may open: refuse over the caps, report a ban."""
    (outcome,) = admit_many([(user, room_name)])
    return settle(outcome)


def admit_many(requests: Sequence[tuple[Any, str]]) -> list[Admission | ChatError]:
    """admit() for several sockets (user, room name), with the queries done once for all.

    A room that does not exist yet is created last, only for a socket that
    passed every check, and within the user's room-creation limit. A private
    room or direct message the user is not a member of is refused as if it did
    not exist (one membership query for the batch), and a dm- name is never created.
    """
    open_sockets = presence.open_socket_counts({user.pk for user, _ in requests})
    member_rooms = selectors.member_room_ids({user.pk for user, _ in requests})
    rooms = {room.name: room for room in Room.objects.filter(name__in={n for _, n in requests})}
    visible = access.visible_pairs(
        (user.pk, rooms[name]) for user, name in requests if name in rooms
    )
    bans = selectors.active_bans(visible)
    everywhere = selectors.bans_from_every_room(
        {user.pk for user, name in requests if name not in rooms}
    )
    created: dict[str, Room] = {}  # by this batch: public, and looked up for nobody above
    outcomes: list[Admission | ChatError] = []
    for user, name in requests:
        if open_sockets.get(user.pk, 0) >= settings.JABBER_MAX_SOCKETS_PER_USER:
            outcomes.append(ChatError("forbidden", "Too many open connections."))
            continue
        room = rooms.get(name)
        if (
            not ROOM_NAME_RE.fullmatch(name)
            or (room is None and access.is_reserved(name))
            or (room is not None and (user.pk, room.pk) not in visible)
        ):
            outcomes.append(ChatError("not_found", "No such room."))
            continue
        room = room or created.get(name)
        ban = bans.get((user.pk, room.pk)) if name in rooms else everywhere.get(user.pk)
        if ban is None:
            wait = join_bucket().take(user.pk)
            if wait:
                outcomes.append(ChatError("rate_limited", "Joining too often.", retry_after=wait))
                continue
            if room is None:
                try:
                    room = created[name] = create_room(user, name)
                except ChatError as error:
                    outcomes.append(error)
                    continue
            open_sockets[user.pk] = open_sockets.get(user.pk, 0) + 1
        watched = frozenset(member_rooms[user.pk] - {room.pk if room else None})
        outcomes.append(Admission(room=room, ban=ban, watched=watched))
    return outcomes


@dataclass(frozen=True)
class OpenRequest:
    """A socket admitted to a room, already subscribed to it, about to say hello."""

    key: str
    user: Any
    room: Room
    after: int | None
    hub_channel: str
    session_key: str | None = None


@dataclass(frozen=True)
class Opened:
    frames: list[dict]  # the hello, then history frames for a replay too big for one
    online: list[dict]
    changed: bool  # the room's online list changed: announce it
    session_expires: datetime | None = None  # the login session's stored expiry
    # Recent deletes and edits `hello.rooms` counts include: their events are dropped.
    counted: selectors.Counted = dataclasses.field(default_factory=selectors.Counted)
    # Whether the user is in a direct room: only then do others hear them come and go.
    has_direct: bool = False


def open_sockets(requests: Sequence[OpenRequest]) -> list[Opened | ChatError]:
    """Register presence and build each socket's hello, reading each room once per batch.

    Called once the sockets are subscribed to their user's group, so a ban or a
    removal saved after this check reaches them as an event, and one saved before
    is found here (`banned`; `not_found` for a private room or direct message).
    The socket cap is enforced here, on stored rows, so concurrent handshakes
    cannot exceed it (`forbidden`). Sockets of one room that resume
    from the same id share their replay; each room's online list is read once,
    after every socket of the batch is in it.
    """
    bans = selectors.active_bans({(r.user.pk, r.room.pk) for r in requests})
    # A removal from a private room or direct message saved since admission; one saved
    # after this reaches the socket as its closing event (it is subscribed already).
    members = access.visible_pairs(
        (r.user.pk, r.room) for r in requests if r.room.kind != Room.Kind.PUBLIC
    )
    outcomes: list[Opened | ChatError | None] = [
        ban_error(bans[r.user.pk, r.room.pk])
        if (r.user.pk, r.room.pk) in bans
        else ChatError("not_found", "No such room.")
        if r.room.kind != Room.Kind.PUBLIC and (r.user.pk, r.room.pk) not in members
        else None
        for r in requests
    ]
    joining = [r for r, outcome in zip(requests, outcomes, strict=True) if outcome is None]
    joined, came_online = presence.join_many_counted(
        [(r.key, r.user.pk, r.room.pk, r.hub_channel) for r in joining],
        limit=settings.JABBER_MAX_SOCKETS_PER_USER,
    )
    changes = iter(joined)
    # Their first socket anywhere: whoever shares a direct room with them hears it
    # (one query, only when someone came online).
    peer_events = peer_presence_events(online=came_online)
    if peer_events:
        transaction.on_commit(lambda: events.publish(*peer_events))
    expiries = session_expiries({r.session_key for r in joining if r.session_key})
    replays: dict[tuple[int, int | None], tuple[list[list[dict]], bool, bool]] = {}
    onlines: dict[int, list[dict]] = {}
    for index, request in enumerate(requests):
        if outcomes[index] is not None:
            continue
        changed = next(changes)
        if changed is None:
            outcomes[index] = ChatError("forbidden", "Too many open connections.")
            continue
        room = request.room
        if (room.pk, request.after) not in replays:
            replays[room.pk, request.after] = _replay(room, request.after)
        if room.pk not in onlines:
            onlines[room.pk] = presence.online(room.pk)
        chunks, has_more, gap = replays[room.pk, request.after]
        online = onlines[room.pk]
        hello = protocol.hello_frame(
            room=room.name,
            kind=room.kind,
            you=protocol.user_payload(request.user),
            online=online,
            messages=chunks[0],
            has_more=has_more,
            gap=gap,
        )
        # A replay too big for one frame continues as history frames, oldest first.
        sequels = [
            protocol.history_frame(chunk, has_more=index < len(chunks))
            for index, chunk in enumerate(chunks[1:], start=2)
        ]
        outcomes[index] = Opened(
            frames=[hello, *sequels],
            online=online,
            changed=changed,
            session_expires=expiries.get(request.session_key),
        )
    opened = zip(requests, outcomes, strict=True)
    # Opening a public room joins it; into a private one only a member got this far, and a
    # removal meanwhile must not be undone here.
    join_rooms(
        {
            (r.user.pk, r.room.pk)
            for r, outcome in opened
            if isinstance(outcome, Opened) and r.room.kind == Room.Kind.PUBLIC
        }
    )
    # After joining: the room itself is one of them, its read position from before. Deletes
    # and edits the counts include are noted, for the socket to drop their late events
    # (theirs can reach it only since it subscribed, just now).
    since = clock.utcnow() - timedelta(seconds=COUNTED_HORIZON)
    rooms, counted = selectors.rooms_counted({r.user.pk for r in requests}, since)
    for index, (request, outcome) in enumerate(zip(requests, outcomes, strict=True)):
        if isinstance(outcome, Opened):
            own_rooms = rooms[request.user.pk]
            outcome = outcomes[index] = dataclasses.replace(
                outcome,
                counted=counted[request.user.pk],
                has_direct=any(entry["kind"] == Room.Kind.DIRECT for entry in own_rooms),
            )
            hello = outcome.frames[0]
            hello["rooms"] = own_rooms
            hello["last_read_seq"] = next(
                (e["last_read_seq"] for e in own_rooms if e["name"] == request.room.name), 0
            )
    return outcomes  # type: ignore[return-value]


def _replay(room: Room, after: int | None) -> tuple[list[list[dict]], bool, bool]:
    """A hello's messages, cut to fit frames: the last page, or those after an id."""
    if after is None:
        messages, has_more = selectors.payloads_before(room, None, settings.JABBER_HISTORY_PAGE)
        return protocol.split_to_fit(messages), has_more, False
    messages, gap = selectors.payloads_after(room, after, settings.JABBER_REPLAY_MAX)
    first = messages[0]["id"] if messages else after + 1
    return protocol.split_to_fit(messages), selectors.any_before(room, first), gap
