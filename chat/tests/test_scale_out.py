"""Scale-out (SPEC §8, issue 7): several real server processes on one database and one Redis.

Every test starts real daphne (or uvicorn) processes on loopback ports and talks
to them over real sockets. The clients play the browser of SPEC §7: they keep
messages by id, notice a ``seq`` jump, repair it with ``history`` ``after`` and
resume with ``?after=<last id>``. Faults are real too: Redis stopped, restarted
empty or flushed, a server process killed with SIGKILL or paused with SIGSTOP.

Recovery times are measured and printed (``pytest -s`` shows them), never asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import re
import signal
import sqlite3
import time
from collections.abc import Callable, Mapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from conftest import production_suite
from jabber.testing.clients import (
    Frame,
    UserSession,
    UserSpec,
    create_user_sessions,
    frames_before_pong,
    recv_until,
    run_async,
    ws_connect,
)
from jabber.testing.services import RedisServer, ServerProcess, wait_until

ROOM = "lobby"
# A client here pings this often, much faster than a browser's 25 s, so heartbeat
# work (presence refresh, group re-join) happens within the test's patience.
HEARTBEAT = 0.25
# Short heartbeat-driven intervals, so the servers react within a second or two.
QUICK_HEARTBEATS = {
    "JABBER_PRESENCE_TOUCH_INTERVAL": "1",
    "JABBER_GROUP_REJOIN_INTERVAL": "1",
}
GENEROUS_LIMITS = {
    "JABBER_RATE_BURST": "10000",
    "JABBER_RATE_PER_SECOND": "1000",
    "JABBER_JOIN_BURST": "1000",
    "JABBER_JOIN_PER_SECOND": "1000",
}


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def shared_env(request: pytest.FixtureRequest, redis_server: RedisServer) -> dict[str, str]:
    """One database and one empty Redis for several processes: PostgreSQL in test-prod, else SQLite."""
    if production_suite():
        return request.getfixturevalue("scaled_env")
    redis_server.flushall()
    return {**request.getfixturevalue("sqlite_env"), "REDIS_URL": redis_server.url}


# ------------------------------------------------------------------- helpers


def database_rows(env: Mapping[str, str], sql: str, parameters: tuple = ()) -> list[tuple]:
    """Run one read-only query (``?`` placeholders) on the servers' database, from outside."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=20)) as db:
            return db.execute(sql, parameters).fetchall()
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as db:
        return db.execute(sql.replace("?", "%s"), parameters).fetchall()


def stored_messages(env: Mapping[str, str], room: str = ROOM) -> list[tuple[int, int, str | None]]:
    """(id, seq, client_id) of every visible message of the room, by id: the record."""
    return [
        tuple(row)
        for row in database_rows(
            env,
            "SELECT m.id, m.seq, m.client_id FROM chat_message m JOIN chat_room r"
            " ON r.id = m.room_id WHERE r.name = ? AND m.deleted IS NULL ORDER BY m.id",
            (room,),
        )
    ]


def room_id(env: Mapping[str, str], room: str = ROOM) -> int:
    return database_rows(env, "SELECT id FROM chat_room WHERE name = ?", (room,))[0][0]


