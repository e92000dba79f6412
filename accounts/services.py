"""Account-level changes: a session or a user that ends loses its sockets; blocking people."""

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from accounts.models import Block
from jabber import events
from jabber.events import CloseCode
from jabber.groups import session_group, user_group

logger = logging.getLogger(__name__)


def close_sockets(
    *,
    user_id: int | None = None,
    session_key: str | None = None,
    room_id: int | None = None,
    code: CloseCode = CloseCode.SESSION_ENDED,
    text: str | None = None,
) -> None:
    """Close the sockets of a user or of one session, on every server process.

    `room_id` narrows it to one room; `text` is a frame sent just before closing.
    Best effort: with the channel layer down, the logout or ban that called it
    still completes, and the sockets close at their next heartbeat (SPEC §15).
    """
    target = user_group(user_id) if user_id is not None else session_group(session_key)
    event = events.CloseSockets(target=target, code=int(code), room=room_id, text=text)
    try:
        events.publish(event)
    except Exception as error:
        logger.warning("closing the sockets of %s failed: %r; heartbeats will", target, error)


def block(blocker, username: str) -> Block:
    """Block the active user of that name (twice: no change); ValidationError if there is none."""
    User = get_user_model()
    blocked = User.objects.filter(username=username, is_active=True).first()
    if blocked is None:
        raise ValidationError(f"There is no user called {username[:150]!r}.")
    if blocked.pk == blocker.pk:
        raise ValidationError("You cannot block yourself.")
    found, _ = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    return found


def unblock(blocker, user_id: int) -> None:
    """Lift a block (lifting one that is not there changes nothing)."""
    Block.objects.filter(blocker=blocker, blocked_id=user_id).delete()


def blocked_pairs(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of the (blocker id, blocked id) pairs where the first blocks the second (one query)."""
    if not pairs:
        return set()
    found = Block.objects.filter(
        blocker_id__in={blocker for blocker, _ in pairs},
        blocked_id__in={blocked for _, blocked in pairs},
    ).values_list("blocker_id", "blocked_id")
    return set(found) & pairs
