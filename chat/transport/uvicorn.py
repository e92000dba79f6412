"""The fast path under uvicorn: its websockets and websockets-sansio protocols.

Checked against uvicorn 0.54.0 and websockets 17.4 (requirements.txt). Both
protocols keep the asyncio transport in `.transport`; websockets-sansio keeps
the connection state in `.conn.state` and sets `.close_sent`, the legacy
websockets implementation keeps the state on the protocol itself. uvicorn's
wsproto implementation is not a dependency, so it gets no adapter.
"""

from asyncio import Transport

from websockets.protocol import State

from chat.transport import Connection, NotEngaged, Send

CHECKED_AGAINST = (("uvicorn", "0.54.0"), ("websockets", "17.4"))

_TRANSPORT = (
    "transport.write",
    "transport.is_closing",
    "transport.get_write_buffer_size",
    "transport.set_write_buffer_limits",
    "transport.abort",
)


class _UvicornConnection(Connection):
    """A socket on one of uvicorn's asyncio protocols."""

    def __init__(self, send: Send, protocol: object) -> None:
        super().__init__(send, protocol)
        self.transport: Transport = protocol.transport

    def buffered_bytes(self) -> int | None:
        return self.transport.get_write_buffer_size()

    def allow_buffering(self, high_water: int) -> None:
        self.transport.set_write_buffer_limits(high=high_water)

    def abort(self) -> bool:
        self.transport.abort()
        return True


class SansIOConnection(_UvicornConnection):
    """uvicorn's WebSocketsSansIOProtocol (`--ws websockets-sansio`, and `auto`)."""

    name = "uvicorn-sansio"
    requires = ("conn.state", "close_sent", *_TRANSPORT)

    async def deliver(self, text: str, wire: bytes) -> None:
        protocol = self.protocol
        if (
            protocol.conn.state is State.OPEN
            and not protocol.close_sent
            and not self.transport.is_closing()
        ):
            self.transport.write(wire)
        else:
            # No data frame may follow a close: the server's send refuses it (or
            # sends it, had we misread the state), as it would without a fast path.
            await self.send_text(text)


class WebsocketsConnection(_UvicornConnection):
    """uvicorn's legacy WebSocketProtocol (`--ws websockets`)."""

    name = "uvicorn-websockets"
    requires = ("state", *_TRANSPORT)

    async def deliver(self, text: str, wire: bytes) -> None:
        if self.protocol.state is State.OPEN and not self.transport.is_closing():
            self.transport.write(wire)
        else:
            await self.send_text(text)  # refused or sent by the server, as above


def adapter_for(protocol: object) -> type[Connection]:
    """The adapter for this uvicorn protocol object; NotEngaged says why there is none."""
    module = type(protocol).__module__
    if module == "uvicorn.protocols.websockets.websockets_sansio_impl":
        adapter, state = SansIOConnection, getattr(getattr(protocol, "conn", None), "state", None)
    elif module == "uvicorn.protocols.websockets.websockets_impl":
        adapter, state = WebsocketsConnection, getattr(protocol, "state", None)
    else:
        raise NotEngaged(f"no adapter for {module}.{type(protocol).__qualname__}")
    # Read as websockets' own State, or an OPEN socket would look closed on every frame.
    if not isinstance(state, State):
        raise NotEngaged(f"{adapter.name}: its connection state is {state!r}, not a State")
    return adapter
