"""Every event that crosses server processes (one class each), the one publish, the one decoder.

Services publish events; each server process's hub (``chat.realtime``) reads
them from the channel layer, decodes them here and hands them to its local
sockets. Apart from the hub's subscriptions, nothing else touches the channel
layer. The table of WebSocket close codes lives here too, because events carry
them and the browser client receives the same table from the room page.
"""

import asyncio
import dataclasses
import logging
from collections.abc import Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from jabber.groups import control_group, room_group

logger = logging.getLogger(__name__)


class CloseCode(IntEnum):
    """Every WebSocket close code the server sends (docs/protocol.md, "Close codes")."""

    TOO_BIG = 1009
    # daphne (autobahn) lets an application send only 1000 and 3000-4999.
    TOO_BIG_FALLBACK = 4009
    SESSION_ENDED = 4401
    FORBIDDEN = 4403
    # No client frame for JABBER_PRESENCE_TIMEOUT: the client reconnects and resumes.
    IDLE = 4408
    RATE_LIMITED = 4429


def close_code_table() -> dict[str, int]:
    """The close codes by name, as the browser client receives them."""
    return {code.name: int(code) for code in CloseCode}


@dataclass(frozen=True)
class RoomFrame:
    """A frame, encoded once, for every socket in a room (but the sockets of `except_user`)."""

    type: ClassVar[str] = "room.frame"
    room: int
    text: str
    except_user: int | None = None

    def group(self) -> str:
        return room_group(self.room)


@dataclass(frozen=True)
class CloseSockets:
    """Close the sockets in a hub-local group (one user's, or one login session's).

    `room` narrows it to one room; `text` is a frame sent just before closing.
    """

    type: ClassVar[str] = "sockets.close"
    target: str
    code: int
    room: int | None = None
    text: str | None = None

    def group(self) -> str:
        # Rare events: every hub hears them and picks its own sockets, which keeps
        # the channel layer free of one group per user and per session.
        return control_group()


@dataclass(frozen=True)
class PresenceChanged:
    """A room's online list changed where nobody could announce it (pruning): read and send it."""

    type: ClassVar[str] = "presence.changed"
    room: int

    def group(self) -> str:
        return room_group(self.room)


@dataclass(frozen=True)
class UserFrame:
    """A frame, encoded once, for every socket of one user (read positions), or for those of
    the user's sockets that are open in `room` (a role change)."""

    type: ClassVar[str] = "user.frame"
    user: int
    text: str
    room: int | None = None

    def group(self) -> str:
        return control_group()


@dataclass(frozen=True)
class RoomActivity:
    """Frames for the sockets of rooms' members that are open in other rooms.

    `items` is `[[room id, text], ...]`, a whole send batch in one event, so the
    fan-out costs one channel-layer message per batch; each hub hands each text
    to its local sockets in `watch_group(room id)`.
    """

    type: ClassVar[str] = "room.activity"
    items: list

    def group(self) -> str:
        return control_group()


@dataclass(frozen=True)
class MembershipChanged:
    """Users joined or left rooms: their open sockets start or stop hearing the activity.

    `pairs` is `[[user id, room id], ...]`: a batch of socket openings in one event.
    """

    type: ClassVar[str] = "membership.changed"
    pairs: list
    joined: bool

    def group(self) -> str:
        return control_group()


Event = RoomFrame | CloseSockets | PresenceChanged | UserFrame | RoomActivity | MembershipChanged
EVENT_TYPES: dict[str, type] = {
    kind.type: kind
    for kind in (
        RoomFrame,
        CloseSockets,
        PresenceChanged,
        UserFrame,
        RoomActivity,
        MembershipChanged,
    )
}


def encode(event: Event) -> dict:
    """The channel-layer message of an event."""
    return {"type": event.type, **dataclasses.asdict(event)}


def decode(message: dict) -> Event | None:
    """The event a channel-layer message carries, or None (logged) when it is not one of ours."""
    kind = EVENT_TYPES.get(message.get("type"))
    if kind is None:
        logger.warning("events: unknown event type %r", message.get("type"))
        return None
    fields = {field.name for field in dataclasses.fields(kind)}
    try:
        return kind(**{key: value for key, value in message.items() if key in fields})
    except TypeError as error:
        logger.warning("events: malformed %s: %s", message.get("type"), error)
        return None


async def publish_async(*events: Event) -> None:
    """Send events to every process, one after the other, in order."""
    layer = get_channel_layer()
    for event in events:
        await layer.group_send(event.group(), encode(event))


async def discard(channel: str, groups: list[str]) -> None:
    """Take a channel out of groups (a dead process's hub, found by pruning)."""
    layer = get_channel_layer()
    for group in groups:
        await layer.group_discard(group, channel)


class Publisher:
    """Publishes from synchronous code (services, after commit), on any thread.

    With a server loop, the send is handed to that loop without waiting, so the
    database thread is not parked until the channel layer answers; without one
    (management commands, the admin under WSGI, tests) it waits for the send.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop

    def publish(self, events: tuple[Event, ...]) -> None:
        if not events:
            return
        coroutine = publish_async(*events)
        loop = self.loop
        if loop is not None and loop.is_running() and not _running_on(loop):
            future = asyncio.run_coroutine_threadsafe(coroutine, loop)
            future.add_done_callback(_report_failure)
            return
        async_to_sync(_await)(coroutine)


_publisher = Publisher()


def publish_from(loop: asyncio.AbstractEventLoop) -> None:
    """Make synchronous publishes of this process go through `loop` (its server runtime)."""
    global _publisher
    _publisher = Publisher(loop)


def publish(*events: Event) -> None:
    """Publish from synchronous code: the one entry point for services."""
    _publisher.publish(events)


async def _await(coroutine: Coroutine) -> Any:
    return await coroutine


def _running_on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _report_failure(future: Future) -> None:
    error = future.exception()
    if error is not None:
        # Messages are stored before they are published; clients repair a gap by seq.
        logger.warning("publishing to the channel layer failed: %r", error)
