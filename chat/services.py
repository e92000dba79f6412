"""Every state change of the chat, in one place, called by the consumer, admin and tests."""

import unicodedata
from dataclasses import dataclass
from datetime import datetime

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
    """A rule said no; `code` is the SPEC error code sent to the client."""

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
    if presence.open_socket_count(user.id) >= settings.JABBER_MAX_SOCKETS_PER_USER:
        raise ChatError("forbidden", "Too many open connections.")
    room = get_or_create_room(room_name)
    ban = selectors.active_ban(user.id, room)
    if ban is None:
        wait = join_bucket().take(user.id)
        if wait:
            raise ChatError("rate_limited", "Joining too often.", retry_after=wait)
    return Admission(room=room, ban=ban)


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


def _check_may_write(user, room: Room, client_id: str | None, *, new_message: bool) -> None:
    moderator = is_moderator(user)
    if room.locked and not moderator:
        raise ChatError("room_locked", "This room is read-only.", client_id=client_id)
    if selectors.is_muted(user.id, room):
        raise ChatError("muted", "You are muted in this room.", client_id=client_id)
    if new_message and room.slow_mode_seconds and not moderator:
        last = (
            Message.objects.filter(room=room, user=user)
            .order_by("-created")
            .values_list("created", flat=True)
            .first()
        )
        if last is not None:
            elapsed = (clock.utcnow() - last).total_seconds()
            if elapsed < room.slow_mode_seconds:
                raise ChatError(
                    "rate_limited",
                    f"Slow mode: one message every {room.slow_mode_seconds} s.",
                    retry_after=room.slow_mode_seconds - elapsed,
                    client_id=client_id,
                )
    wait = send_bucket().take(user.id)
    if wait:
        raise ChatError(
            "rate_limited", "You are sending too fast.", retry_after=wait, client_id=client_id
        )


def send_message(*, user, room: Room, body: str, client_id: str | None = None) -> SendResult:
    """Store a message (seq assigned in the same transaction) and broadcast it after commit.

    A repeated (user, room, client_id) stores nothing and returns the original.
    """
    body = clean_body(body, client_id)
    with transaction.atomic():
        # The row lock serialises writers per room, so seq has no holes and no twins.
        room = Room.objects.select_for_update().get(pk=room.pk)
        if client_id is not None:
            # A cheap probe first: nearly every send carries a client_id, few are resends.
            resent = Message.objects.filter(room=room, user=user, client_id=client_id)
            if resent.exists():
                original = resent.select_related("user", "room").get()
                return SendResult(message=original, created=False)
        _check_may_write(user, room, client_id, new_message=True)
        now = clock.utcnow()
        seq = room.last_seq + 1
        Room.objects.filter(pk=room.pk).update(last_seq=seq, last_activity=now)
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    room=room, user=user, seq=seq, body=body, created=now, client_id=client_id
                )
        except IntegrityError:
            # A concurrent duplicate on a backend without row locks: return the winner.
            original = Message.objects.select_related("user", "room").get(
                room=room, user=user, client_id=client_id
            )
            return SendResult(message=original, created=False)
        payload = protocol.message_payload(message)
        transaction.on_commit(
            lambda: events.publish_room_sync(room.id, protocol.message_frame(payload))
        )
    return SendResult(message=message, created=True)


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
        _check_may_write(user, room, None, new_message=False)
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
