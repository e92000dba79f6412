"""The chat socket: a thin adapter between WebSocket frames and the services.

Its life (admission, hello, closing) and delivery are here; what each client
command does is in ``chat.realtime.commands``.
"""

import asyncio
import json
import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from chat import protocol, selectors, services, transport
from chat.realtime import commands
from chat.realtime.runtime import get_runtime
from chat.services import ChatError
from jabber import clock, events
from jabber.events import CloseCode
from jabber.groups import room_group, session_group, user_group, watch_group
from presence import services as presence

logger = logging.getLogger(__name__)


def error_frame(error: ChatError) -> dict:
    return protocol.error_frame(error.code, error.detail, error.client_id, error.retry_after)


class ChatConsumer(AsyncWebsocketConsumer):
    # No channel per socket: the process's hub subscribes for all of them.
    channel_layer_alias = None
    room = None
    user_id = None
    key = None  # the socket's key in the hub and in presence, once it has joined
    request_id = None  # of the client frame being handled
    opened = False  # accepted: frames may be sent
    close_sent = False
    closing: events.CloseSockets | None = None  # a close event that came before accept
    counted = selectors.Counted()  # recent deletes and edits the hello's counts include

    @property
    def room_id(self) -> int | None:
        """The room this socket is open in, once admitted (the hub picks sockets by it)."""
        return None if self.room is None else self.room.id

    # Connection lifecycle -----------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the socket ends (its disconnect, or an error that ends the
            # application before it), it leaves the room: no ghost stays online.
            await self._release()

    async def connect(self) -> None:
        user = self.scope["user"]
        # The URL's room converter has checked the name.
        name = self.scope["url_route"]["kwargs"]["room"]
        after = self._after_from_query()
        if not user.is_authenticated or after is False:
            await self.close()
            return
        self.user = user
        self.user_id = user.id
        self.runtime = get_runtime()
        self.hub = await self.runtime.start()
        await self._admit_and_open(name, after)

    async def _admit_and_open(self, name: str, after: int | None) -> None:
        """Refuse, report a ban, or join the room and send hello."""
        try:
            admission = await self.runtime.admissions.submit((self.user, name))
        except ChatError as error:
            if error.code != "rate_limited":
                await self.close()
                return
            await self.accept()
            await self.send_frame(error_frame(error))
            await self.close(CloseCode.RATE_LIMITED)
            return
        if admission.ban is not None:
            await self.accept()
            await self.send_frame(error_frame(services.ban_error(admission.ban)))
            await self.close(CloseCode.FORBIDDEN)
            return

        self.room = admission.room
        self.watched = admission.watched
        self.ready = False
        self.pending: list[str] = []
        self.last_touch = self.last_frame = clock.now()
        self.budget = services.frame_budget()
        self.over_budget = False
        self.session_key = getattr(self.scope.get("session"), "session_key", None)
        self.key = await self.runtime.new_key()
        # Subscribe before reading the scrollback so nothing falls between the two,
        # and before the ban re-check in open_sockets: a ban saved after that check
        # reaches this socket as an event (kept in `closing` until accept).
        await self.hub.join(self.key, self, self._groups())
        try:
            opened = await self.runtime.openings.submit(
                services.OpenRequest(
                    self.key, self.user, self.room, after, self.hub.channel_name, self.session_key
                )
            )
        except ChatError as error:
            await self._release()
            if error.code != "banned":
                await self.close()
                return
            await self.accept()
            await self.send_frame(error_frame(error))
            await self.close(CloseCode.FORBIDDEN)
            return
        await self.accept()
        self.opened = True
        if self.closing is not None:
            await self.close_by_event(self.closing)
            return
        # Found once here: deliver() checks its buffer and writes on every frame.
        self.connection = transport.connection_for(self.base_send)
        self.connection.allow_buffering(4 * settings.JABBER_SLOW_CLIENT_BUFFER)
        self.counted = opened.counted
        self.has_direct = opened.has_direct
        for frame in opened.frames:
            await self.send_frame(frame)
        self.ready = True
        for text in self.pending:
            if not self._already_counted(text):
                await self.send(text_data=text)
        self.pending = []
        if opened.changed:
            await self.runtime.announcer.announce(self.room.id, opened.online)
        self._schedule_session_end(opened.session_expires)

    async def disconnect(self, code: int) -> None:
        await self._release()

    async def _release(self) -> None:
        """Leave presence and the hub, once."""
        key, self.key = self.key, None
        if key is None:
            return
        self.ready = False
        timer = getattr(self, "session_timer", None)
        if timer is not None:
            timer.cancel()
        try:
            change = await database_sync_to_async(presence.leave)(
                key, serialised=getattr(self, "has_direct", True)
            )
        finally:
            await self.hub.leave(key, self._groups())
        if change is not None and change.changed:
            await self.runtime.announcer.announce(self.room.id)
        if change is not None and change.gone and getattr(self, "has_direct", True):
            # Their last socket anywhere: whoever shares a direct room with them hears it.
            peer_events = await database_sync_to_async(services.peer_presence_events)(
                offline={self.user_id}
            )
            await events.publish_async(*peer_events)

    def _after_from_query(self) -> int | bool | None:
        """The `after` id of a resume, None without one, False when it is malformed."""
        values = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("after")
        if not values:
            return None
        value = values[-1]
        # isdigit() alone passes "²" and other digits int() refuses.
        if not (value.isascii() and value.isdigit()) or len(value) > 18:
            return False
        return int(value)

    def join_presence(self) -> presence.PresenceChange:
        return presence.join(
            socket_key=self.key,
            user_id=self.user_id,
            room_id=self.room.id,
            hub_channel=self.hub.channel_name,
        )

    def _groups(self) -> list[str]:
        """The room, this person and session (bans, logouts, read positions), and the
        person's other rooms (activity)."""
        groups = [room_group(self.room.id), user_group(self.user_id)]
        if self.session_key:
            groups.append(session_group(self.session_key))
        groups.extend(watch_group(room_id) for room_id in self.watched)
        return groups

    def _schedule_session_end(self, expires) -> None:
        """Close when the stored session expires (not a fresh cookie age counted from now)."""
        if expires is None:
            return
        seconds = max(0.0, expires.timestamp() - clock.now())
        loop = asyncio.get_running_loop()
        self.session_timer = loop.call_later(
            seconds, lambda: asyncio.ensure_future(self.close(CloseCode.SESSION_ENDED))
        )

    # Frames from the client -------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.room is None or not self.ready:
            return
        # Any client frame keeps the socket alive; WebSocket-level pongs never get here.
        self.last_frame = clock.now()
        if not await self._spend_budget():
            return
        if text_data is None:
            try:
                text_data = (bytes_data or b"").decode("utf-8")
            except UnicodeDecodeError:
                await self.reject_frame("bad_json", "Frames must be UTF-8 JSON text.")
                return
        if len(text_data) * 4 > settings.JABBER_MAX_FRAME and (
            len(text_data.encode("utf-8", "surrogatepass")) > settings.JABBER_MAX_FRAME
        ):
            logger.warning("user %s sent a frame over the limit; closing", self.user_id)
            await self.close_too_big()
            return
        try:
            request = protocol.parse(text_data)
        except protocol.ProtocolError as error:
            logger.warning(
                "user %s sent a bad frame: %s (%s)", self.user_id, error.code, error.detail
            )
            frame = protocol.error_frame(error.code, error.detail, error.client_id)
            await self.send_frame(protocol.reply(frame, error.request_id))
            return
        command = request.command
        self.request_id = request.request_id
        try:
            await self.handlers[type(command)](self, command)
        except ChatError as error:
            logger.info("user %s: %s (%s)", self.user_id, error.code, error.detail)
            await self.reply(error_frame(error))
            if error.code == "banned":
                await self.close(CloseCode.FORBIDDEN)

    async def _spend_budget(self) -> bool:
        """Take a frame's token; refuse it (`rate_limited`, then close 4429) when none is left."""
        wait = self.budget.take()
        if not wait:
            self.over_budget = False
            return True
        if self.over_budget:
            # Warned already and still going on: end it; the client reconnects later.
            logger.warning("user %s goes on over the frame budget; closing", self.user_id)
            await self.close(CloseCode.RATE_LIMITED)
            return False
        self.over_budget = True
        detail = "You are sending frames too fast."
        await self.send_frame(protocol.error_frame("rate_limited", detail, None, wait))
        return False

    async def reply(self, frame: dict) -> None:
        """Answer the frame being handled: the reply carries its request_id back."""
        await self.send_frame(protocol.reply(frame, self.request_id))

    async def close_too_big(self) -> None:
        try:
            await self.close(CloseCode.TOO_BIG)
        except Exception:
            await self.close(CloseCode.TOO_BIG_FALLBACK)

    async def reject_frame(self, code: str, detail: str) -> None:
        logger.warning("user %s sent a bad frame: %s (%s)", self.user_id, code, detail)
        await self.send_frame(protocol.error_frame(code, detail))

    handlers = commands.HANDLERS

    # Frames from the hub and the channel layer ------------------------------

    async def deliver(self, text: str, wire: bytes) -> None:
        """Hand a room frame to this socket: `wire` is `text` framed for the wire."""
        if not self.ready:
            if self.room is not None:
                self.pending.append(text)
            return
        if self._already_counted(text):
            return
        buffered = self.connection.buffered_bytes()
        if buffered is not None and buffered > settings.JABBER_SLOW_CLIENT_BUFFER:
            # A client that stopped reading: cut it off instead of buffering without
            # bound. It reconnects and resumes with ?after=, so it loses nothing.
            logger.warning(
                "user %s reads too slowly (%d bytes queued); dropping", self.user_id, buffered
            )
            self.ready = False
            self.connection.abort()
            return
        await self.connection.deliver(text, wire)

    def _already_counted(self, text: str) -> bool:
        """An `activity_deleted` or `activity_edited` of a change the hello's counts hold: the
        client would subtract or add it twice."""
        if not (self.counted.deleted or self.counted.edited):
            return False
        if not text.startswith(('{"type":"activity_deleted"', '{"type":"activity_edited"')):
            return False
        return self.counted.includes(json.loads(text))

    async def close_by_event(self, event: events.CloseSockets) -> None:
        """A ban, logout or deactivation ends this socket (handed over by the hub)."""
        if event.room not in (None, getattr(self.room, "id", None)):
            return
        if not self.opened:
            # Mid-handshake: nothing may be sent before accept; the opening
            # finishes with this close instead of the hello.
            self.closing = event
            return
        if event.text:
            await self.send(text_data=event.text)
        await self.close(event.code)

    async def watch(self, room_id: int, joined: bool) -> None:
        """Start or stop hearing a room's activity (joined or left elsewhere; handed over by
        the hub)."""
        if self.key is None or room_id == self.room.id or (room_id in self.watched) == joined:
            return
        if joined:
            self.watched = self.watched | {room_id}
            # Perhaps a direct room: from now on this user's going offline is told.
            self.has_direct = True
            await self.hub.join(self.key, self, [watch_group(room_id)])
        else:
            self.watched = self.watched - {room_id}
            await self.hub.leave(self.key, [watch_group(room_id)])

    async def close_if_idle(self, horizon: float) -> None:
        """Close with 4408 when no client frame came since `horizon` (its presence is pruned)."""
        if self.ready and not self.close_sent and self.last_frame < horizon:
            logger.info("user %s sent nothing for too long; closing", self.user_id)
            await self.close(CloseCode.IDLE)

    async def send_frame(self, frame: dict) -> None:
        await self.send(text_data=protocol.encode(frame))

    # A frame or close for a client that has just left is dropped: its disconnect
    # comes next, and must not be lost to an error raised here.

    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        try:
            await super().send(text_data, bytes_data, close)
        except transport.PEER_GONE:
            logger.debug("user %s left before a frame could be sent", self.user_id)

    async def close(self, code=None, reason=None) -> None:
        # daphne (autobahn) refuses anything but a plain int, CloseCode members included.
        code = None if code is None else int(code)
        if self.close_sent:
            return
        try:
            await super().close(code, reason)
        except transport.PEER_GONE:
            logger.debug("user %s left before the close", self.user_id)
        self.close_sent = True
