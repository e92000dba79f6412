"""Every state change of the chat, in one place, called by the consumer, admin and tests."""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from accounts.services import CLOSE_FORBIDDEN, close_sockets
from chat import events, protocol, selectors
from chat.models import ROOM_NAME_RE, Ban, Message, Mute, Room
from jabber import clock
from jabber.ratelimit import Bucket
from presence import services as presence

MODERATE_PERMISSION = "chat.moderate_room"

# Characters that make text lie about itself: bidi overrides and isolates, and
# invisible zero-width marks. ZWJ and ZWNJ stay (emoji sequences, Persian).
_STRIPPED = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x2060, 0xFEFF, 0x00AD]
)


class ChatError(Exception):
    """A rule said no; `code` is the error code sent to the client (docs/protocol.md)."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        retry_after: float | None = None,
        client_id: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        self.client_id = client_id

    def frame(self) -> dict:
        return protocol.error_frame(self.code, self.detail, self.client_id, self.retry_after)


def settle(outcome: Any) -> Any:
    """One outcome of a batch call, as a single call has it: returned, or raised if refused."""
    if isinstance(outcome, ChatError):
        raise outcome
    return outcome


@dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool


@dataclass(frozen=True)
class Admission:
    """What a new socket learns at the door."""

    room: Room
    ban: Ban | None


def send_bucket() -> Bucket:
    return Bucket("send", settings.JABBER_RATE_BURST, settings.JABBER_RATE_PER_SECOND)


def join_bucket() -> Bucket:
    return Bucket("join", settings.JABBER_JOIN_BURST, settings.JABBER_JOIN_PER_SECOND)


def is_moderator(user) -> bool:
    return bool(user.is_active and user.is_staff and user.has_perm(MODERATE_PERMISSION))


# Rooms ----------------------------------------------------------------------


def get_or_create_room(name: str) -> Room:
    """The room of that name, created on first visit; raises not_found for a bad name."""
    if not ROOM_NAME_RE.fullmatch(name):
        raise ChatError("not_found", "No such room.")
    room, _ = Room.objects.get_or_create(name=name)
    return room


def admit(user, room_name: str) -> Admission:
    """Decide whether a socket may open: refuse over the caps, report a ban."""
    (outcome,) = admit_many([(user, room_name)])
    return settle(outcome)


def admit_many(requests: Sequence[tuple[Any, str]]) -> list[Admission | ChatError]:
    """admit() for several sockets (user, room name), with the queries done once for all."""
    open_sockets = presence.open_socket_counts({user.pk for user, _ in requests})
    rooms: dict[str, Room] = {}
    for _, name in requests:
        if name not in rooms and ROOM_NAME_RE.fullmatch(name):
            rooms[name] = get_or_create_room(name)
    bans = selectors.active_bans(
        {(user.pk, rooms[name].pk) for user, name in requests if name in rooms}
    )
    outcomes: list[Admission | ChatError] = []
    for user, name in requests:
        if open_sockets.get(user.pk, 0) >= settings.JABBER_MAX_SOCKETS_PER_USER:
            outcomes.append(ChatError("forbidden", "Too many open connections."))
            continue
        room = rooms.get(name)
        if room is None:
            outcomes.append(ChatError("not_found", "No such room."))
            continue
        ban = bans.get((user.pk, room.pk))
        if ban is None:
            wait = join_bucket().take(user.pk)
            if wait:
                outcomes.append(ChatError("rate_limited", "Joining too often.", retry_after=wait))
                continue
            open_sockets[user.pk] = open_sockets.get(user.pk, 0) + 1
        outcomes.append(Admission(room=room, ban=ban))
    return outcomes


@dataclass(frozen=True)
class OpenRequest:
    """A socket admitted to a room, already subscribed to it, about to say hello."""

    key: str
    user: Any
    room: Room
    after: int | None
    hub_channel: str


@dataclass(frozen=True)
class Opened:
    frames: list[str]  # the hello, then history frames for a replay too big for one
    online: list[dict]
    changed: bool  # the room's online list changed: announce it


def open_sockets(requests: Sequence[OpenRequest]) -> list[Opened]:
    """Register presence and build each socket's hello, reading each room once per batch.

    Sockets of one room that resume from the same id share their replay; each
    room's online list is read once, after every socket of the batch is in it.
    """
    changes = presence.join_many([(r.key, r.user.pk, r.room.pk, r.hub_channel) for r in requests])
    replays: dict[tuple[int, int | None], tuple[list[list[dict]], bool, bool]] = {}
    onlines: dict[int, list[dict]] = {}
    opened = []
    for request, changed in zip(requests, changes, strict=True):
        room = request.room
        if (room.pk, request.after) not in replays:
            replays[room.pk, request.after] = _replay(room, request.after)
        if room.pk not in onlines:
            onlines[room.pk] = presence.online(room.pk)
        chunks, has_more, gap = replays[room.pk, request.after]
        online = onlines[room.pk]
        hello = protocol.hello_frame(
            room=room.name,
            you=protocol.user_payload(request.user),
            online=online,
            messages=chunks[0],
            has_more=has_more,
            gap=gap,
        )
        # A replay too big for one frame continues as history frames, oldest first.
        sequels = [
            protocol.history_frame(chunk, has_more=index < len(chunks) - 1)
            for index, chunk in enumerate(chunks[1:], start=2)
        ]
        frames = [protocol.encode(frame) for frame in [hello, *sequels]]
        opened.append(Opened(frames=frames, online=online, changed=changed))
    return opened


def _replay(room: Room, after: int | None) -> tuple[list[list[dict]], bool, bool]:
    """A hello's messages, cut to fit frames: the last page, or those after an id."""
    if after is None:
        messages, has_more = selectors.payloads_before(room, None, settings.JABBER_HISTORY_PAGE)
        return protocol.split_to_fit(messages), has_more, False
    messages, gap = selectors.payloads_after(room, after, settings.JABBER_REPLAY_MAX)
    first = messages[0]["id"] if messages else after + 1
    return protocol.split_to_fit(messages), selectors.any_before(room, first), gap


