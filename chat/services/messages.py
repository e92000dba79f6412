"""Sending messages: judged, numbered and stored in batches, broadcast after commit.

The rules every write obeys (clean bodies, locks and mutes, slow mode, the send
rate, rendering) are in ``writing``; edits and deletes in ``editing``.
"""

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from accounts import services as accounts
from chat import protocol, selectors
from chat.models import Attachment, Message, Room
from chat.services.direct import direct_peer_ids
from chat.services.errors import ChatError, settle
from chat.services.moderation import ban_error, is_moderator
from chat.services.reads import activity_event, advance_senders, record_mentions
from chat.services.writing import (
    check_may_write,
    check_slow_mode,
    clean_body,
    render,
    room_frame,
    take_send_token,
)
from jabber import clock, events


@dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool


@dataclass(frozen=True)
class SendRequest:
    user: Any
    room: Room
    body: str
    client_id: str | None = None
    reply_to: int | None = None
    # Ids of the sender's unused uploads in the room (files.views made them).
    attachments: tuple[int, ...] = ()


def send_message(
    *,
    user,
    room: Room,
    body: str,
    client_id: str | None = None,
    reply_to: int | None = None,
    attachments: Sequence[int] = (),
) -> SendResult:
    """Store a message (seq assigned in the same transaction) and broadcast it after commit.

    A repeated (user, room, client_id) stores nothing and returns the original.
    """
    request = SendRequest(user, room, body, client_id, reply_to, tuple(attachments))
    (outcome,) = send_messages([request])
    return settle(outcome)


def send_messages(requests: Sequence[SendRequest]) -> list[SendResult | ChatError]:
    """Judge and store several sends in one transaction, in order; broadcast after commit.

    Each outcome is the SendResult of its request, or the ChatError that refused
    it (nothing of it stored): one refusal costs the others nothing. The queries
    are per call, not per message (rooms locked, mutes and resends looked up,
    messages inserted, each at once), so a busy process that hands its pending
    sends over together stores them for little more than the price of one.
    """
    outcomes: list[SendResult | ChatError | None] = [None] * len(requests)
    bodies: dict[int, str] = {}
    for index, request in enumerate(requests):
        try:
            bodies[index] = clean_body(
                request.body, request.client_id, allow_empty=bool(request.attachments)
            )
        except ChatError as error:
            outcomes[index] = error
    if bodies:
        try:
            with transaction.atomic():
                created = _store(requests, bodies, outcomes)
                files = (
                    selectors.attachments_by_message([m.pk for m in created])
                    if any(requests[index].attachments for index in bodies)
                    else {}
                )
                broadcasts = [
                    room_frame(
                        message.room_id,
                        protocol.message_frame(
                            protocol.message_payload(message, None, files.get(message.pk))
                        ),
                    )
                    for message in created
                ]
                if created:
                    broadcasts.append(activity_event(created))
                # In seq order per room; clients repair any gap by seq all the same.
                transaction.on_commit(lambda: events.publish(*broadcasts))
        except IntegrityError:
            # Rooms are locked, so a twin cannot slip in; if one did, judge each alone.
            if len(bodies) > 1:
                for index in bodies:
                    outcomes[index] = send_messages([requests[index]])[0]
            else:
                (index,) = bodies
                outcomes[index] = _original(requests[index]) or _retry_once(requests[index])
    return outcomes  # type: ignore[return-value]


