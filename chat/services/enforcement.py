"""Whether a socket's user may still act in its room: bans, the account, the login session.

A live event (a ban, a logout) closes sockets fast, but it can be lost, so each
refusable action checks again here, where it bites (SPEC §15).
"""

from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.db.models import Exists, Q

from chat import access, selectors
from chat.models import Ban, Room
from chat.services.moderation import ban_error
from jabber import clock
from jabber.events import CloseCode


def check_not_banned(user_id: int, room_id: int) -> None:
    """Raise `banned` when a ban is in force on the user in the room (or in every room)."""
    ban = selectors.active_bans({(user_id, room_id)}).get((user_id, room_id))
    if ban is not None:
        raise ban_error(ban)


def read_history(
    user, room: Room, *, before: int | None, after: int | None, limit: int
) -> tuple[list[dict], bool]:
    """A `history` answer for a user who may read the room (else `banned`)."""
    check_not_banned(user.pk, room.pk)
    return selectors.history_page(room, before=before, after=after, limit=limit)


def read_history_around(user, room: Room, around: int, limit: int) -> tuple[list[dict], bool, bool]:
    """A `history` `around` answer for a user who may read the room (else `banned`)."""
    check_not_banned(user.pk, room.pk)
    return selectors.history_around(room, around, limit)


def check_socket(user_id: int, room_id: int, session_key: str | None) -> CloseCode | None:
    """A heartbeat's re-check: the close code a socket must end with, or None if it may stay.

    Raises `banned` for a ban (the caller sends it, then closes with 4403); 4403
    too for a member removed from a private room or direct message. One
    query in the common case (a database session engine): pings are frequent.
    """
    now = clock.utcnow()
    bans = (
        Ban.objects.active(now)
        .filter(user_id=user_id)
        .filter(Q(room_id=room_id) | Q(room__isnull=True))
    )
    # A private room or direct message only while still a member: the removal's
    # closing event may have been lost (chat.access says who may see a room).
    visible = Room.objects.filter(pk=room_id).filter(
        (Q(kind=Room.Kind.PUBLIC) & ~Q(name__startswith=access.DIRECT_PREFIX))
        | Q(memberships__user_id=user_id)
    )
    checks = {"banned": Exists(bans), "may_see": Exists(visible)}
    model = _session_model()
    if model is not None and session_key:
        checks["session_live"] = Exists(
            model.objects.filter(session_key=session_key, expire_date__gt=now)
        )
    row = (
        get_user_model()
        ._default_manager.filter(pk=user_id)
        .annotate(**checks)
        .values("is_active", *checks)
        .first()
    )
    if row is not None and row["banned"]:
        check_not_banned(user_id, room_id)
    if row is None or not row["is_active"]:
        return CloseCode.SESSION_ENDED
    if not row["may_see"]:
        return CloseCode.FORBIDDEN
    live = row["session_live"] if "session_live" in row else session_is_live(session_key, user_id)
    return None if live else CloseCode.SESSION_ENDED


def _session_model():
    """The session model of a database-backed session engine, else None."""
    store = session_store(None)
    model = getattr(store, "get_model_class", None)
    return model() if model is not None else None


def session_store(session_key: str | None):
    """The stored login session of that key, as the session engine keeps it."""
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def session_is_live(session_key: str | None, user_id: int) -> bool:
    """Whether that login session still exists, unexpired, and belongs to the user."""
    if not session_key:
        return False
    store = session_store(session_key)
    # load() answers an empty dict for a session that is gone or expired.
    return str(store.load().get(SESSION_KEY)) == str(user_id)


def session_expiries(session_keys: set[str]) -> dict[str, datetime]:
    """When each stored session expires: its stored expiry, not a fresh cookie age from now.

    Sessions whose engine keeps no readable expiry (cache, signed cookies) are
    left out; the heartbeat's session check still ends their sockets.
    """
    if not session_keys:
        return {}
    model = _session_model()
    if model is None:
        return {}
    # Database-backed engines keep the expiry they promised in a column.
    return dict(
        model.objects.filter(session_key__in=session_keys).values_list("session_key", "expire_date")
    )
