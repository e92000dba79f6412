"""Account-level effects on live sockets: a session or a user that ends loses its sockets."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from jabber.groups import control_group, session_group, user_group

# Close codes in the 4000 range mirror HTTP: 4401 needs login again, 4403 forbidden.
CLOSE_SESSION_ENDED = 4401
CLOSE_FORBIDDEN = 4403


def close_sockets(
    *,
    user_id: int | None = None,
    session_key: str | None = None,
    room_id: int | None = None,
    code: int = CLOSE_SESSION_ENDED,
    text: str | None = None,
) -> None:
    """Close the sockets of a user or of one session, on every server process.

    `room_id` narrows it to one room; `text` is a frame sent just before closing.
    """
    group = user_group(user_id) if user_id is not None else session_group(session_key)
    event: dict = {"type": "user.close", "group": group, "room": room_id, "code": code}
    if text is not None:
        event["text"] = text
    # Rare events: every hub hears them and hands them to its sockets in that group,
    # which keeps the channel layer free of one group per user and per session.
    async_to_sync(get_channel_layer().group_send)(control_group(), event)
