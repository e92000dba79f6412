"""Publishing to the channel layer: room frames to every process's hub, user events to sockets."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat import protocol
from jabber.groups import room_group, user_group

logger = logging.getLogger(__name__)


def room_event(room_id: int, frame: dict, *, except_user: int | None = None) -> dict:
    """A frame for every socket in a room, encoded once here for all of them."""
    event = {"type": "room.frame", "room": room_id, "text": protocol.encode(frame)}
    if except_user is not None:
        event["except_user"] = except_user
    return event


async def publish_room(room_id: int, frame: dict, *, except_user: int | None = None) -> None:
    await get_channel_layer().group_send(
        room_group(room_id), room_event(room_id, frame, except_user=except_user)
    )


def publish_room_sync(room_id: int, frame: dict, *, except_user: int | None = None) -> None:
    async_to_sync(publish_room)(room_id, frame, except_user=except_user)


def close_user_sockets_sync(
    user_id: int, *, room_id: int | None = None, code: int = 4403, frame: dict | None = None
) -> None:
    """Close a user's sockets (in one room, or everywhere) on every server process."""
    event: dict = {"type": "user.close", "room": room_id, "code": code}
    if frame is not None:
        event["text"] = protocol.encode(frame)
    async_to_sync(get_channel_layer().group_send)(user_group(user_id), event)
