"""Presence rules: who is online where, shared by every server process through the database."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count

from jabber import clock, events
from jabber.groups import control_group, room_group
from presence.models import Connection


@dataclass(frozen=True)
class PresenceChange:
    """The outcome of a join or leave: whether the room's online list changed."""

    room_id: int
    changed: bool
    # A leave only: the user's last socket anywhere closed (the user went offline).
    gone: bool = False
    user_id: int | None = None
    # A join only: the user's first socket anywhere (the user came online).
    came_online: bool = False


@dataclass(frozen=True)
class PrunedConnection:
    socket_key: str
    user_id: int
    room_id: int
    hub_channel: str


def online(room_id: int) -> list[dict]:
    """The room's online users, sorted by username (docs/protocol.md#presence)."""
    rows = (
        Connection.objects.filter(room_id=room_id)
        .values_list("user_id", "user__username")
        .distinct()
        .order_by("user__username")
    )
    return [{"id": user_id, "username": username} for user_id, username in rows]


def online_counts(room_ids: list[int]) -> dict[int, int]:
    """How many distinct users are online in each of the given rooms."""
    counts: dict[int, set[int]] = {}
    rows = Connection.objects.filter(room_id__in=room_ids).values_list("room_id", "user_id")
    for room_id, user_id in rows:
        counts.setdefault(room_id, set()).add(user_id)
    return {room_id: len(users) for room_id, users in counts.items()}


def open_socket_counts(user_ids: set[int]) -> dict[int, int]:
    """How many sockets each user holds open, on every server process (none: left out)."""
    rows = (
        Connection.objects.filter(user_id__in=user_ids)
        .values("user_id")
        .annotate(count=Count("id"))
        .values_list("user_id", "count")
    )
    return dict(rows)


def join(*, socket_key: str, user_id: int, room_id: int, hub_channel: str = "") -> PresenceChange:
    """Record a new socket; the list changes when it is the user's first in the room."""
    (changed,), came_online = join_many_counted([(socket_key, user_id, room_id, hub_channel)])
    return PresenceChange(room_id=room_id, changed=changed, came_online=bool(came_online))


def join_many(
    sockets: list[tuple[str, int, int, str]], limit: int | None = None
) -> list[bool | None]:
    """join() for (socket key, user id, room id, hub channel) rows: whether each changed its room.

    See join_many_counted, which also says who came online.
    """
    answers, _ = join_many_counted(sockets, limit)
    return answers


def join_many_counted(
    sockets: list[tuple[str, int, int, str]], limit: int | None = None
) -> tuple[list[bool | None], set[int]]:
    """join_many(), and the users who had no socket open anywhere before (they came online).

    With `limit`, a user never holds more than that many sockets: a row over it is
    not stored and its answer is None. The users' rows are locked while counting,
    so handshakes on other processes cannot slip past the count together.
    Socket keys are never reused while their row exists (a socket pruned while
    silent joins again under its key only once the row is gone).
    """
    now = clock.utcnow()
    user_ids = {user_id for _, user_id, _, _ in sockets}
    answers: list[bool | None] = []
    with transaction.atomic():
        # The users' rows are locked while counting even without a limit: the count
        # tells who came online, which a leave on another process must not race.
        _lock_users(user_ids)
        counts = open_socket_counts(user_ids)
        offline = user_ids - counts.keys()
        admitted = []
        for row in sockets:
            user_id = row[1]
            if limit is not None and counts.get(user_id, 0) >= limit:
                continue
            counts[user_id] = counts.get(user_id, 0) + 1
            admitted.append(row)
        present = set(
            Connection.objects.filter(
                room_id__in={room_id for _, _, room_id, _ in admitted},
                user_id__in={user_id for _, user_id, _, _ in admitted},
            ).values_list("room_id", "user_id")
        )
        Connection.objects.bulk_create(
            Connection(
                socket_key=key,
                user_id=user_id,
                room_id=room_id,
                hub_channel=hub_channel,
                connected=now,
                last_seen=now,
            )
            for key, user_id, room_id, hub_channel in admitted
        )
    stored = {row[0] for row in admitted}
    for key, user_id, room_id, _ in sockets:
        if key not in stored:
            answers.append(None)
            continue
        answers.append((room_id, user_id) not in present)
        present.add((room_id, user_id))
    return answers, offline & {row[1] for row in admitted}