def rss_kib(pid: int) -> int:
    """Resident memory of a process, KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_healthy(server: ServerProcess, timeout: float) -> None:
    """Wait until /healthz answers 200 again (the channel layer is back)."""
    wait_until(
        lambda: (server.healthz(timeout=2) or (0, ""))[0] == 200,
        timeout,
        f"{server.kind} on port {server.port} healthy again",
        interval=0.1,
        alive=lambda: server.process is not None and server.process.poll() is None,
    )


def report(label: str, seconds: float) -> None:
    """Print a measured figure for the closing note (shown with ``pytest -s``)."""
    print(f"\n[scale-out] {label}: {seconds:.2f} s")


def http_request(
    server: ServerProcess,
    method: str,
    path: str,
    cookies: Mapping[str, str],
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, str]:
    """One HTTP request without following redirects; (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        all_headers.update(headers or {})
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode(errors="replace")
    finally:
        connection.close()


def admin_add(server: ServerProcess, session: str, path: str, fields: Mapping[str, Any]) -> int:
    """Submit an admin "add" form as a logged-in moderator would, CSRF token and all."""
    status, headers, page = http_request(server, "GET", path, {"sessionid": session})
    assert status == 200, f"GET {path}: {status}"
    cookie = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        cookie.load(value)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token and "csrftoken" in cookie, "the admin form carries no CSRF token"
    status, _, page = http_request(
        server,
        "POST",
        path,
        {"sessionid": session, "csrftoken": cookie["csrftoken"].value},
        body=urlencode({**fields, "csrfmiddlewaretoken": token.group(1)}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": server.url + path,
        },
    )
    assert status == 302, f"POST {path} was not accepted ({status}): {page[-2000:]}"
    return status


class ChatClient:
    """One browser tab as SPEC §7 describes it.

    It keeps every message it learns of by id, remembers what it sent until
    the echo (or an error) comes back, notices a ``seq`` jump (in a ``message``
    or a ``pong``) and fills it with ``history`` ``after``, and resumes with
    ``?after=<last id>``.
    """

    def __init__(self, user: UserSession, room: str = ROOM) -> None:
        self.user = user
        self.room = room
        self.ws: ClientConnection | None = None
        self.messages: dict[int, Frame] = {}
        self.errors: list[Frame] = []
        self.pending: dict[str, str] = {}
        self.latest_seq = 0
        self.replayed: list[int] = []
        self.repaired = 0

    # connection ---------------------------------------------------------

    @property
    def last_id(self) -> int | None:
        return max(self.messages, default=None)

    async def open(self, server: ServerProcess, **options: Any) -> Frame:
        """Connect (resuming after the last id held) and read ``hello``."""
        after = self.last_id
        self.ws = await ws_connect(server, self.room, self.user.session, after=after, **options)
        hello = await recv_until(self.ws, lambda frame: True)
        assert hello["type"] == "hello", hello
        if after is not None:
            early = [m["id"] for m in hello["messages"] if m["id"] <= after]
            assert not early, f"resume after {after} replayed {early} again"
            self.replayed += [m["id"] for m in hello["messages"]]
        self.absorb(hello["messages"])
        return hello

    async def reconnect(self, servers: list[ServerProcess], timeout: float = 30.0) -> float:
        """Reconnect to the first server that takes us, with backoff; return the seconds it took."""
        started = time.monotonic()
        delay = 0.05
        last_error: Exception | None = None
        while time.monotonic() - started < timeout:
            for server in servers:
                try:
                    await self.open(server)
                    return time.monotonic() - started
                except (OSError, ConnectionClosed, TimeoutError, AssertionError) as error:
                    last_error = error
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
        raise AssertionError(f"{self.user.username} could not reconnect: {last_error!r}")

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)

    @property
    def is_open(self) -> bool:
        return self.ws is not None and self.ws.close_code is None

    # frames -------------------------------------------------------------

    def absorb(self, messages: list[Frame]) -> None:
        for message in messages:
            self.messages[message["id"]] = message
            self.latest_seq = max(self.latest_seq, message["seq"])
            if message["user"]["id"] == self.user.user_id:
                self.pending.pop(message.get("client_id"), None)

    def take(self, frame: Frame) -> None:
        """Remember what a frame tells the client."""
        kind = frame.get("type")
        if kind == "message":
            self.absorb([frame])
        elif kind == "history":
            self.absorb(frame["messages"])
        elif kind == "pong":
            self.latest_seq = max(self.latest_seq, frame["seq"])
        elif kind == "error":
            self.errors.append(frame)
            self.pending.pop(frame.get("client_id"), None)

    async def read_until(self, predicate: Callable[[Frame], bool], timeout: float = 10.0) -> Frame:
        """Read frames, remembering each, until one satisfies ``predicate``."""
        assert self.ws is not None

        async def read() -> Frame:
            while True:
                frame = json.loads(await self.ws.recv())
                self.take(frame)
                if predicate(frame):
                    return frame

        return await asyncio.wait_for(read(), timeout)

    async def send(self, body: str, client_id: str) -> None:
        assert self.ws is not None
        self.pending[client_id] = body
        await self.ws.send(json.dumps({"type": "message", "body": body, "client_id": client_id}))

    async def send_and_confirm(self, body: str, client_id: str, timeout: float = 10.0) -> Frame:
        """Send and wait for the echo or the error naming our client_id."""
        await self.send(body, client_id)
        return await self.read_until(
            lambda frame: (
                frame.get("client_id") == client_id and frame.get("type") in ("message", "error")
            ),
            timeout,
        )

    async def resend_pending(self) -> None:
        """Send again, once, what was never confirmed (same client_id: stored at most once).

        The echo may itself be lost (a group not yet re-joined); ``catch_up`` finds
        the stored message by ``seq`` then, and that confirms it too.
        """
        assert self.ws is not None
        for client_id, body in list(self.pending.items()):
            frame = {"type": "message", "body": body, "client_id": client_id}
            await self.ws.send(json.dumps(frame))

    async def ping(self, timeout: float = 10.0) -> Frame:
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": "ping"}))
        return await self.read_until(lambda frame: frame.get("type") == "pong", timeout)

    # seq ----------------------------------------------------------------

    def seqs(self) -> list[int]:
        return sorted(message["seq"] for message in self.messages.values())

    def holes(self) -> list[int]:
        held = {message["seq"] for message in self.messages.values()}
        return [seq for seq in range(1, self.latest_seq + 1) if seq not in held]

    async def repair(self, timeout: float = 10.0) -> list[int]:
        """Fill every ``seq`` hole with ``history`` ``after``; return the seqs that were missing."""
        assert self.ws is not None
        missing = self.holes()
        rounds = 0
        while self.holes():
            rounds += 1
            assert rounds <= 50, f"holes {self.holes()} would not fill"
            first = self.holes()[0]
            before = [m for m in self.messages.values() if m["seq"] < first]
            anchor = max((m["id"] for m in before), default=0)
            await self.ws.send(json.dumps({"type": "history", "after": anchor, "limit": 100}))
            await self.read_until(lambda frame: frame.get("type") == "history", timeout)
        self.repaired += len(missing)
        return missing

    async def catch_up(self, timeout: float = 10.0) -> list[int]:
        """Ping to learn the room's latest seq, then repair; return the seqs that were missing."""
        await self.ping(timeout)
        return await self.repair(timeout)

    async def receive_through(self, seq: int, timeout: float = 15.0) -> None:
        """Read until every message up to ``seq`` is held, repairing jumps as they show."""
        deadline = time.monotonic() + timeout
        while not (self.latest_seq >= seq and not self.holes()):
            left = deadline - time.monotonic()
            assert left > 0, f"{self.user.username} holds seqs {self.seqs()}, wants 1..{seq}"
            if self.holes():
                await self.repair(left)
            else:
                with contextlib.suppress(TimeoutError):
                    await self.read_until(lambda frame: frame.get("type") == "message", left)