# Messages -------------------------------------------------------------------


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


def _check_may_write(user, room: Room, client_id: str | None, *, muted: bool) -> None:
    if room.locked and not is_moderator(user):
        raise ChatError("room_locked", "This room is read-only.", client_id=client_id)
    if muted:
        raise ChatError("muted", "You are muted in this room.", client_id=client_id)


def _check_slow_mode(user, room: Room, client_id: str | None, last: datetime | None) -> None:
    """One message per slow_mode_seconds, `last` being the user's previous one in the room."""
    if not room.slow_mode_seconds or last is None or is_moderator(user):
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


def send_message(*, user, room: Room, body: str, client_id: str | None = None) -> SendResult:
    """Store a message (seq assigned in the same transaction) and broadcast it after commit.

    A repeated (user, room, client_id) stores nothing and returns the original.
    """
    (outcome,) = send_messages([SendRequest(user, room, body, client_id)])
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
                frames = [
                    (message.room_id, protocol.message_frame(protocol.message_payload(message)))
                    for message in created
                ]
                # In seq order per room; clients repair any gap by seq all the same.
                transaction.on_commit(lambda: events.publish_rooms_sync(frames))
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
        try:
            _check_may_write(user, room, client_id, muted=(user.pk, room.pk) in muted)
            if room.slow_mode_seconds and (user.pk, room.pk) not in last_sent:
                last_sent[user.pk, room.pk] = selectors.last_message_time(user.pk, room)
            _check_slow_mode(user, room, client_id, last_sent.get((user.pk, room.pk)))
            _take_send_token(user, client_id)
        except ChatError as error:
            outcomes[index] = error
            continue
        room.last_seq += 1
        room.last_activity = now
        message = Message(
            room=room, user=user, seq=room.last_seq, body=body, created=now, client_id=client_id
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
        (m.room_id, m.user_id, m.client_id): m for m in candidates.select_related("user", "room")
    }
    return {key: message for key, message in found.items() if key in keys}


