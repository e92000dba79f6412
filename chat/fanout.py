"""Per-process fan-out: one channel-layer subscription per room, frames handed to local sockets.

A room's broadcast costs one channel-layer message per server process, not one
per socket; the hub then passes the already-encoded text to each local socket.
"""

import asyncio
import logging
import weakref
from typing import Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from chat import events, protocol
from jabber import clock
from jabber.groups import room_group
from presence import services as presence

logger = logging.getLogger(__name__)


class Member(Protocol):
    user_id: int

    async def deliver(self, text: str) -> None: ...


class Hub:
    """The fan-out hub of one event loop (one server process)."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel_name: str | None = None
        self.rooms: dict[int, dict[str, Member]] = {}
        self.joined_at: dict[int, float] = {}
        self._reader: asyncio.Task | None = None
        self._pruner: asyncio.Task | None = None
        self._starting = asyncio.Lock()

    async def start(self) -> str:
        async with self._starting:
            if self.channel_name is None:
                # Same prefix as the consumers: channels-redis reads all of a process's
                # channels from one list per prefix, under one lock.
                self.channel_name = await self.layer.new_channel()
                events.bind_loop(asyncio.get_running_loop())
                self._reader = asyncio.create_task(self._read(), name="jabber-hub")
                self._pruner = asyncio.create_task(self._prune(), name="jabber-prune")
        return self.channel_name

    async def join(self, room_id: int, key: str, member: Member) -> None:
        await self.start()
        members = self.rooms.setdefault(room_id, {})
        first = not members
        members[key] = member
        if first:
            await self._subscribe(room_id)

    async def leave(self, room_id: int, key: str) -> None:
        members = self.rooms.get(room_id)
        if not members or members.pop(key, None) is None:
            return
        if not members:
            del self.rooms[room_id]
            self.joined_at.pop(room_id, None)
            await self.layer.group_discard(room_group(room_id), self.channel_name)

    async def refresh(self, room_id: int, *, force: bool = False) -> None:
        """Re-join the room's group if it is time (called on client heartbeats)."""
        if room_id not in self.rooms:
            return
        # Redis forgets groups when it restarts empty and expires memberships
        # after group_expiry, so the hub re-joins every so often.
        interval = settings.JABBER_GROUP_REJOIN_INTERVAL
        if force or clock.now() - self.joined_at.get(room_id, 0) > interval:
            await self._subscribe(room_id)

    async def _subscribe(self, room_id: int) -> None:
        self.joined_at[room_id] = clock.now()
        await self.layer.group_add(room_group(room_id), self.channel_name)

    async def _read(self) -> None:
        backoff = 0.1
        while True:
            try:
                event = await self.layer.receive(self.channel_name)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # The layer is down (Redis restarting): keep the process alive, retry.
                logger.warning("hub: channel layer receive failed: %r", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            try:
                await self.dispatch(event)
            except Exception:
                logger.exception("hub: dispatching %s failed", event.get("type"))

    async def _prune(self) -> None:
        """Prune stale presence periodically, so a killed process leaves no ghosts."""
        while True:
            await asyncio.sleep(settings.JABBER_PRESENCE_PRUNE_INTERVAL)
            try:
                await presence.prune_and_notify()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("hub: pruning presence failed: %r", error)

    async def dispatch(self, event: dict) -> None:
        if event.get("type") == "room.frame":
            members = self.rooms.get(event["room"])
            if not members:
                return
            text = event["text"]
            skip = event.get("except_user")
            for member in list(members.values()):
                if skip is not None and member.user_id == skip:
                    continue
                await member.deliver(text)
        elif event.get("type") == "presence.changed":
            # Sent by processes that only know the list changed (prune_presence).
            room_id = event["room"]
            if room_id in self.rooms:
                online = await database_sync_to_async(presence.online)(room_id)
                text = protocol.encode(protocol.presence_frame(online))
                await self.dispatch({"type": "room.frame", "room": room_id, "text": text})

    async def stop(self) -> None:
        for task in (self._reader, self._pruner):
            if task is not None:
                task.cancel()
        self._reader = self._pruner = None


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """The hub of the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub()
    return hub
