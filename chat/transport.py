"""Below ASGI: write pre-encoded frames, and cut off a reader that stalls.

A room frame is the same bytes for every socket (server frames are not
masked), so the hub frames it once and writes it to each socket's transport,
instead of each socket's server framing the same text again. ASGI has no
back-pressure signal either, so the buffered size is read off the transport.
Both need the server's objects: daphne (Twisted, autobahn) and uvicorn
(asyncio; websockets, websockets-sansio or wsproto). Elsewhere (the test
communicator) nothing is known and frames take the ASGI send.
"""

import logging
import struct
from collections.abc import Callable
from functools import partial

from autobahn.exception import Disconnected

logger = logging.getLogger(__name__)

# What a send raises once the client has gone: ASGI asks servers for an OSError
# (uvicorn's ClientDisconnected); daphne raises autobahn's Disconnected while the
# close handshake runs, and drops the send silently once the connection is closed.
PEER_GONE = (OSError, Disconnected)


def unwrap(send: Callable) -> Callable:
    """The server's own send, under Channels' session middleware wrappers.

    The wrappers only act on HTTP responses and the accept; skipping them for
    plain frames saves work on every delivery.
    """
    for _ in range(8):
        inner = getattr(getattr(send, "__self__", None), "real_send", None)
        if inner is None:
            break
        send = inner
    return send


def find(send: Callable) -> object | None:
    """The transport under a server's send, or None where it is not known."""
    send = unwrap(send)
    # daphne hands the application partial(server.handle_reply, protocol).
    if isinstance(send, partial) and send.args:
        return getattr(send.args[0], "transport", None)
    # uvicorn hands it the protocol's bound asgi_send.
    owner = getattr(send, "__self__", None)
    return getattr(owner, "transport", None)


def encode_frame(text: str) -> bytes:
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


def frame_writer(send: Callable) -> Callable[[bytes], bool] | None:
    """A function writing an encoded frame straight to the socket under this send.

    It returns False, writing nothing, once the socket is closing: no data frame
    may follow a close. None where the server is not known.
    """
    send = unwrap(send)
    if isinstance(send, partial) and send.args:
        protocol = send.args[0]  # daphne's WebSocketProtocol (autobahn)
        tcp = getattr(protocol, "transport", None)
        if tcp is None or not hasattr(protocol, "STATE_OPEN"):
            return None

        # Twisted buffers every write until the next loop pass (registering the
        # socket as a writer, then dropping it); to a plain TCP socket with nothing
        # queued we send at once, as asyncio's transports do.
        direct = _is_twisted_tcp(tcp)

        def write_daphne(frame: bytes) -> bool:
            if protocol.state != protocol.STATE_OPEN:
                return False
            if direct and tcp.connected and not tcp.disconnecting and buffered_bytes(tcp) == 0:
                sent = tcp.writeSomeData(frame)
                if isinstance(sent, int):
                    if sent == len(frame):
                        return True
                    frame = frame[sent:]
                # A lost connection is left for Twisted's own write to find.
            tcp.write(frame)
            return True

        return write_daphne
    protocol = getattr(send, "__self__", None)
    tcp = getattr(protocol, "transport", None)
    # uvicorn: websockets-sansio and wsproto keep the connection state in .conn,
    # the legacy websockets implementation on the protocol itself.
    state_owner = getattr(protocol, "conn", protocol)
    if tcp is None or not hasattr(state_owner, "state") or not hasattr(tcp, "is_closing"):
        return None

    def write_uvicorn(frame: bytes) -> bool:
        if (
            getattr(state_owner.state, "name", None) != "OPEN"
            or getattr(protocol, "close_sent", False)
            or tcp.is_closing()
        ):
            return False
        tcp.write(frame)
        return True

    return write_uvicorn


def _is_twisted_tcp(tcp: object) -> bool:
    try:
        from twisted.internet.tcp import Connection
    except ImportError:
        return False
    return isinstance(tcp, Connection)


def buffered_bytes(transport: object | None) -> int | None:
    """Bytes written for the client but not yet taken by its TCP connection."""
    if transport is None:
        return None
    size = getattr(transport, "get_write_buffer_size", None)
    if size is not None:
        return size()
    try:
        # Twisted's FileDescriptor keeps a flushed buffer and a list of pending writes.
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:
        return None


def allow_buffering(transport: object | None, high_water: int) -> None:
    """Let asyncio buffer up to high_water before a send blocks (we cut off sooner)."""
    set_limits = getattr(transport, "set_write_buffer_limits", None)
    if set_limits is not None:
        set_limits(high=high_water)


def abort(transport: object | None) -> bool:
    """Drop the TCP connection at once, discarding what is buffered; False if unknown."""
    for name in ("abortConnection", "abort"):
        method = getattr(transport, name, None)
        if method is not None:
            method()
            return True
    return False
