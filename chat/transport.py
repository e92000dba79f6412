"""How much a socket's server has buffered for a client, so a reader that stalls can be cut off.

ASGI has no back-pressure signal for this, so we look at the transport under
the two servers we run on: daphne (Twisted) and uvicorn (asyncio). Elsewhere
(the test communicator) nothing is known and nothing is done.
"""

import logging
from collections.abc import Callable
from functools import partial

logger = logging.getLogger(__name__)


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