def _original(request: SendRequest) -> SendResult:
    """After a unique-constraint clash: the stored twin of this send."""
    return SendResult(
        message=Message.objects.select_related("user", "room").get(
            room=request.room, user=request.user, client_id=request.client_id
        ),
        created=False,
    )


def _own_visible_message(room: Room, message_id: int) -> Message:
    message = (
        Message.objects.select_for_update()
        .select_related("user", "room")
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
        _check_may_write(user, room, None, muted=bool(selectors.muted_pairs({(user.pk, room.pk)})))
        _take_send_token(user, None)
        message.body = body
        message.edited = clock.utcnow()
        message.save(update_fields=["body", "edited"])
        payload = protocol.message_payload(message)
        transaction.on_commit(
            lambda: events.publish_room_sync(room.id, protocol.message_edited_frame(payload))
        )
    return message


def delete_message(*, actor, room: Room, message_id: int) -> Message:
    """Hide a message (one's own, or any for a moderator) and broadcast `message_deleted`."""
    with transaction.atomic():
        message = _own_visible_message(room, message_id)
        if message.user_id != actor.id and not is_moderator(actor):
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
        _log(actor, message, "Deleted (hidden) message.")
    room_id, message_id = message.room_id, message.pk
    transaction.on_commit(
        lambda: events.publish_room_sync(room_id, protocol.message_deleted_frame(message_id))
    )


# Moderation -----------------------------------------------------------------


def impose(restriction: Ban | Mute, *, actor=None) -> Ban | Mute:
    """Save a ban or mute and make it bite at once: a ban closes the user's sockets."""
    with transaction.atomic():
        if actor is not None and restriction.created_by_id is None:
            restriction.created_by = actor
        restriction.save()
        if isinstance(restriction, Ban) and restriction.is_active():
            frame = protocol.error_frame("banned", _ban_detail(restriction))
            user_id, room_id = restriction.user_id, restriction.room_id
            transaction.on_commit(
                lambda: close_sockets(
                    user_id=user_id,
                    room_id=room_id,
                    code=CLOSE_FORBIDDEN,
                    text=protocol.encode(frame),
                )
            )
    return restriction


def ban_user(
    *, actor, user, room: Room | None = None, expires: datetime | None = None, reason: str = ""
) -> Ban:
    return impose(Ban(user=user, room=room, expires=expires, reason=reason), actor=actor)


def mute_user(
    *, actor, user, room: Room | None = None, expires: datetime | None = None, reason: str = ""
) -> Mute:
    return impose(Mute(user=user, room=room, expires=expires, reason=reason), actor=actor)


def ban_error(ban: Ban) -> ChatError:
    return ChatError("banned", _ban_detail(ban))


def _ban_detail(ban: Ban) -> str:
    detail = "You are banned from this room"
    if ban.expires:
        detail += f" until {protocol.timestamp(ban.expires)}"
    if ban.reason:
        detail += f": {ban.reason}"
    return detail + "."


def _log(actor, obj, change_message: str) -> None:
    if actor is None or not actor.pk:
        return
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=[obj],
        action_flag=CHANGE,
        change_message=change_message,
        single_object=True,
    )


def room_latest_seq(room_id: int) -> int:
    return Room.objects.filter(pk=room_id).values_list("last_seq", flat=True).first() or 0


def set_room_locked(room: Room, locked: bool) -> Room:
    """Make a room read-only (or writable again); sends check it on every message."""
    Room.objects.filter(pk=room.pk).update(locked=locked)
    room.locked = locked
    return room
