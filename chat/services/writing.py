"""The rules every write of a message obeys, sent or edited: a clean body, no lock or mute in the
way, slow mode and the send rate; its rendering; the event that carries a frame to a room."""

import unicodedata
from datetime import datetime

from django.conf import settings

from chat import formatting, protocol, selectors
from chat.models import Room
from chat.services.errors import ChatError
from chat.services.limits import send_bucket
from chat.services.moderation import is_room_moderator
from jabber import clock, events

# Characters that make text lie about itself: bidi overrides and isolates, and
# invisible zero-width marks. ZWJ and ZWNJ stay (emoji sequences, Persian).
_STRIPPED = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x2060, 0xFEFF, 0x00AD]
)


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


def check_slow_mode(
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


def take_send_token(user, client_id: str | None) -> None:
    """Take a token of the user's send rate (edits count too), or raise rate_limited."""
    wait = send_bucket().take(user.id)
    if wait:
        raise ChatError(
            "rate_limited", "You are sending too fast.", retry_after=wait, client_id=client_id
        )


def render(body: str, room_id: int) -> formatting.Rendered:
    """A body's HTML, plain text and mentions (of the room's active members), made once."""
    return formatting.render(body, lambda names: selectors.member_ids_by_name(room_id, names))


def room_frame(room_id: int, frame: dict, *, except_user: int | None = None) -> events.RoomFrame:
    """The event carrying a frame to every socket in a room, encoded once here for all."""
    return events.RoomFrame(room=room_id, text=protocol.encode(frame), except_user=except_user)
