"""Presence across server processes (SPEC §4, issue 3): real processes, one database, one Redis.

Two daphne processes share the database and the channel layer, as they would
behind a load balancer. The tests read presence the way a user sees it (the
``hello`` and ``presence`` frames) and, to know when the server has finished
with a closed socket, the ``presence_connection`` rows themselves.
Measured times are printed (``pytest -s``), never asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.support.clients import (
    Frame,
    UserSession,
    UserSpec,
    create_user_sessions,
    recv_until,
    run_async,
    ws_connect,
)
from tests.support.services import database_rows, wait_until

ROOM = "lobby"
# Test clients ping every quarter second (browsers: every 25 s).
HEARTBEAT = 0.25
# Presence shortened so a killed process's users go within seconds, not 90 s.
QUICK_PRESENCE = {
    "JABBER_PRESENCE_TIMEOUT": "3",
    "JABBER_PRESENCE_PRUNE_INTERVAL": "1",
    "JABBER_PRESENCE_TOUCH_INTERVAL": "1",
}


def open_sockets(env: Mapping[str, str], user: UserSession) -> int:
    """How many presence rows (live sockets, as the servers believe) the user has."""
    sql = "SELECT COUNT(*) FROM presence_connection WHERE user_id = ?"
    return database_rows(env, sql, (user.user_id,))[0][0]


def wait_for_sockets(env: Mapping[str, str], user: UserSession, count: int) -> None:
    wait_until(lambda: open_sockets(env, user) == count, 10, f"{user.username}: {count} sockets")


def names(frame: Frame) -> list[str]:
    return [user["username"] for user in frame["online"]]


async def hello(ws: ClientConnection) -> Frame:
    frame = await recv_until(ws, lambda frame: True)
    assert frame["type"] == "hello", frame
    return frame


async def heartbeat(sockets: list[ClientConnection]) -> None:
    """Ping from every socket every HEARTBEAT s, as browsers do every 25 s."""
    while True:
        for ws in sockets:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps({"type": "ping"}))
        await asyncio.sleep(HEARTBEAT)


def is_presence(frame: Frame) -> bool:
    return frame.get("type") == "presence"


def test_two_processes_agree_on_who_is_online_and_a_second_tab_changes_nothing(
    start_server, shared_env
):
    first, second = start_server(shared_env), start_server(shared_env)
    ann, bob = create_user_sessions(shared_env, [UserSpec("ann"), UserSpec("bob")])

    async def come_and_go() -> None:
        async with ws_connect(first, ROOM, ann.session) as a:
            assert names(await hello(a)) == ["ann"]
            async with ws_connect(second, ROOM, bob.session) as bob_tab:
                assert names(await hello(bob_tab)) == ["ann", "bob"]
                # Ann's own arrival comes first; then bob's, from the other process.
                joined = await recv_until(
                    a, lambda frame: is_presence(frame) and "bob" in names(frame)
                )
                assert names(joined) == ["ann", "bob"]

                # Bob opens a second tab, on the other process: nothing changes for anyone.
                async with ws_connect(first, ROOM, bob.session) as second_tab:
                    assert names(await hello(second_tab)) == ["ann", "bob"]
                    # Anything the tab's join published is handled before what it sends next.
                    await second_tab.send(json.dumps({"type": "message", "body": "two tabs"}))
                    skipped: list[Frame] = []
                    await recv_until(a, "message", skipped=skipped)
                    assert not [frame for frame in skipped if is_presence(frame)], skipped
                await asyncio.to_thread(wait_for_sockets, shared_env, bob, 1)
                # Closing that tab changed nothing either: the next frame ann gets is
                # bob's message, not a presence update.
                await bob_tab.send(json.dumps({"type": "message", "body": "still here"}))
                skipped = []
                await recv_until(
                    a, lambda frame: frame.get("body") == "still here", skipped=skipped
                )
                assert not [frame for frame in skipped if is_presence(frame)], skipped
            left = time.monotonic()
            skipped = []
            gone = await recv_until(a, is_presence, skipped=skipped)
            print(
                f"\n[presence] bob's last tab closed -> ann saw him leave: "
                f"{time.monotonic() - left:.2f} s"
            )
            assert names(gone) == ["ann"]
            async with ws_connect(second, ROOM, ann.session) as elsewhere:
                assert names(await hello(elsewhere)) == ["ann"]

    run_async(come_and_go())


def test_users_of_a_killed_process_drop_out_of_presence_within_the_window(start_server, shared_env):
    env = {**shared_env, **QUICK_PRESENCE}
    timeout = float(env["JABBER_PRESENCE_TIMEOUT"])
    window = timeout + float(env["JABBER_PRESENCE_PRUNE_INTERVAL"])
    survivor, doomed = start_server(env), start_server(env)
    ann, bob = create_user_sessions(env, [UserSpec("ann"), UserSpec("bob")])

    async def kill() -> float:
        async with (
            ws_connect(survivor, ROOM, ann.session) as a,
            ws_connect(doomed, ROOM, bob.session) as b,
        ):
            await hello(a)
            await hello(b)
            pinger = asyncio.create_task(heartbeat([a, b]))
            try:
                await recv_until(a, lambda frame: is_presence(frame) and "bob" in names(frame))
                # While both ping, nobody is pruned, however long it lasts.
                with pytest.raises(TimeoutError):
                    await recv_until(a, is_presence, timeout=window + 1)
                await asyncio.to_thread(doomed.kill)
                killed = time.monotonic()
                # Ann keeps pinging, so she stays; bob's rows age and the survivor prunes them.
                gone = await recv_until(a, is_presence, timeout=window + 15)
                took = time.monotonic() - killed
                assert names(gone) == ["ann"]
            finally:
                pinger.cancel()
            async with ws_connect(survivor, ROOM, ann.session) as again:
                assert names(await hello(again)) == ["ann"]
            return took

    took = run_async(kill())
    print(
        f"\n[presence] killed process's user gone from the survivor's presence after "
        f"{took:.2f} s (timeout {timeout:g} s, prune every "
        f"{env['JABBER_PRESENCE_PRUNE_INTERVAL']} s)"
    )
    assert open_sockets(env, bob) == 0


def test_after_a_redis_restart_closing_the_last_tab_still_removes_the_user(
    start_server, shared_env, redis_server
):
    # Default presence timeout: only a real leave can remove ann within seconds.
    env = {**shared_env, "JABBER_GROUP_REJOIN_INTERVAL": "1", "JABBER_PRESENCE_TOUCH_INTERVAL": "1"}
    first, second = start_server(env), start_server(env)
    ann, bob = create_user_sessions(env, [UserSpec("ann"), UserSpec("bob")])

    async def restart() -> None:
        a = await ws_connect(first, ROOM, ann.session)
        b = await ws_connect(second, ROOM, bob.session)
        await hello(a)
        await hello(b)
        await asyncio.to_thread(redis_server.stop)
        # Whatever the sockets do while Redis is away (stay, or close), play the client.
        await a.send(json.dumps({"type": "ping"}))
        await b.send(json.dumps({"type": "ping"}))
        for ws in (a, b):
            with contextlib.suppress(ConnectionClosed, TimeoutError):
                await recv_until(ws, "pong", timeout=5)
        await asyncio.to_thread(redis_server.start)
        for server in (first, second):
            await asyncio.to_thread(
                wait_until, lambda s=server: (s.healthz() or (0,))[0] == 200, 30, "healthz"
            )
        if a.close_code is not None:
            a = await ws_connect(first, ROOM, ann.session)
            await hello(a)
        if b.close_code is not None:
            b = await ws_connect(second, ROOM, bob.session)
            await hello(b)
        pinger = asyncio.create_task(heartbeat([a, b]))
        try:
            # Wait until broadcasts cross the processes again (groups re-joined on heartbeat).
            for number in range(100):
                await a.send(json.dumps({"type": "message", "body": f"probe {number}"}))
                with contextlib.suppress(TimeoutError):
                    await recv_until(b, lambda f, n=number: f.get("body") == f"probe {n}", 0.5)
                    break
            else:
                raise AssertionError("no message crossed the processes after the restart")
            await a.close()
            closed = time.monotonic()
            gone = await recv_until(b, lambda f: is_presence(f) and "ann" not in names(f), 10)
            print(
                f"\n[presence] after the Redis restart, ann's leave seen in "
                f"{time.monotonic() - closed:.2f} s"
            )
            assert names(gone) == ["bob"]
        finally:
            pinger.cancel()
            for ws in (a, b):
                await ws.close()

    try:
        run_async(restart())
    finally:
        print(f"\n[presence] ann's presence rows at the end: {open_sockets(env, ann)}")