async def heartbeat(clients: list[ChatClient]) -> None:
    """Ping from every open client every HEARTBEAT s, as browsers do (only faster)."""
    while True:
        for client in clients:
            if client.is_open:
                with contextlib.suppress(ConnectionClosed):
                    await client.ws.send(json.dumps({"type": "ping"}))
        await asyncio.sleep(HEARTBEAT)


def assert_complete(clients: list[ChatClient], env: Mapping[str, str]) -> list[tuple]:
    """Every client holds exactly the stored messages: seq 1..N, no hole, no twin."""
    record = stored_messages(env)
    seqs = [seq for _, seq, _ in record]
    assert seqs == list(range(1, len(record) + 1)), f"stored seqs have holes or twins: {seqs}"
    client_ids = [client_id for _, _, client_id in record if client_id]
    assert len(client_ids) == len(set(client_ids)), f"a resend was stored twice: {client_ids}"
    for client in clients:
        held = sorted((m["id"], m["seq"], m.get("client_id")) for m in client.messages.values())
        assert held == record, f"{client.user.username} holds {held}, the database {record}"
    return record


def make_users(env: Mapping[str, str], *names: str, **options: Any) -> list[UserSession]:
    return create_user_sessions(env, [UserSpec(name, **options) for name in names])


# --------------------------------------------------------- one chat, N processes


