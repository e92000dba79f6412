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
import base64
import contextlib
import http.client
import json
import os
import re
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

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
from tests.support.plugin import production_suite
from tests.support.services import ServerProcess, database_rows, wait_until

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
    "JABBER_FRAME_BURST": "100000",
    "JABBER_FRAME_PER_SECOND": "10000",
}

# ------------------------------------------------------------------- helpers


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


def admin_add(server: ServerProcess, session: str, path: str, fields: Mapping[str, Any]) -> None:
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
        self.live_seqs: list[int] = []  # seqs of the message frames received live
        self.replayed: list[int] = []  # ids replayed by hello on a resume
        self.repaired = 0  # seqs filled by history

    # connection ---------------------------------------------------------

    @property
    def last_id(self) -> int | None:
        return max(self.messages, default=None)

    async def open(self, server: ServerProcess, **options: Any) -> Frame:
        """Connect (resuming after the last id held) and read ``hello``."""
        after = self.last_id
        # A resume may replay up to 1000 messages in one frame: no client-side size limit.
        options.setdefault("max_size", None)
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
            self.live_seqs.append(frame["seq"])
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

    async def confirm_pending(self, timeout: float = 15.0) -> None:
        """Wait until everything sent is confirmed: by its echo or error, or, when the echo was
        lost (a group not yet re-joined), found by ``seq`` on a catch-up."""
        deadline = time.monotonic() + timeout
        while self.pending:
            left = deadline - time.monotonic()
            assert left > 0, f"{self.user.username} never confirmed: {self.pending}"
            with contextlib.suppress(TimeoutError):
                await self.read_until(lambda frame: not self.pending, min(left, 1.0))
            if self.pending:
                await self.catch_up(left)

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


@contextlib.asynccontextmanager
async def connected(
    *tabs: tuple[UserSession, ServerProcess], **options: Any
) -> AsyncIterator[list[ChatClient]]:
    """Open one ChatClient per (user, server), each past its ``hello``; close them all after."""
    clients = [ChatClient(user) for user, _ in tabs]
    try:
        for client, (_, server) in zip(clients, tabs, strict=True):
            await client.open(server, **options)
        yield clients
    finally:
        for client in clients:
            await client.close()


async def heartbeat(clients: list[ChatClient]) -> None:
    """Ping from every open client every HEARTBEAT s, as browsers do (only faster)."""
    while True:
        for client in clients:
            if client.is_open:
                with contextlib.suppress(ConnectionClosed):
                    await client.ws.send(json.dumps({"type": "ping"}))
        await asyncio.sleep(HEARTBEAT)


@contextlib.asynccontextmanager
async def heartbeating(clients: list[ChatClient]) -> AsyncIterator[None]:
    """Ping from the clients while the block runs, as browsers do.

    A socket silent for JABBER_PRESENCE_TIMEOUT (60 s) is pruned, and a process
    left with no live socket is taken for dead and unsubscribed from its rooms: a
    test that may outlast that on a loaded machine must heartbeat like a browser.
    """
    pinger = asyncio.create_task(heartbeat(clients))
    try:
        yield
    finally:
        pinger.cancel()


async def until_messages_cross(
    sender: ChatClient, receiver: ChatClient, body: str, timeout: float = 30.0
) -> int:
    """Send probes until one reaches the other process live; return how many it took.

    A probe whose broadcast is lost (groups not re-joined yet) is still stored:
    the clients find it later by ``seq``.
    """
    started = time.monotonic()
    number = 0
    while time.monotonic() - started < timeout:
        number += 1
        await sender.send(f"{body} {number}", f"{sender.user.username}-probe-{number}")
        with contextlib.suppress(TimeoutError):
            await receiver.read_until(
                lambda frame, n=number: frame.get("body") == f"{body} {n}", timeout=0.5
            )
            return number
    raise AssertionError(f"no message crossed the processes in {timeout:g} s")


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


def online_ids(frame: Frame) -> set[int]:
    return {user["id"] for user in frame["online"]}


def make_users(env: Mapping[str, str], *names: str, **options: Any) -> list[UserSession]:
    return create_user_sessions(env, [UserSpec(name, **options) for name in names])


# --------------------------------------------------------- one chat, N processes


