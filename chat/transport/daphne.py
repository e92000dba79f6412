"""The fast path under daphne: autobahn's protocol on a Twisted TCP connection.

Checked against daphne 4.2.3, autobahn 26.10.2 and Twisted 26.10.0. daphne
hands the application partial(server.handle_reply, protocol); the protocol
(autobahn's WebSocketServerProtocol) has `.state` and `.STATE_OPEN`, and its
`.transport` is Twisted's tcp.Server. Imported only when daphne is the server.
"""

from twisted.internet.tcp import Connection as TCPConnection

from chat.transport import Connection, NotEngaged, Send

CHECKED_AGAINST = (("daphne", "4.2.3"), ("autobahn", "26.10.2"), ("twisted", "26.10.0"))


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

    def abort(self) -> bool:
        self.transport.abortConnection()
        return True


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
