"""Rooms and their members: the lobby, roles, each member's rooms with unread and mention counts."""

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower

from chat import protocol
from chat.models import (
    Membership,
    Mention,
    Message,
    Room,
)
from presence import services as presence


def lobby_rooms(rooms: QuerySet[Room] | None = None, limit: int = 200) -> list[Room]:
    """Rooms (of `rooms`: those a user may see, chat.access) by last activity, each annotated
    with `online_count`."""
    queryset = Room.objects.all() if rooms is None else rooms
    found = list(queryset.order_by("-last_activity")[:limit])
    counts = presence.online_counts([room.id for room in found])
    for room in found:
        room.online_count = counts.get(room.id, 0)
    return found


def room_moderator_pairs(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of the (user id, room id) pairs where the user owns or moderates the room."""
    if not pairs:
        return set()
    found = Membership.objects.filter(
        user_id__in={user_id for user_id, _ in pairs},
        room_id__in={room_id for _, room_id in pairs},
        role__in=(Membership.Role.OWNER, Membership.Role.MODERATOR),
    ).values_list("user_id", "room_id")
    return set(found) & pairs


def room_named(name: str) -> Room | None:
    return Room.objects.filter(name=name).first()


def member_ids_by_name(room_id: int, names: Collection[str]) -> dict[str, int]:
    """Active members of the room whose lower-cased username is one of `names`: name -> id."""
    rows = (
        Membership.objects.filter(room_id=room_id, user__is_active=True)
        .annotate(name=Lower("user__username"))
        .filter(name__in=list(names))
        .order_by("-user_id")
        .values_list("name", "user_id")
    )
    # Usernames differ in case only rarely; the oldest account keeps the name.
    return dict(rows)


def _count(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT(*) of `queryset` (filtered on the outer membership), 0 when none."""
    counted = queryset.order_by().values("room_id").annotate(count=Count("pk")).values("count")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _memberships_with_counts(memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    """Memberships annotated with `unread_all` and `mentioned` (both above the read position).

    One query whatever the number of rooms: each count is a correlated subquery
    on an index ((room, seq) of messages, (user, room, seq) of mentions).
    """
    unread = Message.objects.filter(
        room_id=OuterRef("room_id"), seq__gt=OuterRef("last_read_seq"), deleted__isnull=True
    ).exclude(user_id=OuterRef("user_id"))
    mentioned = Mention.objects.filter(
        user_id=OuterRef("user_id"),
        room_id=OuterRef("room_id"),
        seq__gt=OuterRef("last_read_seq"),
        message__deleted__isnull=True,
    )
    return memberships.select_related("room").annotate(
        unread_all=_count(unread), mentioned=_count(mentioned)
    )


def _room_entry(membership: Membership) -> dict:
    """A `rooms` entry (docs/protocol.md, "hello"): the counts as the member's level has them."""
    room = membership.room
    unread, mentions = membership.unread_all, membership.mentioned
    if membership.level == Membership.Level.MENTIONS:
        unread = mentions
    elif membership.level == Membership.Level.NOTHING:
        unread = mentions = 0
    return {
        "name": room.name,
        "title": room.display_title,
        "kind": room.kind,
        "unread": unread,
        "mentions": mentions,
        "last_seq": room.last_seq,
        "last_read_seq": membership.last_read_seq,
        "level": membership.level,
    }


def rooms_for_many(user_ids: Collection[int]) -> dict[int, list[dict]]:
    """Each user's rooms with their unread and mention counts, by name, in one query."""
    found: dict[int, list[dict]] = {user_id: [] for user_id in user_ids}
    memberships = Membership.objects.filter(user_id__in=list(user_ids)).order_by("room__name")
    for membership in _memberships_with_counts(memberships):
        found[membership.user_id].append(_room_entry(membership))
    _name_direct_rooms(found)
    return found


def _name_direct_rooms(found: dict[int, list[dict]]) -> None:
    """Give each direct room (of no title of its own) the other person's name as its title, and
    `peer` {id, username, online}: one query for the names and one for presence, only if any."""
    pending: list[tuple[dict, int]] = []
    for user_id, entries in found.items():
        for entry in entries:
            if entry["kind"] != Room.Kind.DIRECT:
                continue
            low, _, high = entry["name"].removeprefix("dm-").partition("-")
            if low.isdigit() and high.isdigit():
                pending.append((entry, int(high) if int(low) == user_id else int(low)))
    if not pending:
        return
    peer_ids = {peer_id for _, peer_id in pending}
    names = dict(get_user_model().objects.filter(pk__in=peer_ids).values_list("pk", "username"))
    online = presence.open_socket_counts(peer_ids)
    for entry, peer_id in pending:
        username = names.get(peer_id)
        if username is None:
            continue
        if entry["title"] == entry["name"]:
            # Kept off the row: the title differs for each of the two.
            entry["title"] = username
        entry["peer"] = {"id": peer_id, "username": username, "online": peer_id in online}


@dataclass(frozen=True)
class Counted:
    """What the counts of `hello.rooms` already include of recent deletes and edits.

    `deleted`: ids of messages already left out; `edited`: message id -> the
    `edited` timestamp (as frames carry it) whose mentions were counted.
    """

    deleted: frozenset[int] = frozenset()
    edited: dict[int, str] = field(default_factory=dict)

    def includes(self, frame: dict) -> bool:
        """Whether an `activity_deleted` or `activity_edited` frame is already in the counts."""
        if frame.get("type") == "activity_deleted":
            return frame.get("id") in self.deleted
        if frame.get("type") == "activity_edited":
            counted = self.edited.get(frame.get("id"))
            return counted is not None and (frame.get("edited") or "") <= counted
        return False


def rooms_counted(
    user_ids: Collection[int], since: datetime
) -> tuple[dict[int, list[dict]], dict[int, Counted]]:
    """rooms_for_many, and which deletes and edits since `since` its counts include.

    Read in one snapshot, so an `activity_deleted` or `activity_edited` event of a
    change the counts already hold can be told from one of a later change.
    """
    with _one_snapshot():
        rooms = rooms_for_many(user_ids)
        rows = (
            Message.objects.filter(
                room__memberships__user_id__in=list(user_ids),
                seq__gt=F("room__memberships__last_read_seq"),
            )
            .filter(Q(deleted__gte=since) | Q(edited__gte=since))
            .order_by()
            .values_list("room__memberships__user_id", "id", "deleted", "edited")
        )
        deleted: dict[int, set[int]] = {user_id: set() for user_id in user_ids}
        edited: dict[int, dict[int, str]] = {user_id: {} for user_id in user_ids}
        for user_id, message_id, deleted_at, edited_at in rows:
            if deleted_at is not None:
                deleted[user_id].add(message_id)
            elif edited_at is not None:
                edited[user_id][message_id] = protocol.timestamp(edited_at)
    counted = {
        user_id: Counted(frozenset(deleted[user_id]), edited[user_id]) for user_id in user_ids
    }
    return rooms, counted


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """The queries inside see the database as of one moment (SQLite's transactions always do;
    PostgreSQL's default, read committed, takes a snapshot per statement)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def rooms_for(user) -> list[dict]:
    """The user's rooms with their counts (the objects of `hello.rooms` and /api/rooms/)."""
    return rooms_for_many([user.pk])[user.pk]


def room_entry(user_id: int, room_id: int) -> dict | None:
    """One room's entry for one member (None if not a member), in one query."""
    memberships = Membership.objects.filter(user_id=user_id, room_id=room_id)
    membership = _memberships_with_counts(memberships).first()
    if membership is None:
        return None
    found = {user_id: [_room_entry(membership)]}
    _name_direct_rooms(found)
    return found[user_id][0]


def member_room_ids(user_ids: Collection[int]) -> dict[int, set[int]]:
    """The ids of the rooms each user is a member of."""
    found: dict[int, set[int]] = {user_id: set() for user_id in user_ids}
    rows = Membership.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "room_id")
    for user_id, room_id in rows:
        found[user_id].add(room_id)
    return found


def member_names(room: Room, limit: int = 1000) -> list[dict]:
    """The room's active members as ``{id, username}``, by username (for `@` completion)."""
    rows = (
        Membership.objects.filter(room=room, user__is_active=True)
        .order_by("user__username")
        .values_list("user_id", "user__username")[:limit]
    )
    return [{"id": user_id, "username": username} for user_id, username in rows]
