"""One runtime per server process (event loop), composing the realtime parts."""

import asyncio
import itertools
import logging
import weakref

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from chat import services
from chat.realtime.announcer import PresenceAnnouncer
from chat.realtime.batching import Batcher
from chat.realtime.cancellation import stop_if_cancelled
from chat.realtime.hub import Hub
from jabber import clock, events
from jabber.groups import control_group
from presence import services as presence

logger = logging.getLogger(__name__)


class Runtime:
    """The hub, the database batchers, the presence announcer and the pruner of one loop.

    Started on first use (servers run without ASGI lifespan); from then on the
    process's synchronous publishes go through this loop (``events.publish_from``).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.hub: Hub | None = None
        self.announcer = PresenceAnnouncer(loop)
        # Every local socket's database work that can wait for company.
        self.sends = Batcher(services.send_messages, "sends")
        self.admissions = Batcher(services.admit_many, "admissions")
        self.openings = Batcher(services.open_sockets, "openings")
        self._keys = itertools.count(1)
        self._starting = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> Hub:
        """Subscribe the process's hub and start its reader and pruner, once."""
        async with self._starting:
            if self.hub is None:
                layer = get_channel_layer()
                # Same prefix as any consumer: channels-redis reads all of a
                # process's channels from one list per prefix, under one lock.
                channel = await layer.new_channel()
                await layer.group_add(control_group(), channel)
                self.hub = Hub(layer, channel)
                events.publish_from(self.loop)
                self._tasks = [
                    self.loop.create_task(self.hub.run(), name="jabber-hub"),
                    self.loop.create_task(self._prune(), name="jabber-prune"),
                ]
        return self.hub

    async def new_key(self) -> str:
        """A name for a new socket, unique across processes (presence keys on it)."""
        hub = await self.start()
        return f"{hub.channel_name}#{next(self._keys)}"

    async def _prune(self) -> None:
        """Prune stale presence periodically, so a killed process leaves no ghosts.

        The local sockets silent for as long are closed (4408) in the same round:
        a socket without its presence row would escape the per-user socket cap.
        """
        while True:
            stop_if_cancelled()
            await asyncio.sleep(settings.JABBER_PRESENCE_PRUNE_INTERVAL)
            self.announcer.forget_quiet_rooms()
            await self.close_idle_sockets()
            try:
                await presence.prune_and_notify(on_gone=self.tell_peers_offline)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("runtime: pruning presence failed: %r", error)

    async def tell_peers_offline(self, user_ids: set[int]) -> None:
        """`peer_presence` offline for users whose last sockets were pruned."""
        peer_events = await database_sync_to_async(services.peer_presence_events)(offline=user_ids)
        await events.publish_async(*peer_events)

    async def close_idle_sockets(self) -> None:
        """Close the local sockets that sent no frame within JABBER_PRESENCE_TIMEOUT."""
        if self.hub is None:
            return
        horizon = clock.now() - settings.JABBER_PRESENCE_TIMEOUT
        for member in self.hub.members():
            try:
                await member.close_if_idle(horizon)
            except Exception as error:
                logger.info("runtime: closing an idle socket failed: %r", error)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.announcer.cancel()
        self._tasks = []


_runtimes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Runtime]" = (
    weakref.WeakKeyDictionary()
)


def get_runtime() -> Runtime:
    """The runtime of the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    runtime = _runtimes.get(loop)
    if runtime is None:
        runtime = _runtimes[loop] = Runtime(loop)
    return runtime
