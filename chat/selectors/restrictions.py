"""Bans and mutes in force, and when a user last wrote (slow mode): what may refuse a sender."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Max

from chat.models import (
    Ban,
    Message,
    Mute,
    Room,
)
from jabber import clock


def active_ban(user_id: int, room: Room) -> Ban | None:
    return active_bans({(user_id, room.id)}).get((user_id, room.id))


def active_bans(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Ban]:
    """The newest ban in force for each of the (user id, room id) pairs that has one."""
    return restrictions_in_force(pairs).bans


def bans_from_every_room(user_ids: set[int]) -> dict[int, Ban]:
    """The newest ban from every room in force on each of the users that has one."""
    found: dict[int, Ban] = {}
    if user_ids:
        bans = Ban.objects.active(clock.utcnow()).filter(user_id__in=user_ids, room__isnull=True)
        for ban in bans:
            found.setdefault(ban.user_id, ban)
    return found


def muted_pairs(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of the (user id, room id) pairs under a mute now (in that room or in all)."""
    return restrictions_in_force(pairs).muted


@dataclass(frozen=True)
class Restrictions:
    bans: dict[tuple[int, int], Ban]  # the newest ban in force, per pair that has one
    muted: set[tuple[int, int]]


def restrictions_in_force(pairs: set[tuple[int, int]]) -> Restrictions:
    """The bans and mutes in force now on each (user id, room id) pair, in that room or in all.

    One query for both kinds and all the pairs (every send batch asks, so it is
    written once as SQL rather than built by the ORM each time); the Ban rows
    themselves are loaded only when a ban applies, which is rare.
    """
    if not pairs:
        return Restrictions({}, set())
    user_ids = sorted({user_id for user_id, _ in pairs})
    room_ids = sorted({room_id for _, room_id in pairs})
    now = connection.ops.adapt_datetimefield_value(clock.utcnow())

    def in_force(model: type[Ban | Mute], kind: int) -> str:
        return (
            f"SELECT {kind}, id, user_id, room_id FROM {model._meta.db_table}"
            f" WHERE user_id IN ({', '.join(['%s'] * len(user_ids))})"
            f" AND (room_id IS NULL OR room_id IN ({', '.join(['%s'] * len(room_ids))}))"
            " AND (expires IS NULL OR expires > %s)"
        )

    with connection.cursor() as cursor:
        cursor.execute(
            f"{in_force(Ban, 1)} UNION ALL {in_force(Mute, 0)}",
            [*user_ids, *room_ids, now] * 2,
        )
        rows = cursor.fetchall()
    ban_ids: dict[int, list[tuple[int, int]]] = {}
    muted: set[tuple[int, int]] = set()
    for is_ban, pk, user_id, room_id in rows:
        applies = [pair for pair in pairs if pair[0] == user_id and room_id in (None, pair[1])]
        if is_ban:
            ban_ids[pk] = applies
        else:
            muted.update(applies)
    bans: dict[tuple[int, int], Ban] = {}
    if ban_ids:
        for ban in Ban.objects.filter(pk__in=ban_ids):  # newest first
            for pair in ban_ids[ban.pk]:
                bans.setdefault(pair, ban)
    return Restrictions(bans, muted)


def last_message_time(user_id: int, room: Room) -> datetime | None:
    """When the user last wrote in the room (deleted messages count: slow mode)."""
    return (
        Message.objects.filter(room=room, user_id=user_id)
        .order_by("-created")
        .values_list("created", flat=True)
        .first()
    )


def last_write_time(user_id: int, room: Room) -> datetime | None:
    """When the user last wrote in the room, sending or editing (slow mode of edits)."""
    times = Message.objects.filter(room=room, user_id=user_id).aggregate(
        created=Max("created"), edited=Max("edited")
    )
    return max((time for time in times.values() if time is not None), default=None)
