"""The fast path under daphne: autobahn's protocol on a Twisted TCP connection.

Checked against daphne 4.2.3, autobahn 26.10.2 and Twisted 26.10.0. daphne
hands the application partial(server.handle_reply, protocol); the protocol
(autobahn's WebSocketServerProtocol) has `.state` and `.STATE_OPEN`, and its
`.transport` is Twisted's tcp.Server. Imported only when daphne is the server.

daphne's send never waits: autobahn writes each reply into Twisted's buffer
whether or not the client reads, so a client that asks for history and never
reads grew the server by 530 MiB in 30 s (docs/benchmarks.md, "daphne memory
under a non-reading history requester"). `allow_buffering` bounds that: a
client that stays past the high-water mark is dropped, where uvicorn's send
would wait.
"""

import logging

from twisted.internet.tcp import Connection as TCPConnection

from chat.transport import Connection, NotEngaged, Send

CHECKED_AGAINST = (("daphne", "4.2.3"), ("autobahn", "26.10.2"), ("twisted", "26.10.0"))

logger = logging.getLogger(__name__)


class DaphneConnection(Connection):
    """A socket on daphne's WebSocketProtocol."""

    name = "daphne"
    requires = (
        "state",
        "STATE_OPEN",
        "transport.write",
        "transport.writeSomeData",
        "transport.connected",
        "transport.disconnecting",
        "transport.abortConnection",
        # Twisted's FileDescriptor keeps a flushed buffer and a list of pending writes.
        "transport.dataBuffer",
        "transport.offset",
        "transport._tempDataLen",
        # Twisted asks a streaming producer to pause on each write past 64 KiB buffered.
        "transport.producer",
        "transport.streamingProducer",
        "transport.registerProducer",
        "transport.unregisterProducer",
        "transport.reactor.callLater",
    )

    def __init__(self, send: Send, protocol: object) -> None:
        super().__init__(send, protocol)
        self.transport: TCPConnection = protocol.transport

    async def deliver(self, text: str, wire: bytes) -> None:
        protocol = self.protocol
        if protocol.state != protocol.STATE_OPEN:
            # No data frame may follow a close: daphne's send refuses it (or sends
            # it, had we misread the state), as it would without a fast path.
            await self.send_text(text)
            return
        tcp = self.transport
        # Twisted buffers every write until the next loop pass (registering the
        # socket as a writer, then dropping it); with nothing queued we send at
        # once, as asyncio's transports do.
        if tcp.connected and not tcp.disconnecting and self.buffered_bytes() == 0:
            sent = tcp.writeSomeData(wire)
            if isinstance(sent, int):
                if sent == len(wire):
                    return
                wire = wire[sent:]
            # A lost connection is left for Twisted's own write to find.
        tcp.write(wire)

    def buffered_bytes(self) -> int | None:
        tcp = self.transport
        return len(tcp.dataBuffer) - tcp.offset + tcp._tempDataLen

    def allow_buffering(self, high_water: int) -> None:
        """Drop a client that leaves more than high_water unread: daphne's send cannot wait."""
        tcp = self.transport
        previous = tcp.producer
        # A pull producer is written to on request, not paused: leave it be (daphne has none).
        if previous is not None and not tcp.streamingProducer:
            return
        if previous is not None:
            tcp.unregisterProducer()
        tcp.registerProducer(_SlowReaderGuard(self, high_water, previous), True)

    def abort(self) -> bool:
        self.transport.abortConnection()
        return True


# A reply burst over the high-water mark (a resume's replay of long messages) is
# let through if the client drains it; one that does not drain for this long, or
# that passes HARD_LIMIT times the mark, is dropped.
GRACE_SECONDS = 1.0
HARD_LIMIT = 4


class _SlowReaderGuard:
    """Twisted's streaming producer on a socket: told to pause, it drops a client that stalls.

    Every write goes through Twisted's buffer (daphne's replies, the fast path's
    room frames), so this bounds all of them. The producer it replaces (daphne's
    HTTP channel, left from the upgrade) is still told everything.
    """

    def __init__(self, connection: DaphneConnection, high_water: int, previous: object) -> None:
        self.connection = connection
        self.high_water = high_water
        self.previous = previous
        self.dropped = False
        self.check = None  # Twisted's IDelayedCall while over the mark
        self.buffered_at_check = 0

    # Twisted's IPushProducer: called on each write while over 64 KiB buffered.
    def pauseProducing(self) -> None:
        buffered = self.connection.buffered_bytes()
        if buffered > HARD_LIMIT * self.high_water:
            self.drop(buffered)
        elif buffered > self.high_water and self.check is None and not self.dropped:
            self.buffered_at_check = buffered
            self.check = self.connection.transport.reactor.callLater(GRACE_SECONDS, self.recheck)
        if self.previous is not None:
            self.previous.pauseProducing()

    def resumeProducing(self) -> None:
        if self.previous is not None:
            self.previous.resumeProducing()

    def stopProducing(self) -> None:
        self.cancel_check()
        if self.previous is not None:
            self.previous.stopProducing()

    def recheck(self) -> None:
        """Still over the mark: drop the client unless it took some of the buffer meanwhile."""
        self.check = None
        buffered = self.connection.buffered_bytes()
        if buffered <= self.high_water:
            return
        if buffered >= self.buffered_at_check:
            self.drop(buffered)
            return
        self.buffered_at_check = buffered
        self.check = self.connection.transport.reactor.callLater(GRACE_SECONDS, self.recheck)

    def drop(self, buffered: int) -> None:
        # Writes go on being buffered until Twisted's next pass closes the socket.
        if self.dropped:
            return
        self.dropped = True
        self.cancel_check()
        logger.warning("a client reads too slowly (%d bytes queued); dropping it", buffered)
        self.connection.abort()

    def cancel_check(self) -> None:
        if self.check is not None and self.check.active():
            self.check.cancel()
        self.check = None


def adapter_for(protocol: object) -> type[Connection]:
    """The adapter for this daphne protocol object; NotEngaged says why there is none."""
    from daphne.ws_protocol import WebSocketProtocol

    if not isinstance(protocol, WebSocketProtocol):
        raise NotEngaged(f"no adapter for {type(protocol).__qualname__}")
    tcp = getattr(protocol, "transport", None)
    # TLS or UNIX-socket endpoints wrap or replace the TCP connection written to directly.
    if not isinstance(tcp, TCPConnection):
        raise NotEngaged(f"daphne's transport is {type(tcp).__qualname__}, not Twisted's TCP")
    return DaphneConnection