def test_a_message_sent_through_one_process_reaches_sockets_on_every_process(
    start_server, shared_env
):
    first, second = start_server(shared_env), start_server(shared_env)
    ann, bob, cat = make_users(shared_env, "ann", "bob", "cat")

    async def chat() -> None:
        async with connected((ann, first), (bob, second), (cat, first)) as (a, b, c):
            echo = await a.send_and_confirm("hello everyone", "m-1")
            assert echo["type"] == "message" and echo["seq"] == 1
            for reader in (b, c):
                frame = await reader.read_until(lambda f: f.get("type") == "message")
                assert frame == echo
            reply = await b.send_and_confirm("hi from the other process", "m-2")
            for reader in (a, c):
                assert await reader.read_until(lambda f: f.get("type") == "message") == reply

    run_async(chat())


def test_admin_ban_on_one_process_closes_the_socket_on_another_with_4403(start_server, shared_env):
    first, second = start_server(shared_env), start_server(shared_env)
    (moderator,) = make_users(shared_env, "mod", staff=True, groups=["Moderators"])
    ann, bob = make_users(shared_env, "ann", "bob")

    async def ban() -> None:
        async with connected((ann, first)) as (a,):
            # Ann hears of her own arrival before bob connects, and of his after: the
            # next presence frame she reads can only be about the ban.
            await a.read_until(lambda frame: frame.get("type") == "presence")
            async with connected((bob, second)) as (b,):
                await a.read_until(
                    lambda frame: (
                        frame.get("type") == "presence" and bob.user_id in online_ids(frame)
                    )
                )
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

    run_async(ban())


def test_sending_rate_is_limited_per_user_across_processes(start_server, shared_env):
    env = {**shared_env, "JABBER_RATE_BURST": "4", "JABBER_RATE_PER_SECOND": "0.05"}
    first, second = start_server(env), start_server(env)
    (ann,) = make_users(env, "ann")

    async def alternate() -> None:
        async with connected((ann, first), (ann, second)) as (here, there):
            answers = []
            for number in range(6):
                tab = (here, there)[number % 2]
                frame = await tab.send_and_confirm(f"message {number}", f"r-{number}")
                answers.append(frame.get("code") or frame["type"])
            # Four tokens in the bucket, whichever process takes them.
            assert answers == ["message"] * 4 + ["rate_limited"] * 2, answers
            assert all(error["retry_after"] > 0 for error in here.errors + there.errors)

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
        async with connected((ann, first), (bob, second)) as clients:
            a, b = clients
            await a.send_and_confirm("before the outage", "a-1")
            await b.receive_through(1)
            await b.send_and_confirm("still before", "b-1")
            await a.receive_through(2)

            stopped = time.monotonic()
            await asyncio.to_thread(redis_server.stop)
            # Sent while Redis is down. Allowed: an error, an echo, a closed socket (the
            # client sends again after reconnecting), or no answer yet if the message is
            # stored (the client finds it by seq). Silence for a message never stored is
            # caught at the end: it stays pending on a socket that never closed.
            outcome = {}
            for client, client_id in ((a, "a-outage"), (b, "b-outage")):
                try:
                    frame = await client.send_and_confirm("during the outage", client_id, 5)
                    outcome[client_id] = frame.get("code") or frame["type"]
                except ConnectionClosed:
                    outcome[client_id] = f"closed {client.ws.close_code}"
                except TimeoutError:
                    outcome[client_id] = "no answer"
            print(f"\n[scale-out] sends during the Redis outage: {outcome}")
            await asyncio.to_thread(redis_server.start)
            restarted = time.monotonic()
            report("Redis down", restarted - stopped)

            for server in (first, second):
                await asyncio.to_thread(wait_healthy, server, 30)
                assert server.process.poll() is None, f"{server.kind} died with Redis"
            report("healthz 200 again after Redis came back", time.monotonic() - restarted)

            reconnected = []
            for client, server in ((a, first), (b, second)):
                if not client.is_open:
                    took = await client.reconnect([server])
                    report(f"{client.user.username} reconnected", took)
                    reconnected.append(client)
            pinger = asyncio.create_task(heartbeat(clients))
            try:
                for client in reconnected:
                    await client.resend_pending()
                # Messages flow between the processes again once the groups are re-joined.
                await until_messages_cross(a, b, "after the outage")
                report(
                    "live messages cross processes again, since Redis came back",
                    time.monotonic() - restarted,
                )
            finally:
                pinger.cancel()
            # Every resend stored first, then every client caught up to the last one: a
            # client caught up before another's resend is stored would miss it.
            for client in clients:
                await client.confirm_pending()
            for client in clients:
                await client.catch_up()
            assert_complete(clients, env)

    run_async(outage(), timeout=120)