def test_a_message_sent_through_one_process_reaches_sockets_on_every_process(
    start_server, shared_env
):
    first, second = start_server(shared_env), start_server(shared_env)
    ann, bob, cat = make_users(shared_env, "ann", "bob", "cat")

    async def chat() -> None:
        a, b, c = ChatClient(ann), ChatClient(bob), ChatClient(cat)
        try:
            await a.open(first)
            await b.open(second)
            await c.open(first)
            echo = await a.send_and_confirm("hello everyone", "m-1")
            assert echo["type"] == "message" and echo["seq"] == 1
            for reader in (b, c):
                frame = await reader.read_until(lambda f: f.get("type") == "message")
                assert frame == echo
            reply = await b.send_and_confirm("hi from the other process", "m-2")
            for reader in (a, c):
                assert await reader.read_until(lambda f: f.get("type") == "message") == reply
        finally:
            for client in (a, b, c):
                await client.close()

    run_async(chat())


def test_admin_ban_on_one_process_closes_the_socket_on_another_with_4403(start_server, shared_env):
    first, second = start_server(shared_env), start_server(shared_env)
    (moderator,) = make_users(shared_env, "mod", staff=True, groups=["Moderators"])
    ann, bob = make_users(shared_env, "ann", "bob")

    async def ban() -> None:
        a, b = ChatClient(ann), ChatClient(bob)
        try:
            await a.open(first)
            await b.open(second)
            started = time.monotonic()
            # The admin is served by the first process; bob's socket lives on the second.
            await asyncio.to_thread(
                admin_add,
                first,
                moderator.session,
                "/admin/chat/ban/add/",
                {"user": bob.user_id, "room": room_id(shared_env), "reason": "flooding"},
            )
            with pytest.raises(ConnectionClosed):
                await b.read_until(lambda frame: False, timeout=10)
            report("ban reached the socket on the other process", time.monotonic() - started)
            assert b.errors and b.errors[-1]["code"] == "banned", b.errors
            assert "flooding" in b.errors[-1]["detail"]
            assert b.ws.close_code == 4403
            gone = await a.read_until(lambda frame: frame.get("type") == "presence")
            assert gone["online"] == [{"id": ann.user_id, "username": "ann"}]

            # Reconnecting through either process is refused the same way.
            for server in (first, second):
                async with ws_connect(server, ROOM, bob.session) as again:
                    refusal = await recv_until(again, lambda frame: True)
                    assert refusal["type"] == "error" and refusal["code"] == "banned"
                    with pytest.raises(ConnectionClosed):
                        await asyncio.wait_for(again.recv(), 10)
                    assert again.close_code == 4403
        finally:
            for client in (a, b):
                await client.close()

    run_async(ban())


def test_sending_rate_is_limited_per_user_across_processes(start_server, shared_env):
    env = {**shared_env, "JABBER_RATE_BURST": "4", "JABBER_RATE_PER_SECOND": "0.05"}
    first, second = start_server(env), start_server(env)
    (ann,) = make_users(env, "ann")

    async def alternate() -> None:
        here, there = ChatClient(ann), ChatClient(ann)
        try:
            await here.open(first)
            await there.open(second)
            answers = []
            for number in range(6):
                tab = (here, there)[number % 2]
                frame = await tab.send_and_confirm(f"message {number}", f"r-{number}")
                answers.append(frame.get("code") or frame["type"])
            # Four tokens in the bucket, whichever process takes them.
            assert answers == ["message"] * 4 + ["rate_limited"] * 2, answers
            assert all(error["retry_after"] > 0 for error in here.errors + there.errors)
        finally:
            for client in (here, there):
                await client.close()

    run_async(alternate())
    assert len(stored_messages(env)) == 4


# ------------------------------------------------------------------ Redis faults