def _store(
    requests: Sequence[SendRequest], bodies: dict[int, str], outcomes: list
) -> list[Message]:
    """The body of send_messages' transaction: fills `outcomes`, returns what it stored."""
    wanted = [requests[index] for index in bodies]
    # The row locks serialise writers per room, so seq has no holes and no twins;
    # taken in pk order, two processes' batches cannot deadlock.
    rooms = {
        room.pk: room
        for room in Room.objects.select_for_update()
        .filter(pk__in={r.room.pk for r in wanted})
        .order_by("pk")
    }
    resends = _resends(wanted)
    pairs = {(r.user.pk, r.room.pk) for r in wanted}
    # The ban's closing event may have been lost: refuse here all the same (SPEC §15).
    restrictions = selectors.restrictions_in_force(pairs)
    bans, muted = restrictions.bans, restrictions.muted
    blocked = _blocked_in_direct_rooms(rooms, wanted)
    moderating = _moderating(rooms, wanted)
    originals = _originals({r.reply_to for r in wanted if r.reply_to is not None})
    uploads = _unused_uploads({i for r in wanted for i in r.attachments})
    claimed: dict[int, list[int]] = {}  # index in `stored` -> upload ids
    last_sent: dict[tuple[int, int], datetime] = {}
    now = clock.utcnow()
    stored: list[Message] = []
    for index, body in bodies.items():
        request = requests[index]
        user, client_id = request.user, request.client_id
        room = rooms.get(request.room.pk)
        key = (request.room.pk, user.pk, client_id)
        if room is None:
            outcomes[index] = ChatError("not_found", "No such room.", client_id=client_id)
            continue
        if (user.pk, room.pk) in bans:
            outcomes[index] = ban_error(bans[user.pk, room.pk], client_id=client_id)
            continue
        if client_id is not None and key in resends:
            outcomes[index] = SendResult(message=resends[key], created=False)
            continue
        original = originals.get(request.reply_to)
        try:
            if request.reply_to is not None and (original is None or original.room_id != room.pk):
                raise ChatError("not_found", "No such message to reply to.", client_id=client_id)
            if (user.pk, room.pk) in blocked:
                raise ChatError("forbidden", "You cannot do that.", client_id=client_id)
            _check_uploads(request, uploads, client_id)
            moderates = (user.pk, room.pk) in moderating
            check_may_write(
                user, room, client_id, muted=(user.pk, room.pk) in muted, moderates=moderates
            )
            if room.slow_mode_seconds and (user.pk, room.pk) not in last_sent:
                last_sent[user.pk, room.pk] = selectors.last_message_time(user.pk, room)
            check_slow_mode(user, room, client_id, last_sent.get((user.pk, room.pk)), moderates)
            take_send_token(user, client_id)
        except ChatError as error:
            outcomes[index] = error
            continue
        room.last_activity = now
        rendered = render(body, room.pk)
        # Numbered below, from the counter in the database.
        message = Message(
            room=room,
            user=user,
            seq=0,
            body=body,
            html=rendered.html,
            text=rendered.text,
            mentions=rendered.mentions,
            reply_to=original,
            created=now,
            client_id=client_id,
        )
        if request.attachments:
            claimed[len(stored)] = list(request.attachments)
            for upload_id in request.attachments:
                del uploads[upload_id]  # one message per upload, within a batch too
        stored.append(message)
        outcomes[index] = SendResult(message=message, created=True)
        last_sent[user.pk, room.pk] = now
        if client_id is not None:
            resends[key] = message
    if stored:
        _number(stored, now)
        Message.objects.bulk_create(stored)
        for position, upload_ids in claimed.items():
            Attachment.objects.filter(pk__in=upload_ids).update(message=stored[position])
        record_mentions(stored)
        advance_senders(stored)
    return stored


def _moderating(rooms: dict[int, Room], requests: list[SendRequest]) -> set[tuple[int, int]]:
    """(user id, room id) of senders who moderate a locked or slow room they send to (one query).

    Only those rooms ask: elsewhere whether one moderates changes nothing.
    """
    strict = {pk for pk, room in rooms.items() if room.locked or room.slow_mode_seconds}
    pairs = {(r.user.pk, r.room.pk) for r in requests if r.room.pk in strict}
    if not pairs:
        return set()
    site = {(r.user.pk, r.room.pk) for r in requests if (r.user.pk, r.room.pk) in pairs}
    site = {pair for pair in site if _moderates_everywhere(requests, pair[0])}
    return site | selectors.room_moderator_pairs(pairs - site)


def _moderates_everywhere(requests: list[SendRequest], user_id: int) -> bool:
    """Whether the sender is of the Moderators group (asked once per sender of a strict room)."""
    user = next(r.user for r in requests if r.user.pk == user_id)
    return is_moderator(user)


def _blocked_in_direct_rooms(
    rooms: dict[int, Room], requests: list[SendRequest]
) -> set[tuple[int, int]]:
    """(sender id, room id) of sends into direct rooms whose other person blocks the sender."""
    peers = direct_peer_ids(
        {pk: room.name for pk, room in rooms.items() if room.kind == Room.Kind.DIRECT}
    )
    # The other person of each send: whichever of the room's two is not the sender.
    wanted = {
        (sum(peers[r.room.pk]) - r.user.pk, r.user.pk, r.room.pk)
        for r in requests
        if r.room.pk in peers
    }
    blocks = accounts.blocked_pairs({(other, sender) for other, sender, _ in wanted})
    return {(sender, room_id) for other, sender, room_id in wanted if (other, sender) in blocks}


