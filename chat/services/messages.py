"""The life of a message: sent (in batches), edited, deleted; broadcast after commit."""

import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from accounts import services as accounts
from chat import formatting, protocol, selectors
from chat.models import Attachment, Message, Room
from chat.services.direct import direct_peer_ids
from chat.services.enforcement import check_not_banned
from chat.services.errors import ChatError, settle
from chat.services.limits import send_bucket
from chat.services.moderation import ban_error, is_moderator, is_room_moderator, log_action
from chat.services.reads import (
    activity_event,
    advance_senders,
    deleted_activity_event,
    edited_activity_event,
    record_mentions,
    rewrite_mentions,
)
from jabber import clock, events

# Characters that make text lie about itself: bidi overrides and isolates, and
# invisible zero-width marks. ZWJ and ZWNJ stay (emoji sequences, Persian).
_STRIPPED = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x2060, 0xFEFF, 0x00AD]
)


@dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool


def clean_body(body: str, client_id: str | None = None, *, allow_empty: bool = False) -> str:
    """Normalise a message body, or raise empty / too_long / bad_request.

    `allow_empty`: a message carrying attachments may have no text.
    """
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        raise ChatError("bad_request", "body is not valid Unicode.", client_id=client_id) from None
    body = unicodedata.normalize("NFC", body).translate(_STRIPPED)
    # Control characters other than newline and tab never belong in chat text.
    body = "".join(
        char for char in body if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cs")
    )
    body = body.strip()
    if not body and not allow_empty:
        raise ChatError("empty", "The message is empty.", client_id=client_id)
    if len(body) > settings.JABBER_MAX_BODY:
        raise ChatError(
            "too_long",
            f"Messages are at most {settings.JABBER_MAX_BODY} characters.",
            client_id=client_id,
        )
    return body


def check_may_write(
    user, room: Room, client_id: str | None, *, muted: bool, moderates: bool | None = None
) -> None:
    """Refuse a write in a locked room (but from its moderators) or from a muted user.

    `moderates`: whether the user moderates the room, if the caller knows (a batch does).
    """
    if room.locked and not (is_room_moderator(user, room) if moderates is None else moderates):
        raise ChatError("room_locked", "This room is read-only.", client_id=client_id)
    if muted:
        raise ChatError("muted", "You are muted in this room.", client_id=client_id)


def _check_slow_mode(
    user, room: Room, client_id: str | None, last: datetime | None, moderates: bool | None = None
) -> None:
    """One message per slow_mode_seconds, `last` being the user's previous one in the room."""
    if not room.slow_mode_seconds or last is None:
        return
    if is_room_moderator(user, room) if moderates is None else moderates:
        return
    elapsed = (clock.utcnow() - last).total_seconds()
    if elapsed < room.slow_mode_seconds:
        raise ChatError(
            "rate_limited",
            f"Slow mode: one message every {room.slow_mode_seconds} s.",
            retry_after=room.slow_mode_seconds - elapsed,
            client_id=client_id,
        )


def _take_send_token(user, client_id: str | None) -> None:
    wait = send_bucket().take(user.id)
    if wait:
        raise ChatError(
            "rate_limited", "You are sending too fast.", retry_after=wait, client_id=client_id
        )


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
            _check_slow_mode(user, room, client_id, last_sent.get((user.pk, room.pk)), moderates)
            _take_send_token(user, client_id)
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


def render(body: str, room_id: int) -> formatting.Rendered:
    """A body's HTML, plain text and mentions (of the room's active members), made once."""
    return formatting.render(body, lambda names: selectors.member_ids_by_name(room_id, names))


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


def _own_visible_message(room: Room, message_id: int) -> Message:
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("user", "room", "reply_to__user")
        .filter(pk=message_id, room=room, deleted__isnull=True)
        .first()
    )
    if message is None:
        raise ChatError("not_found", "No such message in this room.")
    return message


def edit_message(*, user, room: Room, message_id: int, body: str) -> Message:
    """Change the body of one's own message and broadcast `message_edited`."""
    body = clean_body(body, allow_empty=True)
    with transaction.atomic():
        room = Room.objects.get(pk=room.pk)
        check_not_banned(user.pk, room.pk)
        message = _own_visible_message(room, message_id)
        if message.user_id != user.id:
            raise ChatError("forbidden", "You can only edit your own messages.")
        if not body and not message.attachments.exists():
            raise ChatError("empty", "The message is empty.")
        check_may_write(user, room, None, muted=bool(selectors.muted_pairs({(user.pk, room.pk)})))
        # An edit is a write too: slow mode counts it, or edits would post around it.
        last = selectors.last_write_time(user.pk, room) if room.slow_mode_seconds else None
        _check_slow_mode(user, room, None, last)
        _take_send_token(user, None)
        rendered = render(body, room.pk)
        previous_mentions = list(message.mentions or ())
        message.body, message.html, message.text = body, rendered.html, rendered.text
        message.mentions = rendered.mentions
        message.edited = clock.utcnow()
        message.save(update_fields=["body", "html", "text", "mentions", "edited"])
        rewrite_mentions(message)
        reactions = selectors.reactions_by_message([message.pk]).get(message.pk)
        files = selectors.attachments_by_message([message.pk]).get(message.pk)
        payload = protocol.message_payload(message, reactions, files)
        broadcasts = [room_frame(room.id, protocol.message_edited_frame(payload))]
        # Members elsewhere count mentions: they hear of an edit only when those changed.
        if set(previous_mentions) != set(message.mentions):
            broadcasts.append(edited_activity_event(message, previous_mentions))
        transaction.on_commit(lambda: events.publish(*broadcasts))
    return message


def delete_message(*, actor, room: Room, message_id: int) -> Message:
    """Hide a message (one's own, or any for a moderator) and broadcast `message_deleted`."""
    with transaction.atomic():
        check_not_banned(actor.pk, room.pk)
        message = _own_visible_message(room, message_id)
        if message.user_id != actor.id and not is_room_moderator(actor, room):
            raise ChatError("forbidden", "You can only delete your own messages.")
        _hide(message, actor)
    return message


def delete_messages(*, actor, messages: QuerySet[Message]) -> int:
    """Hide many messages at once (the admin action); each room hears of each one."""
    count = 0
    with transaction.atomic():
        for message in (
            messages.select_for_update().select_related("room").filter(deleted__isnull=True)
        ):
            _hide(message, actor)
            count += 1
    return count


def _hide(message: Message, actor) -> None:
    message.deleted = clock.utcnow()
    message.deleted_by = actor
    message.save(update_fields=["deleted", "deleted_by"])
    if message.user_id != actor.id:
        log_action(actor, message, "Deleted (hidden) message.")
    event = room_frame(message.room_id, protocol.message_deleted_frame(message.pk))
    activity = deleted_activity_event(message)
    transaction.on_commit(lambda: events.publish(event, activity))


def room_frame(room_id: int, frame: dict, *, except_user: int | None = None) -> events.RoomFrame:
    """The event carrying a frame to every socket in a room, encoded once here for all."""
    return events.RoomFrame(room=room_id, text=protocol.encode(frame), except_user=except_user)
