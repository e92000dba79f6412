"""Below ASGI: write pre-encoded frames to a socket, and cut off a reader that stalls.

A room frame is the same bytes for every socket (server frames are not
masked), so the hub frames it once (`encode_wire`) and each socket writes
those bytes to its transport, instead of each socket's server framing the same
text again. ASGI has no back-pressure signal either, so the buffered size is
read off the transport.

Both need a server's private objects, so each supported server has one adapter
module, naming the versions it was checked against: `uvicorn.py` and
`daphne.py` (imported only when daphne is the server). `connection_for` picks
the adapter once per server class and logs once whether it engaged; where the
server is not known (the test communicator), or an adapter's check fails after
an upgrade, frames take the plain ASGI send (`Connection` itself).

A frame the fast path cannot write (the socket is closing, or its state reads
as closing) goes to the server's ASGI send, which sends it or refuses it as it
would with no fast path: never dropped on an open socket.

Worth its code, daphne's adapter included (docs/benchmarks.md, "Frame once,
write bytes"): 1 x 500 went from 4,000 to 48,000 deliveries/s on daphne, and
from 24,000 to >= 48,000/s on uvicorn's websockets implementation.
"""

import logging
import struct
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from importlib import metadata
from typing import Any

logger = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]


def _peer_gone_errors() -> tuple[type[BaseException], ...]:
    # Only daphne's stack raises autobahn's error, and daphne imports it before it
    # loads the application: under uvicorn autobahn is neither imported nor needed.
    disconnected = getattr(sys.modules.get("autobahn.exception"), "Disconnected", None)
    if disconnected is None:
        return (OSError,)
    return (OSError, disconnected)


# What a send raises once the client has gone: ASGI asks servers for an OSError
# (uvicorn's ClientDisconnected); daphne raises autobahn's Disconnected while the
# close handshake runs, and drops the send silently once the connection is closed.
PEER_GONE = _peer_gone_errors()


def encode_wire(text: str) -> bytes:
    """One final, unmasked, uncompressed text frame (RFC 6455 section 5.2).

    Valid on every connection, compression negotiated or not: RSV1 clear marks
    a message as not compressed (RFC 7692 section 6).
    """
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


class Connection:
    """An accepted socket, reached through the plain ASGI send: the fallback adapter."""

    name = "asgi"
    # Attribute paths the adapter reads on the server's protocol object.
    requires: tuple[str, ...] = ()

    def __init__(self, send: Send, protocol: object = None) -> None:
        self.send = send
        self.protocol = protocol

    async def deliver(self, text: str, wire: bytes) -> None:
        """Send a room frame (`text`, `wire` its bytes), or the server refuses it."""
        await self.send_text(text)

    async def send_text(self, text: str) -> None:
        """Hand the text to the server's ASGI send, which sends it or refuses it."""
        await self.send({"type": "websocket.send", "text": text})

    def buffered_bytes(self) -> int | None:
        """Bytes written for the client but not yet taken by its TCP connection."""
        return None

    def allow_buffering(self, high_water: int) -> None:
        """Let the server buffer up to high_water before a send blocks (we cut off sooner)."""

    def abort(self) -> bool:
        """Drop the TCP connection at once, discarding what is buffered; False if unknown."""
        return False


class NotEngaged(Exception):
    """An adapter cannot work on this server object; the message says why."""


def connection_for(send: Send) -> Connection:
    """The accepted socket under this ASGI send, through its server's adapter."""
    send = _unwrap(send)
    protocol = _protocol_of(send)
    server_class = type(protocol)
    adapter = _chosen.get(server_class)
    if adapter is None:
        adapter = _chosen[server_class] = _choose(protocol)
    return adapter(send, protocol)


# One adapter per server class, chosen at its first socket: a process runs one server.
_chosen: dict[type, type[Connection]] = {}

# Channels' session middleware wraps the send (InstanceSessionWrapper.real_send,
# checked against channels 4.3.2). Its wrapper only acts on HTTP responses and the
# accept, so plain frames skip it.
_CHANNELS_WRAPPER_ATTRIBUTE = "real_send"


def _unwrap(send: Send) -> Send:
    for _ in range(8):
        inner = getattr(getattr(send, "__self__", None), _CHANNELS_WRAPPER_ATTRIBUTE, None)
        if inner is None:
            break
        send = inner
    return send


def _protocol_of(send: Send) -> object:
    """The server's per-connection object behind its ASGI send."""
    # daphne hands the application partial(server.handle_reply, protocol).
    if isinstance(send, partial) and send.args:
        return send.args[0]
    # uvicorn hands it the protocol's bound send; anything else is not known.
    return getattr(send, "__self__", send)


def _choose(protocol: object) -> type[Connection]:
    """The adapter for this server object's class, logged once."""
    server_class = type(protocol)
    where = f"{server_class.__module__}.{server_class.__qualname__}"
    package = server_class.__module__.partition(".")[0]
    if package == "uvicorn":
        from chat.transport import uvicorn as server_adapters
    elif package == "daphne":
        from chat.transport import daphne as server_adapters
    elif package == "channels":
        logger.warning(
            "transport: no fast path: the ASGI send is still wrapped by %s "
            "(unwrapping was checked against channels 4.3.2); frames take the ASGI send",
            where,
        )
        return Connection
    else:
        logger.info("transport: no fast path under %s; frames take the ASGI send", where)
        return Connection
    checked = ", ".join(f"{name} {version}" for name, version in server_adapters.CHECKED_AGAINST)
    try:
        adapter = server_adapters.adapter_for(protocol)
        absent = _missing(protocol, adapter.requires)
        if absent:
            raise NotEngaged(f"{where} has no {', '.join(absent)}")
    except NotEngaged as reason:
        logger.warning(
            "transport: no fast path: %s (checked against %s); frames take the ASGI send",
            reason,
            checked,
        )
        return Connection
    installed = _installed_versions(server_adapters.CHECKED_AGAINST)
    if installed != server_adapters.CHECKED_AGAINST:
        logger.warning(
            "transport: %s adapter checked against %s, running on %s; re-check it",
            adapter.name,
            checked,
            ", ".join(f"{name} {version}" for name, version in installed),
        )
    logger.info("transport: %s fast path engaged", adapter.name)
    return adapter


def _missing(target: object, paths: tuple[str, ...]) -> list[str]:
    """The dotted attribute paths that cannot be read on target."""
    absent = []
    for path in paths:
        value = target
        for name in path.split("."):
            try:
                value = getattr(value, name)
            except AttributeError:
                absent.append(path)
                break
    return absent


def _installed_versions(checked: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    installed = []
    for name, _ in checked:
        try:
            installed.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            installed.append((name, "none"))
    return tuple(installed)