def _originals(message_ids: set[int]) -> dict[int, Message]:
    """The visible messages that sends of a batch reply to, by id."""
    if not message_ids:
        return {}
    found = Message.objects.filter(pk__in=message_ids, deleted__isnull=True)
    return {message.pk: message for message in found.select_related("user")}


def _number(stored: list[Message], now: datetime) -> None:
    """Give each message the next seq of its room, and store the rooms' counters (one statement).

    The rooms were read under their row locks (SQLite: under the write lock the
    transaction took), so their counters are current; a counter that something
    moved back anyway clashes on (room, seq) and is repaired before the retry.
    """
    rooms: dict[int, Room] = {}
    for message in stored:
        room = rooms.setdefault(message.room_id, message.room)
        room.last_seq += 1
        message.seq = room.last_seq
    when = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        # Raw and batched: the send path's hottest write, one statement per call.
        cursor.executemany(
            f"UPDATE {Room._meta.db_table} SET last_seq = %s, last_activity = %s WHERE id = %s",
            [(room.last_seq, when, room.pk) for room in rooms.values()],
        )


def _repair_counter(room_id: int) -> None:
    """Move a room's counter up to its highest stored seq (after a clash on the numbering)."""
    highest = Message.objects.filter(room_id=room_id).order_by("-seq").values("seq")[:1]
    Room.objects.filter(pk=room_id).update(
        last_seq=Greatest(F("last_seq"), Coalesce(Subquery(highest), Value(0)))
    )


def _unused_uploads(upload_ids: set[int]) -> dict[int, Attachment]:
    """The uploads of a batch's `attachments` that no message carries yet, by id.

    Sends in a room are serialised by its row lock, so two cannot claim one upload.
    """
    if not upload_ids:
        return {}
    found = Attachment.objects.filter(pk__in=upload_ids, message__isnull=True)
    return {upload.pk: upload for upload in found.only("id", "uploader_id", "room_id")}


def _check_uploads(request: SendRequest, uploads: dict[int, Attachment], client_id) -> None:
    """Refuse a send whose attachments are not all the sender's unused uploads in the room."""
    for upload_id in request.attachments:
        upload = uploads.get(upload_id)
        if upload is None or (upload.uploader_id, upload.room_id) != (
            request.user.pk,
            request.room.pk,
        ):
            raise ChatError(
                "not_found", f"No unused upload {upload_id} of yours here.", client_id=client_id
            )


def _resends(requests: list[SendRequest]) -> dict[tuple, Message]:
    """The stored originals of requests whose (room, user, client_id) was sent before."""
    keys = {(r.room.pk, r.user.pk, r.client_id) for r in requests if r.client_id is not None}
    if not keys:
        return {}
    candidates = Message.objects.filter(
        room_id__in={key[0] for key in keys},
        user_id__in={key[1] for key in keys},
        client_id__in={key[2] for key in keys},
    )
    # A cheap probe first: nearly every send carries a client_id, few are resends.
    if not candidates.exists():
        return {}
    found = {
        (m.room_id, m.user_id, m.client_id): m
        for m in candidates.select_related("user", "room", "reply_to__user")
    }
    return {key: message for key, message in found.items() if key in keys}


def _original(request: SendRequest) -> SendResult | None:
    """After a unique-constraint clash: the stored twin of this send, if it is a resend.

    None when there is none: the clash was on the room's numbering, which is
    never taken for a resend.
    """
    if request.client_id is None:
        return None
    twin = (
        Message.objects.select_related("user", "room", "reply_to__user")
        .filter(room=request.room, user=request.user, client_id=request.client_id)
        .first()
    )
    return None if twin is None else SendResult(message=twin, created=False)


_retrying = threading.local()


def _retry_once(request: SendRequest) -> SendResult | ChatError:
    """A send whose seq clashed: numbered afresh once, else refused for a moment."""
    if getattr(_retrying, "active", False):
        return ChatError(
            "rate_limited",
            "The room is busy: try again.",
            retry_after=1.0,
            client_id=request.client_id,
        )
    _retrying.active = True
    try:
        _repair_counter(request.room.pk)
        return send_messages([request])[0]
    finally:
        _retrying.active = False
