"""On real servers with the whole stack, room frames take the fast path below ASGI."""

import json

import pytest

from tests.support.clients import UserSpec, create_user_sessions, recv_until, run_async, ws_connect


# Each server logs once which adapter its sockets use (chat/transport); a server
# whose private objects changed says "no fast path" instead, and this fails.
@pytest.mark.parametrize(
    ("kind", "adapter"),
    [("daphne", "daphne"), ("uvicorn-sansio", "uvicorn-sansio"), ("uvicorn", "uvicorn-sansio")],
)
def test_room_frames_take_the_fast_path_on_a_real_server(start_server, live_env, kind, adapter):
    server = start_server(live_env, kind=kind)
    ann, bob = create_user_sessions(live_env, [UserSpec("ann"), UserSpec("bob")])

    async def chat() -> list[str]:
        async with (
            ws_connect(server, "lobby", ann.session) as a,
            ws_connect(server, "lobby", bob.session) as b,
        ):
            await recv_until(a, "hello")
            await recv_until(b, "hello")
            await a.send(json.dumps({"type": "message", "body": "hi", "client_id": "c-1"}))
            frames = [await recv_until(client, "message") for client in (a, b)]
            return [frame["body"] for frame in frames]

    assert run_async(chat()) == ["hi", "hi"]
    log = server.log_path.read_text()
    assert log.count(f"transport: {adapter} fast path engaged") == 1
    assert "transport: no fast path" not in log
