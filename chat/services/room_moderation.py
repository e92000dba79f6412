"""Moderating one room from its page: the owner's and room moderators' actions, through the
same services as the admin, each written to the admin log."""

from datetime import timedelta

from chat.models import Ban, Mute, Room
from chat.services.errors import ChatError
from chat.services.members import user_named
from chat.services.moderation import ban_user, is_room_moderator, log_action, mute_user
from chat.services.rooms import set_room_locked, set_room_text, set_slow_mode
from jabber import clock

ACTIONS = ("mute", "unmute", "ban", "unban", "lock", "unlock", "slow_mode", "title", "topic")

# A year: the longest mute or ban with an expiry (empty minutes: none at all).
MAX_MINUTES = 525_600
MAX_SLOW_MODE = 86_400


def moderate_room(
    *,
    actor,
    room: Room,
    action: str,
    username: str = "",
    minutes: str = "",
    seconds: str = "",
    value: str = "",
) -> str:
    """Do one moderation action in the room (form fields as text); returns what was done."""
    if not is_room_moderator(actor, room):
        raise ChatError("forbidden", "Only the room's owner and moderators can do that.")
    if action not in ACTIONS:
        raise ChatError("bad_request", f"action must be one of {', '.join(ACTIONS)}.")
    if action in ("lock", "unlock"):
        set_room_locked(room, action == "lock")
        done = "Locked the room." if action == "lock" else "Unlocked the room."
    elif action == "slow_mode":
        amount = _number(seconds, "seconds", MAX_SLOW_MODE, minimum=0)
        set_slow_mode(room, amount)
        done = f"Slow mode: {amount} s." if amount else "Slow mode off."
    elif action in ("title", "topic"):
        limit = Room._meta.get_field(action).max_length
        text = value.strip()
        if len(text) > limit:
            raise ChatError("bad_request", f"The {action} is at most {limit} characters.")
        set_room_text(room, **{action: text})
        done = f"Set the {action}." if text else f"Cleared the {action}."
    else:
        done = _restrict(actor, room, action, username, minutes)
    log_action(actor, room, done)
    return done


def _restrict(actor, room: Room, action: str, username: str, minutes: str) -> str:
    user = user_named(username.strip())
    if action in ("unmute", "unban"):
        model = Mute if action == "unmute" else Ban
        # Only this room's restrictions: a room's moderators have no say over site-wide ones.
        lifted, _ = model.objects.active().filter(user=user, room=room).delete()
        state = "muted" if action == "unmute" else "banned"
        if not lifted:
            raise ChatError("bad_request", f"{user.username} is not {state} in this room.")
        return f"Un{state} {user.username}."
    if user.pk == actor.pk or is_room_moderator(user, room):
        raise ChatError("forbidden", "Moderators of this room cannot be muted or banned here.")
    expires = None
    if minutes.strip():
        expires = clock.utcnow() + timedelta(
            minutes=_number(minutes, "minutes", MAX_MINUTES, minimum=1)
        )
    impose = mute_user if action == "mute" else ban_user
    impose(actor=actor, user=user, room=room, expires=expires)
    verb = "Muted" if action == "mute" else "Banned"
    until = f" for {int(minutes)} minutes" if expires else ""
    return f"{verb} {user.username}{until}."


def _number(text: str, field: str, maximum: int, *, minimum: int) -> int:
    text = text.strip()
    if not text.isascii() or not text.isdigit() or not minimum <= int(text) <= maximum:
        raise ChatError(
            "bad_request", f"{field} must be a whole number from {minimum} to {maximum}."
        )
    return int(text)
