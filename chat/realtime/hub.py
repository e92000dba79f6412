"""The hub: the one channel of a server process, its groups, and events handed to local sockets.

A room's broadcast costs one channel-layer message per server process, not one
per socket; the hub frames the already-encoded text once and passes it to each
local socket. Events aimed at a user or a login session (a ban, a logout) reach
every hub through the control group and go to that person's local sockets.
Sockets have no channel of their own, so a channel-layer outage is met in one
place: the hub retries, then subscribes again to everything its sockets need.
"""

import asyncio
import logging
from typing import Protocol

from channels.db import database_sync_to_async
from django.conf import settings

from chat import protocol, transport
from chat.realtime.cancellation import cancellable, stop_if_cancelled
from jabber import clock, events
from jabber.groups import control_group, is_room_group, room_group, user_group, watch_group
from presence import services as presence

logger = logging.getLogger(__name__)


class Member(Protocol):
    """A local socket as the hub sees it."""

    user_id: int
    room_id: int | None

    async def deliver(self, text: str, wire: bytes) -> None: ...

    async def close_by_event(self, event: events.CloseSockets) -> None: ...

    async def watch(self, room_id: int, joined: bool) -> None: ...

    async def close_if_idle(self, horizon: float) -> None: ...


class Hub:
    """Subscriptions and dispatch for one event loop (one server process)."""

    def __init__(self, layer, channel_name: str) -> None:
        self.layer = layer
        self.channel_name = channel_name
        # group name -> {socket key: member}; room groups and user/session groups alike.
        self.groups: dict[str, dict[str, Member]] = {}
        self.refreshed_at = clock.now()

    async def join(self, key: str, member: Member, groups: list[str]) -> None:
        """Add a socket to groups; the first local member of a room subscribes the hub."""
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

    def members(self) -> list[Member]:
        """Every local socket, once (each is in its user's group, and maybe others)."""
        found: dict[str, Member] = {}
        for members in self.groups.values():
            found.update(members)
        return list(found.values())

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

    async def run(self) -> None:
        """Read the process's channel until cancelled, dispatching each event.

        The reading runs in a task of its own, which a cancellation always stops
        (``cancellation``): channels-redis on Python 3.11 can lose one.
        """
        await cancellable(self._read())

    async def _read(self) -> None:
        backoff = 0.1
        while True:
            stop_if_cancelled()
            try:
                message = await self.layer.receive(self.channel_name)
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
            event = events.decode(message)
            if event is None:
                continue
            try:
                await self.dispatch(event)
            except Exception:
                logger.exception("hub: dispatching %s failed", event.type)

    async def dispatch(self, event: events.Event) -> None:
        """Hand one event to the local sockets it concerns."""
        if isinstance(event, events.RoomFrame):
            await self._deliver(event)
        elif isinstance(event, events.CloseSockets):
            for member in list(self.groups.get(event.target, {}).values()):
                try:
                    await member.close_by_event(event)
                except Exception as error:
                    logger.info(
                        "hub: closing a socket of user %s failed: %r", member.user_id, error
                    )
        elif isinstance(event, events.UserFrame):
            members = self.groups.get(user_group(event.user))
            if members and event.room is not None:
                members = {k: m for k, m in members.items() if m.room_id == event.room}
            await self._deliver_text(members, event.text)
        elif isinstance(event, events.RoomActivity):
            # Every hub hears every batch; only rooms with members here cost more than a lookup.
            for room_id, text in event.items:
                await self._deliver_text(self.groups.get(watch_group(room_id)), text)
        elif isinstance(event, events.MembershipChanged):
            for user_id, room_id in event.pairs:
                for member in list(self.groups.get(user_group(user_id), {}).values()):
                    await member.watch(room_id, event.joined)
        elif isinstance(event, events.PresenceChanged):
            if room_group(event.room) in self.groups:
                online = await database_sync_to_async(presence.online)(event.room)
                text = protocol.encode(protocol.presence_frame(online))
                await self._deliver(events.RoomFrame(room=event.room, text=text))

    async def _deliver(self, event: events.RoomFrame) -> None:
        await self._deliver_text(self.groups.get(event.group()), event.text, event.except_user)

    async def _deliver_text(
        self, members: dict[str, Member] | None, text: str, skip: int | None = None
    ) -> None:
        if not members:
            return
        # Framed once for the whole group: the bytes are the same on every socket.
        wire = transport.encode_wire(text)
        for member in list(members.values()):
            if skip is None or member.user_id != skip:
                try:
                    await member.deliver(text, wire)
                except Exception as error:
                    # One socket closing under us must not cost the others the frame.
                    logger.info("hub: delivery to user %s failed: %r", member.user_id, error)
