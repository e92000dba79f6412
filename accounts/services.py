"""Account-level effects on live sockets: a session or a user that ends loses its sockets."""

import logging

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
