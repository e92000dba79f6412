"""Per-process fan-out: the hub holds every channel-layer subscription of its process.

A room's broadcast costs one channel-layer message per server process, not one
per socket; the hub passes the already-encoded text to each local socket. Events
aimed at a user or a login session (a ban, a logout) go to every hub through the
control group and are handed to that person's local sockets. Sockets have no channel of their
own, so a channel-layer outage is met in one place: the hub retries, then
subscribes again to everything its sockets need.
"""

import asyncio
import itertools
import logging
import weakref
from typing import Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from chat import events, protocol, services, transport
from chat.batching import Batcher
from jabber import clock
from jabber.groups import control_group, is_room_group, room_group
from presence import services as presence

logger = logging.getLogger(__name__)


class Member(Protocol):
    user_id: int

    async def deliver(self, text: str, frame: bytes) -> None: ...

    async def user_close(self, event: dict) -> None: ...


class Hub:
    """The fan-out hub of one event loop (one server process)."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel_name: str | None = None
        # group name -> {socket key: member}; room groups and user/session groups alike.
        self.groups: dict[str, dict[str, Member]] = {}
        self.refreshed_at = 0.0
        self._keys = itertools.count(1)
        self._reader: asyncio.Task | None = None
        self._pruner: asyncio.Task | None = None
        self._starting = asyncio.Lock()
        # Every local socket's database work that can wait for company.
        self.sends = Batcher(services.send_messages, "sends")
        self.admissions = Batcher(services.admit_many, "admissions")
        self.openings = Batcher(services.open_sockets, "openings")
        # Presence announcements: when each room last got one, and rooms owed one.
        self._presence_sent: dict[int, float] = {}
        self._presence_due: set[int] = set()
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> str:
        async with self._starting:
            if self.channel_name is None:
                # Same prefix as any consumer: channels-redis reads all of a
                # process's channels from one list per prefix, under one lock.
                self.channel_name = await self.layer.new_channel()
                await self.layer.group_add(control_group(), self.channel_name)
                self.refreshed_at = clock.now()
                events.bind_loop(asyncio.get_running_loop())
                self._reader = asyncio.create_task(self._read(), name="jabber-hub")
                self._pruner = asyncio.create_task(self._prune(), name="jabber-prune")
        return self.channel_name

    async def new_key(self) -> str:
        """A name for a new socket, unique across processes (presence keys on it)."""
        return f"{await self.start()}#{next(self._keys)}"

    async def join(self, key: str, member: Member, groups: list[str]) -> None:
        """Add a socket to groups; the first local member of a room subscribes the hub."""
        await self.start()
        for group in groups:
            members = self.groups.setdefault(group, {})
            if not members and is_room_group(group):
                await self.layer.group_add(group, self.channel_name)
            members[key] = member

    async def leave(self, key: str, groups: list[str]) -> None:
        for group in groups:
            members = self.groups.get(group)
            if not members or members.pop(key, None) is None:
                continue
            if not members:
                del self.groups[group]
                if not is_room_group(group):
                    continue
                try:
                    await self.layer.group_discard(group, self.channel_name)
                except Exception as error:
                    logger.warning("hub: leaving %s failed: %r", group, error)

    async def announce_presence(self, room_id: int, online: list[dict] | None = None) -> None:
        """Send a room its online list (``online``, or read now).

        At once if the room got none from this process within
        JABBER_PRESENCE_BROADCAST_INTERVAL; otherwise once at the end of the
        interval, read then. A join storm so costs a few frames per room instead of
        one per socket, each a list of the whole room to the whole room.
        """
        if room_id in self._presence_due:
            return
        loop = asyncio.get_running_loop()
        interval = settings.JABBER_PRESENCE_BROADCAST_INTERVAL
        wait = self._presence_sent.get(room_id, -interval) + interval - loop.time()
        if wait > 0:
            self._presence_due.add(room_id)
            loop.call_later(wait, self._announce_due, room_id)
            return
        self._presence_sent[room_id] = loop.time()
        if online is None:
            online = await database_sync_to_async(presence.online)(room_id)
        await events.publish_room(room_id, protocol.presence_frame(online))

    def _announce_due(self, room_id: int) -> None:
        self._presence_due.discard(room_id)
        task = asyncio.create_task(self.announce_presence(room_id))
        self._tasks.add(task)
        task.add_done_callback(self._announced)

    def _announced(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Clients still hold the list of the last frame; the next change repairs it.
            logger.warning("hub: announcing presence failed: %r", task.exception())

    async def refresh(self, *, force: bool = False) -> None:
        """Re-join every group if it is time (called on client heartbeats).

        Redis forgets groups when it restarts empty, and expires memberships
        after group_expiry.
        """
        if force or clock.now() - self.refreshed_at > settings.JABBER_GROUP_REJOIN_INTERVAL:
            self.refreshed_at = clock.now()
            await self.layer.group_add(control_group(), self.channel_name)
            for group in [group for group in self.groups if is_room_group(group)]:
                await self.layer.group_add(group, self.channel_name)

    async def _read(self) -> None:
        backoff = 0.1
        while True:
            try:
                event = await self.layer.receive(self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # The layer is down (Redis restarting): keep every socket open and
                # subscribe again once it answers; clients repair the gap by seq.
                logger.warning("hub: channel layer receive failed: %r", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                try:
                    await self.refresh(force=True)
                except Exception:
                    continue
                logger.info("hub: channel layer is back; subscriptions restored")
                backoff = 0.1
                continue
            try:
                await self.dispatch(event)
            except Exception:
                logger.exception("hub: dispatching %s failed", event.get("type"))

    async def _prune(self) -> None:
        """Prune stale presence periodically, so a killed process leaves no ghosts."""
        while True:
            await asyncio.sleep(settings.JABBER_PRESENCE_PRUNE_INTERVAL)
            interval = settings.JABBER_PRESENCE_BROADCAST_INTERVAL
            horizon = asyncio.get_running_loop().time() - interval
            for room_id in [r for r, sent in self._presence_sent.items() if sent < horizon]:
                del self._presence_sent[room_id]
            try:
                await presence.prune_and_notify()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("hub: pruning presence failed: %r", error)

    async def dispatch(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "room.frame":
            members = self.groups.get(room_group(event["room"]))
            if not members:
                return
            text = event["text"]
            # Framed once for the whole room: the bytes are the same on every socket.
            frame = transport.encode_frame(text)
            skip = event.get("except_user")
            for member in list(members.values()):
                if skip is None or member.user_id != skip:
                    try:
                        await member.deliver(text, frame)
                    except Exception as error:
                        # One socket closing under us must not cost the others the frame.
                        logger.info("hub: delivery to user %s failed: %r", member.user_id, error)
        elif kind == "user.close":
            for member in list(self.groups.get(event.get("group"), {}).values()):
                try:
                    await member.user_close(event)
                except Exception as error:
                    logger.info(
                        "hub: closing a socket of user %s failed: %r", member.user_id, error
                    )
        elif kind == "presence.changed":
            # Sent by processes that only know the list changed (prune_presence).
            room_id = event["room"]
            if room_group(room_id) in self.groups:
                online = await database_sync_to_async(presence.online)(room_id)
                text = protocol.encode(protocol.presence_frame(online))
                await self.dispatch({"type": "room.frame", "room": room_id, "text": text})

    async def stop(self) -> None:
        for task in (self._reader, self._pruner, *self._tasks):
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