def _lock_users(user_ids: set[int]) -> None:
    """Lock the users' rows (in id order, so two batches cannot deadlock) till the commit."""
    list(
        get_user_model()
        ._default_manager.select_for_update()
        .filter(pk__in=user_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def leave(socket_key: str, *, serialised: bool = True) -> PresenceChange | None:
    """Forget a socket; the list changes when it was the user's last in the room, and the
    user is `gone` when it was their last anywhere.

    `serialised=False` skips locking the user's row, for a user whose coming and going
    nobody is told about (no direct rooms): `gone` may then race a socket opening elsewhere.
    """
    with transaction.atomic():
        rows = Connection.objects.filter(socket_key=socket_key)
        found = rows.values_list("room_id", "user_id").first()
        if found is None:
            return None
        room_id, user_id = found
        if serialised:
            # Serialised with join_many_counted: a socket opening elsewhere meanwhile is seen.
            _lock_users({user_id})
        if not rows.delete()[0]:
            return None  # pruned meanwhile: the pruner tells
        remaining = set(
            Connection.objects.filter(user_id=user_id).values_list("room_id", flat=True)
        )
    return PresenceChange(
        room_id=room_id, changed=room_id not in remaining, gone=not remaining, user_id=user_id
    )


def touch(socket_key: str) -> bool:
    """Mark a socket alive; False when it was pruned meanwhile and must re-join."""
    return bool(Connection.objects.filter(socket_key=socket_key).update(last_seen=clock.utcnow()))


def prune_stale(timeout: float | None = None) -> tuple[list[PrunedConnection], set[int]]:
    """Drop sockets silent for longer than the timeout.

    Returns the dropped connections and the rooms whose online list changed.
    """
    pruned, changed, _ = _prune(timeout)
    return pruned, changed


def _prune(timeout: float | None) -> tuple[list[PrunedConnection], set[int], set[int]]:
    """prune_stale(), and the users left with no socket anywhere (they went offline)."""
    timeout = settings.JABBER_PRESENCE_TIMEOUT if timeout is None else timeout
    cutoff = clock.utcnow() - timedelta(seconds=timeout)
    with transaction.atomic():
        stale = list(
            Connection.objects.filter(last_seen__lt=cutoff).values_list(
                "socket_key", "user_id", "room_id", "hub_channel"
            )
        )
        if not stale:
            return [], set(), set()
        Connection.objects.filter(socket_key__in=[row[0] for row in stale]).delete()
        # Every room of these users (a handful each): also tells who is gone everywhere.
        still_there = set(
            Connection.objects.filter(user_id__in={row[1] for row in stale}).values_list(
                "room_id", "user_id"
            )
        )
    pruned = [PrunedConnection(*row) for row in stale]
    changed = {c.room_id for c in pruned if (c.room_id, c.user_id) not in still_there}
    gone = {c.user_id for c in pruned} - {user_id for _, user_id in still_there}
    return pruned, changed, gone


def live_hub_channels() -> set[str]:
    """Hub channels that still serve at least one live socket, on any process."""
    return set(
        Connection.objects.exclude(hub_channel="").values_list("hub_channel", flat=True).distinct()
    )


async def prune_and_notify(
    timeout: float | None = None,
    on_gone: Callable[[set[int]], Awaitable[None]] | None = None,
) -> int:
    """Prune stale sockets, unsubscribe dead processes' hubs, and tell changed rooms.

    `on_gone` hears the users left with no socket anywhere (their peers are told elsewhere).
    """
    pruned, changed, gone = await database_sync_to_async(_prune)(timeout)
    if not pruned:
        return 0
    # A hub with no live socket left belongs to a dead process (kill -9): without
    # this the layer would keep queueing frames for it until the groups expire.
    hubs = {c.hub_channel for c in pruned if c.hub_channel}
    dead_hubs = hubs - await database_sync_to_async(live_hub_channels)()
    for hub_channel in dead_hubs:
        rooms = {c.room_id for c in pruned if c.hub_channel == hub_channel}
        await events.discard(hub_channel, [*map(room_group, rooms), control_group()])
    # Every process's hub turns this into a presence frame for its sockets.
    await events.publish_async(*(events.PresenceChanged(room=room_id) for room_id in changed))
    if gone and on_gone is not None:
        await on_gone(gone)
    return len(pruned)
