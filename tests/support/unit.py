"""In-process test helpers: a fake clock, and WebSocket clients that read like a story."""

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.cache import cache

from jabber import clock
from tests.support.sessions import login_session

ORIGIN = "http://127.0.0.1"
FRAME_TIMEOUT = 3.0


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float | None = None) -> None:
        self.value = time.time() if start is None else start

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake.now)
    return fake


@pytest.fixture(autouse=True)
def fresh_cache_and_layer(request) -> Iterator[None]:
    """Rate buckets, typing stamps and channel-layer groups never leak between tests."""
    if "browser" in request.fixturenames:
        # Browser tests talk to a server process; Playwright's loop owns this thread.
        yield
        return
    cache.clear()
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        try:
            async_to_sync(layer.flush)()
        except RuntimeError as error:
            # channels-redis deletes its keys, then closes its pools; a pool opened on an
            # earlier test's event loop (closed since) cannot be closed, but the keys are gone.
            if "Event loop is closed" not in str(error):
                raise
    # A fresh layer object per test: channels-redis binds its receive lock and pools to the
    # event loop that first used them, and each async test runs on a loop of its own.
    channel_layers.backends.clear()
    yield
    cache.clear()


class Socket:
    """One WebSocket client of the full ASGI application (origin check, auth, router)."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.accepted = False
        self.close_code: int | None = None

    async def send(self, frame: dict | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_to(text_data=text)

    async def send_bytes(self, data: bytes) -> None:
        await self.communicator.send_to(bytes_data=data)

    async def receive(self, timeout: float = FRAME_TIMEOUT) -> dict:
        """The next frame; fails if the socket closes instead."""
        output = await self.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.close_code = output.get("code", 1000)
            raise AssertionError(f"socket closed with {self.close_code}")
        return json.loads(output["text"])

    async def receive_type(self, kind: str, timeout: float = FRAME_TIMEOUT, **fields) -> dict:
        """Skip frames until one of `kind` (with those field values) arrives, within the timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {kind!r} frame with {fields} within {timeout} s")
            frame = await self.receive(remaining)
            if frame["type"] == kind and all(frame.get(k) == v for k, v in fields.items()):
                return frame

    async def receive_close(self, timeout: float = FRAME_TIMEOUT) -> tuple[list[dict], int]:
        """Frames up to the close, and the close code."""
        frames = []
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError("socket did not close")
            output = await self.communicator.receive_output(remaining)
            if output["type"] == "websocket.close":
                self.close_code = output.get("code", 1000)
                # A real server completes the close and tells the application.
                await self.communicator.disconnect(self.close_code)
                return frames, self.close_code
            frames.append(json.loads(output["text"]))

    async def nothing_more(self, timeout: float = 0.2) -> bool:
        return await self.communicator.receive_nothing(timeout)

    async def roundtrip(self) -> dict:
        """Ping and wait for the pong: everything sent before it has been handled."""
        await self.send({"type": "ping"})
        return await self.receive_type("pong")

    async def close(self) -> None:
        await self.communicator.disconnect()


async def open_socket(
    user=None,
    room: str = "lobby",
    *,
    after: int | None = None,
    origin: str | None = ORIGIN,
    session_key: str | None = None,
    path: str | None = None,
    application=None,
) -> tuple[Socket, dict | None]:
    """Connect like a browser would; returns the socket and its hello (None if refused).

    `application` stands in for the project's ASGI application (to wrap it).
    """
    if application is None:
        from jabber.asgi import application

    headers = []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if user is not None and session_key is None:
        session_key = await database_sync_to_async(login_session)(user)
    if session_key is not None:
        cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
        headers.append((b"cookie", cookie.encode()))
    path = path or f"/ws/chat/{room}/" + (f"?after={after}" if after is not None else "")
    communicator = WebsocketCommunicator(application, path, headers=headers)
    socket = Socket(communicator)
    connected, code = await communicator.connect(timeout=FRAME_TIMEOUT)
    socket.accepted = connected
    if not connected:
        socket.close_code = code
        return socket, None
    hello = await socket.receive()
    return socket, hello
