"""Who belongs to a room: members added and removed, room moderators named, invite links."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import F

from accounts.services import close_sockets
from chat import access, protocol
from chat.models import Membership, Room
from chat.services.errors import ChatError
from chat.services.moderation import is_moderator, is_room_moderator, log_action
from chat.services.rooms import announce_joined
from jabber import events
from jabber.events import CloseCode

INVITE_SALT = "jabber.chat.invite"
INVITE_MAX_AGE = timedelta(days=7)

_BAD_INVITE = "This invite link is not valid: it may have expired or been revoked."


def user_named(username: str):
    """The active user of that name (exact first, then ignoring case), or bad_request."""
    User = get_user_model()
    users = User.objects.filter(is_active=True)
    user = None
    # SQLite ends a LIKE pattern at a NUL: "bob\x00" must not find bob by ignoring case.
    if username and len(username) <= 150 and username.isprintable():
        user = (
            users.filter(username=username).first()
            or users.filter(username__iexact=username).order_by("pk").first()
        )
    if user is None:
        raise ChatError("bad_request", f"There is no user called {username[:150]!r}.")
    return user


def _require_room_moderator(actor, room: Room) -> None:
    if not is_room_moderator(actor, room):
        raise ChatError("forbidden", "Only the room's owner and moderators can do that.")


def _require_owner(actor, room: Room) -> None:
    if not (is_moderator(actor) or access.role(actor, room) == Membership.Role.OWNER):
        raise ChatError("forbidden", "Only the room's owner can do that.")


def _not_direct(room: Room) -> None:
    if room.kind == Room.Kind.DIRECT:
        raise ChatError("bad_request", "A direct conversation has exactly its two people.")


def add_member(*, actor, room: Room, username: str) -> Membership:
    """Add a user to the room (by owners and room moderators); a member already: bad_request."""
    _require_room_moderator(actor, room)
    _not_direct(room)
    user = user_named(username)
    membership, created = Membership.objects.get_or_create(user=user, room=room)
    if not created:
        raise ChatError("bad_request", f"{user.username} is already a member.")
    announce_joined({(user.pk, room.pk)})
    log_action(actor, room, f"Added member {user.username}.")
    return membership


def remove_member(*, actor, room: Room, username: str) -> None:
    """Take a member out of the room; their sockets in it close (4403) on every process."""
    _require_room_moderator(actor, room)
    _not_direct(room)
    user = user_named(username)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(user=user, room=room).first()
        if membership is None:
            raise ChatError("bad_request", f"{user.username} is not a member.")
        if membership.role == Membership.Role.OWNER:
            raise ChatError("bad_request", "The owner cannot be removed.")
        if membership.role == Membership.Role.MODERATOR:
            _require_owner(actor, room)
        membership.delete()
        log_action(actor, room, f"Removed member {user.username}.")
        frame = protocol.error_frame("forbidden", "You were removed from this room.")
        transaction.on_commit(
            lambda: close_sockets(
                user_id=user.pk,
                room_id=room.pk,
                code=CloseCode.FORBIDDEN,
                text=protocol.encode(frame),
            )
        )


def set_room_moderator(*, actor, room: Room, username: str, moderator: bool) -> Membership:
    """Name a member room moderator, or make one a plain member again (the owner only)."""
    _require_owner(actor, room)
    _not_direct(room)
    user = user_named(username)
    membership = Membership.objects.filter(user=user, room=room).first()
    if membership is None:
        raise ChatError("bad_request", f"{user.username} is not a member.")
    if membership.role == Membership.Role.OWNER:
        raise ChatError("bad_request", "The owner's role cannot change.")
    wanted = Membership.Role.MODERATOR if moderator else Membership.Role.MEMBER
    if membership.role == wanted:
        already = "already" if moderator else "not"
        raise ChatError("bad_request", f"{user.username} is {already} a room moderator.")
    with transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(role=wanted)
        membership.role = wanted
        change = "Named" if moderator else "Removed"
        log_action(actor, room, f"{change} room moderator {user.username}.")
        # The Moderators group moderates every room, whatever the room role.
        announce_role(user.pk, room, wanted, moderator or is_moderator(user))
    return membership


def transfer_ownership(*, actor, room: Room, username: str) -> Membership:
    """Make a member the room's owner (by its owner, or the Moderators group); the previous
    owner stays on as a room moderator. Both hear their new role on their open sockets."""
    _not_direct(room)
    user = user_named(username)
    with transaction.atomic():
        # The room row serialises transfers: a room never has two owners, and an owner who
        # has just handed the room over cannot hand it over again.
        Room.objects.select_for_update().filter(pk=room.pk).exists()
        _require_owner(actor, room)
        memberships = Membership.objects.filter(room=room)
        target = memberships.filter(user=user).first()
        if target is None:
            raise ChatError("bad_request", f"{user.username} is not a member.")
        if target.role == Membership.Role.OWNER:
            raise ChatError("bad_request", f"{user.username} is already the owner.")
        owners = memberships.filter(role=Membership.Role.OWNER)
        previous = list(owners.values_list("user_id", flat=True))
        memberships.filter(user_id__in=previous).update(role=Membership.Role.MODERATOR)
        memberships.filter(pk=target.pk).update(role=Membership.Role.OWNER)
        target.role = Membership.Role.OWNER
        log_action(actor, room, f"Made {user.username} the owner.")
        announce_role(user.pk, room, Membership.Role.OWNER, True)
        for user_id in previous:
            announce_role(user_id, room, Membership.Role.MODERATOR, True)
    return target


def announce_role(user_id: int, room: Room, role: str, moderates: bool) -> None:
    """After commit, tell the user's sockets open in the room (on every process) their role.

    Powers are checked on every action, so this only lets the page show what is allowed.
    """
    text = protocol.encode(protocol.role_frame(room.name, role, moderates))
    event = events.UserFrame(user=user_id, text=text, room=room.pk)
    transaction.on_commit(lambda: events.publish(event))


def invite_token(*, actor, room: Room) -> str:
    """A signed token for /chat/join/<token>/, valid for INVITE_MAX_AGE or until revoked."""
    _require_room_moderator(actor, room)
    _not_direct(room)
    return signing.dumps({"room": room.pk, "version": room.invite_version}, salt=INVITE_SALT)


def revoke_invites(*, actor, room: Room) -> Room:
    """Make every invite link of the room made so far stop working."""
    _require_room_moderator(actor, room)
    Room.objects.filter(pk=room.pk).update(invite_version=F("invite_version") + 1)
    room.refresh_from_db(fields=["invite_version"])
    log_action(actor, room, "Revoked invite links.")
    return room


def join_by_invite(*, user, token: str) -> Room:
    """Make the user a member of the room the token invites to (a second use changes nothing)."""
    try:
        data = signing.loads(token, salt=INVITE_SALT, max_age=INVITE_MAX_AGE)
    except signing.BadSignature:
        raise ChatError("bad_request", _BAD_INVITE) from None
    if not isinstance(data, dict) or not all(
        type(data.get(field)) is int for field in ("room", "version")
    ):
        raise ChatError("bad_request", _BAD_INVITE)
    room = Room.objects.filter(pk=data["room"], invite_version=data["version"]).first()
    if room is None or room.kind == Room.Kind.DIRECT:
        raise ChatError("bad_request", _BAD_INVITE)
    _, created = Membership.objects.get_or_create(user=user, room=room)
    if created:
        announce_joined({(user.pk, room.pk)})
    return room