def test_sockets_reconnected_after_a_redis_restart_receive_broadcasts_at_once(
    start_server, shared_env, redis_server
):
    first, second = start_server(shared_env), start_server(shared_env)
    ann, bob = make_users(shared_env, "ann", "bob")

    async def reconnect_after_restart() -> None:
        async with connected((ann, first), (bob, second)) as (a, b):
            await asyncio.to_thread(redis_server.restart)
            for client, server in ((a, first), (b, second)):
                await asyncio.to_thread(wait_healthy, server, 30)
                # Whether the socket survived the restart or not, it starts afresh.
                await client.close()
                await client.open(server)
            echo = await a.send_and_confirm("first after the restart", "a-1", timeout=5)
            assert echo["type"] == "message", echo
            received = await b.read_until(lambda frame: frame.get("type") == "message", 5)
            assert received == echo

    run_async(reconnect_after_restart())


def test_redis_flushall_mid_chat_heals_on_heartbeat_and_pong_seq_reveals_the_loss(
    start_server, shared_env, redis_server
):
    env = {**shared_env, **QUICK_HEARTBEATS}
    first, second = start_server(env), start_server(env)
    ann, bob = make_users(env, "ann", "bob")
    rejoin_interval = float(env["JABBER_GROUP_REJOIN_INTERVAL"])

    async def flush() -> None:
        async with connected((ann, first), (bob, second)) as (a, b):
            await a.send_and_confirm("before the flush", "a-1")
            await b.receive_through(1)

            await asyncio.to_thread(redis_server.flushall)
            flushed = time.monotonic()
            # Every group is forgotten: this one is stored but reaches nobody, not even ann
            # (her pong comes after it is stored: one socket's frames are handled in order).
            await a.send("into the void", "a-2")
            assert (await a.ping())["seq"] == 2
            assert [m["seq"] for m in a.messages.values()] == [1], "the flushed group delivered"
            # ...yet pong.seq tells bob a message exists that he does not hold.
            assert (await b.ping())["seq"] == 2
            assert b.holes() == [2]
            assert await b.repair() == [2]
            assert await a.repair() == [2]
            assert not a.pending
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

    run_async(flush())


def test_a_socket_older_than_the_group_expiry_still_receives_after_heartbeats(
    start_server, shared_env
):
    group_expiry = 2
    # Re-joined at most every half second while pings come (every quarter second): a
    # process may stall well over a second before a membership runs out.
    env = {
        **shared_env,
        **QUICK_HEARTBEATS,
        "JABBER_GROUP_REJOIN_INTERVAL": "0.5",
        "JABBER_GROUP_EXPIRY": str(group_expiry),
    }
    first, second = start_server(env), start_server(env)
    ann, bob = make_users(env, "ann", "bob")

    async def outlive() -> None:
        async with connected((ann, first), (bob, second)) as (a, b):
            opened = time.monotonic()
            pinger = asyncio.create_task(heartbeat([a, b]))
            try:
                # Let every membership made at connect expire; only heartbeats renew them.
                for client in (a, b):
                    with contextlib.suppress(TimeoutError):
                        await client.read_until(
                            lambda frame: frame.get("type") == "message",
                            timeout=max(0.0, 2.5 * group_expiry - (time.monotonic() - opened)),
                        )
                assert time.monotonic() - opened > 2 * group_expiry
                # Heartbeats go on while the message travels, as a browser's do: stopped
                # first, the memberships would age by the send's own latency as well.
                echo = await a.send_and_confirm("still here", "a-1")
                assert echo["type"] == "message"
                received = await b.read_until(lambda frame: frame.get("type") == "message")
                assert received == echo
            finally:
                pinger.cancel()
            assert not b.holes() and not a.holes()

    run_async(outlive())


