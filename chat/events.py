"""Publishing to the channel layer: room frames go to every process's hub."""

import asyncio
import logging
from collections.abc import Coroutine
from concurrent.futures import Future

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat import protocol
from jabber.groups import room_group

logger = logging.getLogger(__name__)

# The server's event loop, bound by the fan-out hub when it starts. Services run
# on a worker thread; handing the publish to this loop without waiting keeps the
# single database thread free instead of parking it until the send is done.
_server_loop: asyncio.AbstractEventLoop | None = None


def bind_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _server_loop
    _server_loop = loop


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


async def publish_rooms(frames: list[tuple[int, dict]]) -> None:
    """Publish (room id, frame) pairs, one after the other, in order."""
    for room_id, frame in frames:
        await publish_room(room_id, frame)


def publish_room_sync(room_id: int, frame: dict, *, except_user: int | None = None) -> None:
    """Publish from synchronous code (services, after commit)."""
    _run(publish_room(room_id, frame, except_user=except_user))


def publish_rooms_sync(frames: list[tuple[int, dict]]) -> None:
    """publish_rooms from synchronous code (a batch of sends, after commit)."""
    if frames:
        _run(publish_rooms(frames))


def _run(coroutine: Coroutine) -> None:
    loop = _server_loop
    if loop is not None and loop.is_running() and not _on_loop(loop):
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        future.add_done_callback(_report_failure)
        return
    async_to_sync(_await)(coroutine)


async def _await(coroutine: Coroutine) -> None:
    await coroutine


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _report_failure(future: Future) -> None:
    error = future.exception()
    if error is not None:
        # The message is stored; clients repair the missed broadcast by seq.
        logger.warning("publishing to the channel layer failed: %r", error)
