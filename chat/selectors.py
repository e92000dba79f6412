"""Read-only queries: history pages, the lobby, restrictions in force."""

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower

from chat import protocol
from chat.models import (
    Attachment,
    Ban,
    Membership,
    Mention,
    Message,
    Mute,
    Reaction,
    Room,
)
from jabber import clock
from presence import services as presence


def _visible(room: Room) -> QuerySet[Message]:
    return Message.objects.filter(room=room, deleted__isnull=True)


def _payloads(queryset: QuerySet[Message]) -> list[dict]:
    # Rows, not model instances: a hello builds up to 1000 of these per socket.
    rows = list(queryset.values_list(*protocol.MESSAGE_ROW))
    ids = [row[0] for row in rows]
    reactions = reactions_by_message(ids)
    attachments = attachments_by_message(ids)
    return [
        protocol.message_payload_row(row, reactions.get(row[0]), attachments.get(row[0]))
        for row in rows
    ]


def attachments_by_message(message_ids: list[int]) -> dict[int, list[dict]]:
    """MESSAGE `attachments` of each of the messages that has any, in one query."""
    if not message_ids:
        return {}
    found: dict[int, list[dict]] = {}
    rows = (
        Attachment.objects.filter(message_id__in=message_ids)
        .order_by("id")
        .values_list("message_id", *protocol.ATTACHMENT_ROW)
    )
    for message_id, *row in rows:
        found.setdefault(message_id, []).append(protocol.attachment_payload_row(tuple(row)))
    return found


def reactions_by_message(message_ids: list[int]) -> dict[int, list[dict]]:
    """MESSAGE `reactions` of each of the messages that has any, in one query."""
    if not message_ids:
        return {}
    rows: dict[int, list[tuple[str, int]]] = {}
    found = Reaction.objects.filter(message_id__in=message_ids).order_by("id")
    for message_id, emoji, user_id in found.values_list("message_id", "emoji", "user_id"):
        rows.setdefault(message_id, []).append((emoji, user_id))
    return {message_id: protocol.reactions_payload(pairs) for message_id, pairs in rows.items()}


def message_payload(message_id: int) -> dict:
    """The MESSAGE object of one message, as the socket sends it."""
    (payload,) = _payloads(Message.objects.filter(pk=message_id))
    return payload


def latest_messages(room: Room, limit: int | None = None) -> tuple[list[dict], bool]:
    """MESSAGE objects of the last `limit` visible messages, oldest first, and whether older
    ones exist."""
    return payloads_before(room, None, limit or settings.JABBER_HISTORY_PAGE)


def payloads_around(room: Room, around: int, limit: int) -> tuple[list[dict], bool, bool]:
    """MESSAGE objects of up to `limit` visible messages centred on id `around`, oldest first,
    and whether older and newer ones exist beyond them."""
    newer_count = (limit - 1) // 2
    older, more_before = _before(room, around + 1, limit - newer_count, _payloads)
    newer, more_after = payloads_after(room, around, newer_count) if newer_count else ([], False)
    if not newer_count:
        more_after = _visible(room).filter(id__gt=around).exists()
    return older + newer, more_before, more_after


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


def payloads_before(room: Room, before: int | None, limit: int) -> tuple[list[dict], bool]:
    """MESSAGE objects of the visible messages with id < before (all when None), newest
    `limit`, oldest first, and whether older ones exist."""
    return _before(room, before, limit, _payloads)


def payloads_after(room: Room, after: int, limit: int) -> tuple[list[dict], bool]:
    """MESSAGE objects of the first `limit` visible messages with id > after, oldest first."""
    page = _payloads(_visible(room).filter(id__gt=after).order_by("id")[: limit + 1])
    return page[:limit], len(page) > limit


def history_page(
    room: Room, *, before: int | None, after: int | None, limit: int
) -> tuple[list[dict], bool]:
    """A `history` answer: up to `limit` messages before or after an id, within one frame.

    A page too big for one frame is cut to the part nearest the cursor, and
    `has_more` says there is more.
    """
    if after is not None:
        messages, has_more = payloads_after(room, after, limit)
    else:
        messages, has_more = payloads_before(room, before, limit)
    chunks = protocol.split_to_fit(messages)
    if len(chunks) > 1:
        return (chunks[0] if after is not None else chunks[-1]), True
    return chunks[0], has_more


def history_around(room: Room, around: int, limit: int) -> tuple[list[dict], bool, bool]:
    """A `history` answer centred on id `around`, within one frame: the messages, and whether
    older and newer ones exist beyond them."""
    messages, more_before, more_after = payloads_around(room, around, limit)
    chunks = protocol.split_to_fit(messages)
    if len(chunks) == 1:
        return messages, more_before, more_after
    # Too big for one frame: the part holding (or nearest before) the message asked for.
    index = max(i for i, chunk in enumerate(chunks) if i == 0 or chunk[0]["id"] <= around)
    return chunks[index], more_before or index > 0, more_after or index < len(chunks) - 1


def any_before(room: Room, before: int) -> bool:
    """Whether a visible message with id < before exists."""
    return _visible(room).filter(id__lt=before).exists()


def _before(room: Room, before: int | None, limit: int, read: Callable) -> tuple[list, bool]:
    queryset = _visible(room)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    page = read(queryset.order_by("-id")[: limit + 1])
    return page[:limit][::-1], len(page) > limit


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


# Rooms you belong to ----------------------------------------------------------


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