def test_a_socket_idle_for_thirty_seconds_on_redis_still_works(start_server, shared_env):
    # channels-redis blocks in BRPOP for a few seconds at a time; if redis-py's
    # socket timeout were not longer, an idle socket would end with 1011.
    first, second = start_server(shared_env), start_server(shared_env)
    ann, bob = make_users(shared_env, "ann", "bob")
    idle = 30.0

    async def idle_then_talk() -> None:
        # A browser sends no WebSocket pings of its own: nothing at all crosses the wire.
        async with connected((ann, first), (bob, second), ping_interval=None) as (a, b):
            # Waiting for a frame is the test: a socket that dies meanwhile raises at once.
            results = await asyncio.gather(
                *(
                    client.read_until(lambda frame: frame.get("type") != "presence", idle)
                    for client in (a, b)
                ),
                return_exceptions=True,
            )
            for client, result in zip((a, b), results, strict=True):
                assert isinstance(result, TimeoutError), (
                    f"{client.user.username}'s idle socket: {result!r}, "
                    f"close code {client.ws.close_code}"
                )
            echo = await a.send_and_confirm("after thirty quiet seconds", "a-1")
            assert echo["type"] == "message"
            assert await b.read_until(lambda frame: frame.get("type") == "message") == echo
            reply = await b.send_and_confirm("still here", "b-1")
            assert await a.read_until(lambda frame: frame.get("type") == "message") == reply

    run_async(idle_then_talk())
    for server in (first, second):
        assert "Exception inside application" not in server.log_text()


# ------------------------------------------------------------- process faults


def test_clients_of_a_killed_process_resume_on_another_without_gap_or_twin(
    start_server, shared_env
):
    env = {**shared_env, **QUICK_HEARTBEATS}
    doomed, survivor = start_server(env), start_server(env)
    ann, bob = make_users(env, "ann", "bob")

    async def failover() -> None:
        async with connected((ann, doomed), (bob, survivor)) as (a, b):
            for number in range(3):
                await a.send_and_confirm(f"ann {number}", f"a-{number}")
                await b.send_and_confirm(f"bob {number}", f"b-{number}")
            await a.receive_through(6)
            await b.receive_through(6)

            # In flight when the process dies: maybe stored, maybe not, never twice.
            await a.send("sent as the process died", "a-last")
            await asyncio.to_thread(doomed.kill)
            killed = time.monotonic()
            with pytest.raises(ConnectionClosed):
                await a.read_until(lambda frame: False, timeout=10)
            # Bob keeps talking on the surviving process while ann is away.
            for number in range(3, 5):
                await b.send_and_confirm(f"bob {number}", f"b-{number}")

            last_read = a.last_id
            await a.reconnect([doomed, survivor])
            report("ann resumed on the surviving process after SIGKILL", time.monotonic() - killed)
            assert a.replayed, f"nothing replayed after id {last_read}"
            await a.resend_pending()
            for client in (a, b):
                await client.confirm_pending()
            for client in (a, b):
                await client.catch_up()
            record = assert_complete([a, b], env)
            assert sum(client_id == "a-last" for _, _, client_id in record) == 1

    run_async(failover())


# ---------------------------------------------------------- dropped broadcasts


def test_a_broadcast_dropped_by_a_full_channel_is_repaired_by_seq(start_server, shared_env):
    # Capacity 1: while the receiving process is paused, its queue holds one
    # message and the layer drops the rest of the burst (SPEC §8; the repair is in
    # docs/protocol.md#missed-messages-seq-and-gap-repair).
    env = {**shared_env, "JABBER_CHANNEL_CAPACITY": "1", **GENEROUS_LIMITS}
    receiving, sending = start_server(env), start_server(env)
    ann, bob = make_users(env, "ann", "bob")

    async def burst() -> None:
        async with connected((ann, receiving), (bob, sending)) as (a, b):
            await b.send_and_confirm("before the burst", "b-0")
            await a.receive_through(1)

            os.kill(receiving.pid, signal.SIGSTOP)
            try:
                for number in range(1, 6):
                    echo = await b.send_and_confirm(f"burst {number}", f"b-{number}")
                    assert echo["type"] == "message", echo
            finally:
                os.kill(receiving.pid, signal.SIGCONT)
            await b.send_and_confirm("after the burst", "b-6")

            # Ann plays the client: her next heartbeat's pong names the latest seq, she
            # notices the jump and repairs it. "after the burst" may be dropped as well
            # (the resumed process may not have drained its queue of one by then), so
            # waiting for it to arrive live would wait for something never promised.
            assert (await a.ping())["seq"] == 7
            live = [seq for seq in a.live_seqs if seq > 1]
            missing = sorted(set(range(2, 8)) - set(live))
            print(f"\n[scale-out] ann received seqs {live} live; the layer dropped {missing}")
            assert missing, "nothing was dropped: the test did not force a drop"
            assert a.holes() == missing
            assert await a.repair() == missing
            assert a.seqs() == list(range(1, 8))
            assert_complete([a, b], env)

    run_async(burst())


