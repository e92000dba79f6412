"""Account-level effects on live sockets: a session or a user that ends loses its sockets."""

from jabber import events
from jabber.events import CloseCode
from jabber.groups import session_group, user_group


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
    """
    target = user_group(user_id) if user_id is not None else session_group(session_key)
    events.publish(events.CloseSockets(target=target, code=int(code), room=room_id, text=text))
