"""Moderation: who moderates, bans and mutes that bite at once, the admin log."""

from datetime import datetime

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.services import close_sockets
from chat import access, protocol
from chat.models import Ban, Membership, Mute, Room
from chat.services.errors import ChatError
from jabber.events import CloseCode

MODERATE_PERMISSION = "chat.moderate_room"


def is_moderator(user) -> bool:
    """Whether the user moderates now: read from the database, never from a socket's
    cached user, so a demoted moderator loses the powers on open sockets at once."""
    if user is None or not user.pk:
        return False
    fresh = get_user_model()._default_manager.filter(pk=user.pk).first()
    return bool(
        fresh is not None
        and fresh.is_active
        and fresh.is_staff
        and fresh.has_perm(MODERATE_PERMISSION)
    )


def is_room_moderator(user, room: Room) -> bool:
    """Whether the user moderates this room: the Moderators group, or its owner or a room moderator.

    Staff outside the Moderators group have no powers in a room they do not own or moderate.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if is_moderator(user):
        return True
    return access.role(user, room) in (Membership.Role.OWNER, Membership.Role.MODERATOR)


def impose(restriction: Ban | Mute, *, actor=None) -> Ban | Mute:
    """Save a ban or mute and make it bite at once: a ban closes the user's sockets."""
    with transaction.atomic():
        if actor is not None and restriction.created_by_id is None:
            restriction.created_by = actor
        restriction.save()
        if isinstance(restriction, Ban) and restriction.is_active():
            frame = protocol.error_frame("banned", ban_detail(restriction))
            user_id, room_id = restriction.user_id, restriction.room_id
            transaction.on_commit(
                lambda: close_sockets(
                    user_id=user_id,
                    room_id=room_id,
                    code=CloseCode.FORBIDDEN,
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


def ban_error(ban: Ban, *, client_id: str | None = None) -> ChatError:
    return ChatError("banned", ban_detail(ban), client_id=client_id)


def ban_detail(ban: Ban) -> str:
    detail = "You are banned from this room"
    if ban.expires:
        detail += f" until {protocol.timestamp(ban.expires)}"
    if ban.reason:
        detail += f": {ban.reason}"
    return detail + "."


def log_action(actor, obj, change_message: str) -> None:
    if actor is None or not actor.pk:
        return
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=[obj],
        action_flag=CHANGE,
        change_message=change_message,
        single_object=True,
    )
