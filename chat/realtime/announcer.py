"""Presence announcements, at most one per room per interval from each process."""

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from chat import protocol
from jabber import events
from presence import services as presence

logger = logging.getLogger(__name__)


class PresenceAnnouncer:
    """Sends rooms their online list, throttled per room.

    A change goes out at once if the room got no list from this process within
    JABBER_PRESENCE_BROADCAST_INTERVAL; otherwise once at the end of the
    interval, read then. A join storm so costs a few frames per room instead of
    one per socket, each a list of the whole room to the whole room.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._sent: dict[int, float] = {}  # room id -> loop time of its last list
        self._due: set[int] = set()
        self._tasks: set[asyncio.Task] = set()

    async def announce(self, room_id: int, online: list[dict] | None = None) -> None:
        """Send a room its online list (``online``, or read now), or schedule it."""
        if room_id in self._due:
            return
        interval = settings.JABBER_PRESENCE_BROADCAST_INTERVAL
        wait = self._sent.get(room_id, -interval) + interval - self.loop.time()
        if wait > 0:
            self._due.add(room_id)
            self.loop.call_later(wait, self._announce_due, room_id)
            return
        self._sent[room_id] = self.loop.time()
        if online is None:
            online = await database_sync_to_async(presence.online)(room_id)
        text = protocol.encode(protocol.presence_frame(online))
        await events.publish_async(events.RoomFrame(room=room_id, text=text))

    def forget_quiet_rooms(self) -> None:
        """Drop the send times older than one interval: those rooms may hear at once again."""
        horizon = self.loop.time() - settings.JABBER_PRESENCE_BROADCAST_INTERVAL
        for room_id in [room for room, sent in self._sent.items() if sent < horizon]:
            del self._sent[room_id]

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()

    def _announce_due(self, room_id: int) -> None:
        self._due.discard(room_id)
        task = self.loop.create_task(self.announce(room_id))
        self._tasks.add(task)
        task.add_done_callback(self._announced)

    def _announced(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Clients still hold the list of the last frame; the next change repairs it.
            logger.warning("presence: announcing failed: %r", task.exception())
