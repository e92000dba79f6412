"""On a real daphne server: what it takes in and what it buffers are bounded."""

import asyncio
import json

import pytest

from tests.support.clients import UserSpec, create_user_sessions, recv_until, run_async, ws_connect

pytestmark = pytest.mark.live

MAX_FRAME = 64 * 1024
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
