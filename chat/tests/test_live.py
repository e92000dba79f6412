"""A real server process on a loopback port, two logged-in users, real sockets."""

import asyncio
import json
import urllib.request

import pytest

from tests.support.clients import UserSpec, create_user_sessions, recv_until, run_async, ws_connect

PINGS_IN_FLIGHT = 300


def get_page(server, path: str, session: str) -> tuple[int, str]:
    request = urllib.request.Request(server.url + path, headers={"Cookie": f"sessionid={session}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return response.status, response.read().decode()


# Room frames are framed once by the hub and written under each server's WebSocket
# implementation; the websockets client offers compression, which every server
# declines as `manage.py serve` starts it (uvicorn with per-message-deflate off).
@pytest.mark.parametrize("kind", ["daphne", "uvicorn", "uvicorn-sansio"])
def test_two_users_chat_over_a_real_server_and_find_the_scrollback(start_server, live_env, kind):
    server = start_server(live_env, kind=kind)
    ann, bob = create_user_sessions(live_env, [UserSpec("ann"), UserSpec("bob")])

    async def chat() -> int:
        async with (
            ws_connect(server, "lobby", ann.session) as a,
            ws_connect(server, "lobby", bob.session) as b,
        ):
            compressed = [type(e).__name__ for e in a.protocol.extensions]
            assert compressed == []
            hello = json.loads(await a.recv())
            assert hello["type"] == "hello" and hello["you"]["username"] == "ann"
            await recv_until(b, "hello")
            await a.send(
                json.dumps({"type": "message", "body": "hi <b>bob</b>", "client_id": "c-1"})
            )
            to_bob = await recv_until(b, "message")
            to_ann = await recv_until(a, "message")
            assert to_bob == to_ann
            assert to_bob["user"]["username"] == "ann" and to_bob["seq"] == 1
            await b.send(json.dumps({"type": "message", "body": "hi ann"}))
            reply = await recv_until(a, lambda f: f["type"] == "message" and f["seq"] == 2)
            assert reply["user"]["username"] == "bob"
            return to_bob["id"]

    first_id = run_async(chat())

    async def rejoin() -> None:
        async with ws_connect(server, "lobby", bob.session) as b:
            hello = await recv_until(b, "hello")
            assert [m["body"] for m in hello["messages"]] == ["hi <b>bob</b>", "hi ann"]
        async with ws_connect(server, "lobby", bob.session, after=first_id) as b:
            hello = await recv_until(b, "hello")
            assert [m["body"] for m in hello["messages"]] == ["hi ann"]

    run_async(rejoin())
    status, page = get_page(server, "/chat/lobby/", bob.session)
    assert status == 200
    assert "hi &lt;b&gt;bob&lt;/b&gt;" in page and "<b>bob</b>" not in page


def test_real_server_refuses_anonymous_and_foreign_origin(server, live_env):
    (ann,) = create_user_sessions(live_env, [UserSpec("ann")])

    async def refused(**options) -> int:
        try:
            async with ws_connect(server, "lobby", **options):
                return 101
        except Exception as error:
            return getattr(getattr(error, "response", None), "status_code", -1)

    assert run_async(refused(session=None)) == 403
    assert run_async(refused(session=ann.session, origin="http://evil.example")) == 403
    assert run_async(refused(session=ann.session, origin="")) == 403


# daphne drops a frame over its limit (--websocket-max-frame-size) without a close frame.
@pytest.mark.parametrize(("kind", "code"), [("daphne", 1006), ("uvicorn", 1009)])
def test_real_server_closes_oversized_frames(start_server, live_env, kind, code):
    server = start_server(live_env, kind=kind)
    (ann,) = create_user_sessions(live_env, [UserSpec("ann")])

    async def oversized() -> int | None:
        async with ws_connect(server, "lobby", ann.session, max_size=None) as a:
            await recv_until(a, "hello")
            await a.send(json.dumps({"type": "message", "body": "x" * 70000}))
            try:
                while True:
                    await asyncio.wait_for(a.recv(), 5)
            except Exception:
                return a.close_code

    assert run_async(oversized()) == code


# A tab that closes while its frames are still being handled (pings, then gone): the
# answers find the client gone, and the tab must still leave the room. uvicorn raises
# for each of those sends; daphne only in the moment its close handshake runs, which
# the in-process presence tests cover.
@pytest.mark.parametrize("kind", ["uvicorn", "uvicorn-sansio"])
def test_a_tab_closed_while_its_pings_are_handled_leaves_no_ghost(start_server, live_env, kind):
    server = start_server(live_env, kind=kind)
    ann, bob = create_user_sessions(live_env, [UserSpec("ann"), UserSpec("bob")])

    def online(frame: dict) -> list[str]:
        return [user["username"] for user in frame["online"]]

    async def ping_and_go() -> list[str]:
        async with ws_connect(server, "lobby", bob.session) as b:
            await recv_until(b, "hello")
            async with ws_connect(server, "lobby", ann.session) as a:
                await recv_until(a, "hello")
                await recv_until(b, lambda f: f["type"] == "presence" and "ann" in online(f))
                for _ in range(PINGS_IN_FLIGHT):
                    await a.send(json.dumps({"type": "ping"}))
            # Closed without reading a pong: most are answered after the peer left.
            gone = await recv_until(b, lambda f: f["type"] == "presence" and "ann" not in online(f))
            return online(gone)

    assert run_async(ping_and_go()) == ["bob"]
    log = server.log_path.read_text()
    assert "Exception inside application" not in log and "Exception in ASGI" not in log