def open_unread_socket(server: ServerProcess, session: str) -> tuple[socket.socket, Frame]:
    """Open a chat socket that reads its ``hello`` and then nothing more: a stalled reader.

    A plain TCP socket with a tiny receive buffer, so the server's writes back up
    at once; WebSocket client libraries keep reading into their own buffers.
    """
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            f"GET /ws/chat/{ROOM}/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {key}\r\nOrigin: {server.url}\r\n"
            f"Cookie: sessionid={session}\r\n\r\n"
        ).encode()
    )
    data = b""
    while b"\r\n\r\n" not in data:
        data += raw.recv(4096)
    head, data = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    while True:
        frame = _server_frame(data)
        if frame is not None:
            return raw, json.loads(frame)
        data += raw.recv(65536)


def _server_frame(data: bytes) -> bytes | None:
    """The payload of the first (unmasked, unfragmented) server frame in ``data``, if whole."""
    if len(data) < 2:
        return None
    length, offset = data[1] & 0x7F, 2
    if length == 126:
        length, offset = int.from_bytes(data[2:4], "big"), 4
    elif length == 127:
        length, offset = int.from_bytes(data[2:10], "big"), 10
    return data[offset : offset + length] if len(data) >= offset + length else None


def drain_until_closed(raw: socket.socket, timeout: float) -> int:
    """Read and discard until the server ends the connection; return the bytes read."""
    raw.settimeout(timeout)
    total = 0
    try:
        while chunk := raw.recv(1 << 20):
            total += len(chunk)
    except ConnectionResetError:
        pass
    return total


def ann_gone(ann: UserSession) -> Callable[[Frame], bool]:
    return lambda frame: frame.get("type") == "presence" and ann.user_id not in online_ids(frame)


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
def test_a_client_that_stops_reading_is_dropped_and_stalls_nobody(start_server, shared_env, kind):
    # A short replay keeps each resume frame small; the rest comes by history pages.
    # Nobody pings here: the idle close (4408) must not end the flood before the buffer does.
    env = {
        **shared_env,
        **GENEROUS_LIMITS,
        "JABBER_REPLAY_MAX": "100",
        "JABBER_PRESENCE_TIMEOUT": "600",
    }
    # The stalled reader and bob share the first process; cat sends through the second.
    first, second = start_server(env, kind=kind), start_server(env)
    ann, bob, cat = make_users(env, "ann", "bob", "cat")
    body = "x" * 3990
    most = 3000  # 12 MB: several times what loopback socket buffers absorb
    after_drop = 20

    async def flood(b: ChatClient, c: ChatClient) -> tuple[int, float | None]:
        """Send until the stalled reader is dropped (and a few more); bob must keep up."""
        dropped_at: float | None = None
        sent_after_drop = number = 0
        while number < most and sent_after_drop < after_drop:
            number += 1
            await c.send_and_confirm(f"{number} {body}", f"c-{number}")
            try:
                while True:
                    frame = await b.read_until(
                        lambda f, n=number: f.get("client_id") == f"c-{n}" or ann_gone(ann)(f),
                        timeout=10,
                    )
                    if frame.get("type") == "message":
                        break
                    dropped_at = dropped_at or time.monotonic()
            except TimeoutError:
                raise AssertionError(
                    f"{kind}: bob waited 10 s for message {number}: the room stalled"
                ) from None
            sent_after_drop += dropped_at is not None
        return number, dropped_at

    async def flood_the_room() -> None:
        slow = ChatClient(ann)
        async with connected((bob, first), (cat, second)) as (b, c), heartbeating([b, c, slow]):
            await c.send_and_confirm("before the flood", "c-0")
            raw, hello = await asyncio.to_thread(open_unread_socket, first, ann.session)
            with contextlib.closing(raw):
                slow.absorb(hello["messages"])
                await b.read_until(
                    lambda f: f.get("type") == "presence" and ann.user_id in online_ids(f)
                )
                memory_before = rss_kib(first.pid)
                started = time.monotonic()
                count, dropped_at = await flood(b, c)
                print(
                    f"\n[scale-out] {kind}: {count} messages of 4 kB in"
                    f" {time.monotonic() - started:.1f} s; server memory"
                    f" {memory_before} -> {rss_kib(first.pid)} KiB"
                )
                assert dropped_at is not None, f"{kind}: the stalled reader was never dropped"
                report(
                    f"{kind}: stalled reader dropped, since the flood began", dropped_at - started
                )
                await asyncio.to_thread(drain_until_closed, raw, 10)

            # Ann's tab wakes up and resumes from the last message it had read.
            try:
                await slow.open(first)
                await slow.catch_up(timeout=30)
                await b.catch_up()
                await c.catch_up()
                assert_complete([slow, b, c], env)
            finally:
                await slow.close()

    run_async(flood_the_room(), timeout=240)


