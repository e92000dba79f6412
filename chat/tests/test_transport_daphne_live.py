"""On a real daphne server: what it takes in and what it buffers are bounded."""

import asyncio
import base64
import json
import os
import socket
import struct
import time

import pytest

from tests.support.clients import UserSpec, create_user_sessions, recv_until, run_async, ws_connect

pytestmark = pytest.mark.live

MAX_FRAME = 64 * 1024
# Small, so a few answers pass the mark: 4 x this is where a client's unread
# output counts as stalled (chat.transport.daphne).
SLOW_CLIENT_BUFFER = 32 * 1024
SEEDED = 40
LONG_BODY = "y" * 3900
# Room to post the seed quickly; the frame budget stays the production one.
BUFFER_ENV = {
    "JABBER_SLOW_CLIENT_BUFFER": str(SLOW_CLIENT_BUFFER),
    # The hello carries one message: only history answers pass the mark.
    "JABBER_HISTORY_PAGE": "1",
    "JABBER_RATE_BURST": "1000",
    "JABBER_RATE_PER_SECOND": "1000",
    # The room's next online list (the seeder gone, the reader come) waits past the test: a
    # room frame would meet the consumer's own slow-client check, which may drop the reader
    # first on a busy machine, and this is a test of the transport's.
    "JABBER_PRESENCE_BROADCAST_INTERVAL": "3600",
}
HISTORY = json.dumps({"type": "history", "limit": 100})
# What the client sees when autobahn fails a connection: it drops the TCP
# connection without a close frame (failByDrop).
DROPPED = 1006


async def _close_code_after(client, message) -> int | None:
    await client.send(message)
    try:
        while True:
            await asyncio.wait_for(client.recv(), 10)
    except Exception:
        return client.close_code


def test_daphne_drops_a_frame_over_the_limit_before_the_application_sees_it(start_server, live_env):
    server = start_server({**live_env, "JABBER_MAX_FRAME": str(MAX_FRAME)}, kind="daphne")
    (ann,) = create_user_sessions(live_env, [UserSpec("ann")])
    frame = json.dumps({"type": "message", "body": "x" * MAX_FRAME, "client_id": "c-1"})

    async def oversized() -> int | None:
        async with ws_connect(server, "lobby", ann.session, max_size=None) as client:
            await recv_until(client, "hello")
            return await _close_code_after(client, frame)

    # Without daphne's own limit the consumer would read the frame and close with 4009.
    assert run_async(oversized()) == DROPPED
    assert "over the limit" not in server.log_path.read_text()


def test_a_message_over_the_limit_in_small_frames_is_closed_by_jabber(start_server, live_env):
    server = start_server({**live_env, "JABBER_MAX_FRAME": str(MAX_FRAME)}, kind="daphne")
    (ann,) = create_user_sessions(live_env, [UserSpec("ann")])
    text = json.dumps({"type": "message", "body": "x" * MAX_FRAME, "client_id": "c-1"})
    fragments = [text[start : start + 16 * 1024] for start in range(0, len(text), 16 * 1024)]

    async def oversized() -> int | None:
        async with ws_connect(server, "lobby", ann.session, max_size=None) as client:
            await recv_until(client, "hello")
            return await _close_code_after(client, fragments)

    # Each frame is under daphne's limit; the whole message is not.
    assert run_async(oversized()) == 4009


class NonReader:
    """A raw WebSocket client: the handshake, then frames sent and nothing ever read."""

    def __init__(self, server, room: str, session: str) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connecting, so the window offered to the server stays small.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.socket.settimeout(10)
        self.socket.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.socket.sendall(
            (
                f"GET /ws/chat/{room}/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: {server.url}\r\nCookie: sessionid={session}\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += self.socket.recv(1)
        assert answer.startswith(b"HTTP/1.1 101"), answer

    def send_text(self, text: str) -> None:
        """One masked text frame of under 126 bytes."""
        payload, mask = text.encode(), os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.socket.sendall(struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked)

    def dropped_within(self, seconds: float) -> bool:
        """Whether the server resets the connection within `seconds` (pings show it)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.send_text(json.dumps({"type": "ping"}))
            except OSError:
                return True
            time.sleep(0.2)  # no event tells a writer that its peer reset: poll, bounded
        return False


async def _seed(server, session: str) -> None:
    async with ws_connect(server, "quiet", session, max_size=None) as client:
        await recv_until(client, "hello")
        for number in range(SEEDED):
            await client.send(
                json.dumps({"type": "message", "body": LONG_BODY, "client_id": f"s-{number}"})
            )
        await recv_until(client, lambda frame: frame.get("client_id") == f"s-{SEEDED - 1}")


def test_daphne_drops_a_client_that_asks_for_history_and_never_reads(start_server, live_env):
    server = start_server({**live_env, **BUFFER_ENV}, kind="daphne")
    ann, bob = create_user_sessions(live_env, [UserSpec("ann"), UserSpec("bob")])
    run_async(_seed(server, ann.session))
    reader = NonReader(server, "quiet", bob.session)
    try:
        # A quiet room (see BUFFER_ENV): no room frame reaches the consumer's own check.
        for _ in range(20):
            reader.send_text(HISTORY)
        assert reader.dropped_within(20)
    finally:
        reader.socket.close()
    assert "a client reads too slowly" in server.log_path.read_text()


def test_daphne_keeps_a_client_that_reads_answers_over_the_mark(start_server, live_env):
    server = start_server({**live_env, **BUFFER_ENV}, kind="daphne")
    (ann,) = create_user_sessions(live_env, [UserSpec("ann")])
    run_async(_seed(server, ann.session))

    async def read_big_answers() -> list[int]:
        async with ws_connect(server, "quiet", ann.session, max_size=None) as client:
            await recv_until(client, "hello")
            # Each answer (~160 KB) passes the 128 KiB mark; the client takes them.
            for _ in range(5):
                await client.send(HISTORY)
            return [len((await recv_until(client, "history"))["messages"]) for _ in range(5)]

    assert run_async(read_big_answers()) == [SEEDED] * 5
    assert "a client reads too slowly" not in server.log_path.read_text()
