"""Whether a socket's user may still act in its room: bans, the account, the login session.

A live event (a ban, a logout) closes sockets fast, but it can be lost, so each
refusable action checks again here, where it bites (SPEC §15).
"""

from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.db import connection

from chat import access, selectors
from chat.models import Ban, Membership, Room
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
    too for a member removed from a private room or direct message. One query
    in the common case (a database session engine), written as SQL: every
    socket's ping asks, and the ORM took ten times longer to build it than the
    database to answer.
    """
    now = connection.ops.adapt_datetimefield_value(clock.utcnow())
    users = get_user_model()._meta
    # A private room or direct message only while still a member: the removal's
    # closing event may have been lost (chat.access says who may see a room).
    checks = [
        f"""EXISTS(SELECT 1 FROM {Ban._meta.db_table} b WHERE b.user_id = u.{users.pk.column}
            AND (b.room_id IS NULL OR b.room_id = %s) AND (b.expires IS NULL OR b.expires > %s))""",
        f"""EXISTS(SELECT 1 FROM {Room._meta.db_table} r WHERE r.id = %s
            AND ((r.kind = %s AND SUBSTR(r.name, 1, %s) <> %s)
                 OR EXISTS(SELECT 1 FROM {Membership._meta.db_table} m
                           WHERE m.room_id = r.id AND m.user_id = u.{users.pk.column})))""",
    ]
    params: list = [room_id, now, room_id, Room.Kind.PUBLIC.value]
    params += [len(access.DIRECT_PREFIX), access.DIRECT_PREFIX]
    model = _session_model()
    if model is not None and session_key:
        checks.append(
            f"""EXISTS(SELECT 1 FROM {model._meta.db_table} s
                WHERE s.session_key = %s AND s.expire_date > %s)"""
        )
        params += [session_key, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT u.{users.get_field('is_active').column}, {', '.join(checks)}"
            f" FROM {users.db_table} u WHERE u.{users.pk.column} = %s",
            [*params, user_id],
        )
        row = cursor.fetchone()
    if row is None:
        return CloseCode.SESSION_ENDED
    is_active, banned, may_see, *session = row
    if banned:
        check_not_banned(user_id, room_id)
    if not is_active:
        return CloseCode.SESSION_ENDED
    if not may_see:
        return CloseCode.FORBIDDEN
    live = session[0] if session else session_is_live(session_key, user_id)
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