def test_a_resume_replays_hundreds_of_long_messages_on_daphne(start_server, shared_env):
    env = {**shared_env, **GENEROUS_LIMITS}
    server = start_server(env)
    ann, bob = make_users(env, "ann", "bob")
    missed = 300
    body = "y" * 4000  # the longest body by default: 1.2 MB of replay in all

    async def away_then_back() -> None:
        async with connected((ann, server), (bob, server)) as (a, b), heartbeating([a, b]):
            await b.send_and_confirm("last one ann read", "b-0")
            await a.receive_through(1)
            await a.close()
            for number in range(1, missed + 1):
                await b.send_and_confirm(body, f"b-{number}")
            hello = await a.open(server)
            # daphne sends at most 1 MiB per frame: the replay continues as history
            # frames, the last of them without has_more.
            assert 0 < len(hello["messages"]) < missed and not hello.get("gap")
            await a.read_until(
                lambda frame: frame.get("type") == "history" and not frame["has_more"], 10
            )
            assert a.seqs() == list(range(1, missed + 2))

    run_async(away_then_back(), timeout=120)


# ----------------------------------------------------------------- SQLite


@pytest.mark.skipif(production_suite(), reason="SQLite is the default suite's database")
def test_sqlite_shared_by_two_processes_takes_many_concurrent_writers(start_server, shared_env):
    env = {**shared_env, **GENEROUS_LIMITS}
    first, second = start_server(env), start_server(env)
    users = make_users(env, *(f"writer{number}" for number in range(8)))
    per_socket = 15

    async def write_at_once() -> None:
        tabs = [(user, server) for user in users for server in (first, second)]
        async with connected(*tabs) as clients:

            async def write(index: int, client: ChatClient) -> None:
                for number in range(per_socket):
                    await client.send(f"socket {index} says {number}", f"s{index}-{number}")

            started = time.monotonic()
            await asyncio.gather(*(write(i, client) for i, client in enumerate(clients)))
            total = len(clients) * per_socket
            for client in clients:
                await client.receive_through(total, timeout=60)
            report(
                f"{total} messages from {len(clients)} sockets stored and delivered",
                time.monotonic() - started,
            )
            errors = [error for client in clients for error in client.errors]
            assert not errors, errors
            assert not any(client.pending for client in clients)
            record = assert_complete(clients, env)
            assert len(record) == total
            # Broadcasts from two processes may arrive out of order; a client asks for
            # history whenever seq jumps, whether the message was late or lost.
            jumps = sum(client.repaired for client in clients)
            print(f"\n[scale-out] seq jumps filled by history across all sockets: {jumps}")

    run_async(write_at_once(), timeout=180)
    for server in (first, second):
        assert "database is locked" not in server.log_text()