def test_redis_restart_loses_no_stored_message_and_shows_none_twice(
    start_server, shared_env, redis_server
):
    env = {**shared_env, **QUICK_HEARTBEATS}
    first, second = start_server(env), start_server(env)
    ann, bob = make_users(env, "ann", "bob")

    async def outage() -> None:
        a, b = ChatClient(ann), ChatClient(bob)
        clients = [a, b]
        try:
            await a.open(first)
            await b.open(second)
            await a.send_and_confirm("before the outage", "a-1")
            await b.receive_through(1)
            await b.send_and_confirm("still before", "b-1")
            await a.receive_through(2)

            stopped = time.monotonic()
            await asyncio.to_thread(redis_server.stop)
            # Sent while Redis is down: the client must hear back (echo or error) or
            # lose the socket and send again after reconnecting, never be left guessing.
            outcome = {}
            for client, client_id in ((a, "a-outage"), (b, "b-outage")):
                try:
                    frame = await client.send_and_confirm("during the outage", client_id)
                    outcome[client_id] = frame.get("code") or frame["type"]
                except ConnectionClosed:
                    outcome[client_id] = f"closed {client.ws.close_code}"
            print(f"\n[scale-out] sends during the Redis outage: {outcome}")
            await asyncio.to_thread(redis_server.start)
            restarted = time.monotonic()
            report("Redis down", restarted - stopped)

            for server in (first, second):
                await asyncio.to_thread(wait_healthy, server, 30)
                assert server.process.poll() is None, f"{server.kind} died with Redis"
            report("healthz 200 again after Redis came back", time.monotonic() - restarted)

            for client, server in ((a, first), (b, second)):
                if not client.is_open:
                    took = await client.reconnect([server])
                    report(f"{client.user.username} reconnected", took)
            pinger = asyncio.create_task(heartbeat(clients))
            try:
                for client in clients:
                    await client.resend_pending()
                # Messages flow between the processes again once the groups are re-joined.
                flowing = time.monotonic()
                number = 0
                while True:
                    number += 1
                    echo = await a.send_and_confirm(
                        f"after the outage {number}", f"a-after-{number}"
                    )
                    assert echo["type"] == "message", echo
                    with contextlib.suppress(TimeoutError):
                        await b.read_until(lambda f, i=echo["id"]: f.get("id") == i, timeout=1)
                        break
                    assert time.monotonic() - flowing < 30, "no message crossed processes again"
                report(
                    "live messages cross processes again (after Redis came back)",
                    time.monotonic() - restarted,
                )
            finally:
                pinger.cancel()
            for client in clients:
                await client.catch_up()
                assert not client.pending, f"never confirmed: {client.pending}"
            assert_complete(clients, env)
        finally:
            for client in clients:
                await client.close()

    run_async(outage(), timeout=120)


def test_redis_flushall_mid_chat_heals_on_heartbeat_and_pong_seq_reveals_the_loss(
    start_server, shared_env, redis_server
):
    env = {**shared_env, **QUICK_HEARTBEATS}
    first, second = start_server(env), start_server(env)
    ann, bob = make_users(env, "ann", "bob")
    rejoin_interval = float(env["JABBER_GROUP_REJOIN_INTERVAL"])

    async def flush() -> None:
        a, b = ChatClient(ann), ChatClient(bob)
        try:
            await a.open(first)
            await b.open(second)
            await a.send_and_confirm("before the flush", "a-1")
            await b.receive_through(1)

            await asyncio.to_thread(redis_server.flushall)
            flushed = time.monotonic()
            # Every group is forgotten: this one is stored but reaches nobody, not even ann.
            await a.send("into the void", "a-2")
            pong = await b.ping()
            assert pong["seq"] == 2 or b.latest_seq == 2, pong
            # ...yet pong.seq tells bob a message exists that he does not hold.
            assert b.holes() == [2] or 2 in {m["seq"] for m in b.messages.values()}
            await b.repair()
            assert [m["body"] for m in sorted(b.messages.values(), key=lambda m: m["id"])] == [
                "before the flush",
                "into the void",
            ]

            # The next heartbeat after the re-join interval re-joins the groups.
            await asyncio.sleep(max(0.0, rejoin_interval + 0.2 - (time.monotonic() - flushed)))
            await a.ping()
            await b.ping()
            echo = await b.send_and_confirm("after the heartbeat", "b-2")
            assert echo["type"] == "message"
            await a.receive_through(echo["seq"], timeout=10)
            report("messages flow again after FLUSHALL", time.monotonic() - flushed)
            await a.catch_up()
            assert_complete([a, b], env)
        finally:
            for client in (a, b):
                await client.close()

    run_async(flush())
