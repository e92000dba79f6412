"""The life of a message: sent (in batches), edited, deleted; broadcast after commit."""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from accounts import services as accounts
from chat import formatting, protocol, selectors
from chat.models import Message, Room
from chat.services.direct import direct_peer_ids
from chat.services.errors import ChatError, settle
from chat.services.limits import send_bucket
from chat.services.moderation import is_moderator, is_room_moderator, log_action
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


def clean_body(body: str, client_id: str | None = None) -> str:
    """Normalise a message body, or raise empty / too_long / bad_request."""
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
    if not body:
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
    user, room: Room, client_id: str | None, last: datetime | None, moderates: bool
) -> None:
    """One message per slow_mode_seconds, `last` being the user's previous one in the room."""
    if not room.slow_mode_seconds or last is None or moderates:
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


def send_message(
    *, user, room: Room, body: str, client_id: str | None = None, reply_to: int | None = None
) -> SendResult:
    """Store a message (seq assigned in the same transaction) and broadcast it after commit.

    A repeated (user, room, client_id) stores nothing and returns the original.
    """
    (outcome,) = send_messages([SendRequest(user, room, body, client_id, reply_to)])
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
            bodies[index] = clean_body(request.body, request.client_id)
        except ChatError as error:
            outcomes[index] = error
    if bodies:
        try:
            with transaction.atomic():
                created = _store(requests, bodies, outcomes)
                broadcasts = [
                    room_frame(
                        message.room_id, protocol.message_frame(protocol.message_payload(message))
                    )
                    for message in created
                ]
                # In seq order per room; clients repair any gap by seq all the same.
                transaction.on_commit(lambda: events.publish(*broadcasts))
        except IntegrityError:
            # Rooms are locked, so a twin cannot slip in; if one did, judge each alone.
            if len(bodies) > 1:
                for index in bodies:
                    outcomes[index] = send_messages([requests[index]])[0]
            else:
                (index,) = bodies
                outcomes[index] = _original(requests[index])
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
    muted = selectors.muted_pairs({(r.user.pk, r.room.pk) for r in wanted})
    blocked = _blocked_in_direct_rooms(rooms, wanted)
    moderating = _moderating(rooms, wanted)
    originals = _originals({r.reply_to for r in wanted if r.reply_to is not None})
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
        if client_id is not None and key in resends:
            outcomes[index] = SendResult(message=resends[key], created=False)
            continue
        original = originals.get(request.reply_to)
        try:
            if request.reply_to is not None and (original is None or original.room_id != room.pk):
                raise ChatError("not_found", "No such message to reply to.", client_id=client_id)
            if (user.pk, room.pk) in blocked:
                raise ChatError("forbidden", "You cannot do that.", client_id=client_id)
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
        room.last_seq += 1
        room.last_activity = now
        rendered = render(body, room.pk)
        message = Message(
            room=room,
            user=user,
            seq=room.last_seq,
            body=body,
            html=rendered.html,
            text=rendered.text,
            mentions=rendered.mentions,
            reply_to=original,
            created=now,
            client_id=client_id,
        )
        stored.append(message)
        outcomes[index] = SendResult(message=message, created=True)
        last_sent[user.pk, room.pk] = now
        if client_id is not None:
            resends[key] = message
    if stored:
        Message.objects.bulk_create(stored)
        for room in {message.room_id: message.room for message in stored}.values():
            Room.objects.filter(pk=room.pk).update(last_seq=room.last_seq, last_activity=now)
    return stored


def _moderating(rooms: dict[int, Room], requests: list[SendRequest]) -> set[tuple[int, int]]:
    """(user id, room id) of senders who moderate a locked or slow room they send to (one query).

    Only those rooms ask: elsewhere whether one moderates changes nothing.
    """
    strict = {pk for pk, room in rooms.items() if room.locked or room.slow_mode_seconds}
    pairs = {(r.user.pk, r.room.pk) for r in requests if r.room.pk in strict}
    if not pairs:
        return set()
    site = {
        (user_id, room_id) for user_id, room_id in pairs if _is_site_moderator(requests, user_id)
    }
    return site | selectors.room_moderator_pairs(pairs - site)


def _is_site_moderator(requests: list[SendRequest], user_id: int) -> bool:
    return any(r.user.pk == user_id and is_moderator(r.user) for r in requests)


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


def _original(request: SendRequest) -> SendResult:
    """After a unique-constraint clash: the stored twin of this send."""
    return SendResult(
        message=Message.objects.select_related("user", "room", "reply_to__user").get(
            room=request.room, user=request.user, client_id=request.client_id
        ),
        created=False,
    )


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
    body = clean_body(body)
    with transaction.atomic():
        room = Room.objects.get(pk=room.pk)
        message = _own_visible_message(room, message_id)
        if message.user_id != user.id:
            raise ChatError("forbidden", "You can only edit your own messages.")
        check_may_write(user, room, None, muted=bool(selectors.muted_pairs({(user.pk, room.pk)})))
        _take_send_token(user, None)
        rendered = render(body, room.pk)
        message.body, message.html, message.text = body, rendered.html, rendered.text
        message.mentions = rendered.mentions
        message.edited = clock.utcnow()
        message.save(update_fields=["body", "html", "text", "mentions", "edited"])
        reactions = selectors.reactions_by_message([message.pk]).get(message.pk)
        payload = protocol.message_payload(message, reactions)
        event = room_frame(room.id, protocol.message_edited_frame(payload))
        transaction.on_commit(lambda: events.publish(event))
    return message


def delete_message(*, actor, room: Room, message_id: int) -> Message:
    """Hide a message (one's own, or any for a moderator) and broadcast `message_deleted`."""
    with transaction.atomic():
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
    transaction.on_commit(lambda: events.publish(event))


def room_frame(room_id: int, frame: dict, *, except_user: int | None = None) -> events.RoomFrame:
    """The event carrying a frame to every socket in a room, encoded once here for all."""
    return events.RoomFrame(room=room_id, text=protocol.encode(frame), except_user=except_user)
