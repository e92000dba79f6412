"""Clients for real-server tests: logged-in users and WebSocket connections."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect

from tests.support.services import REPO_ROOT, ServiceError, app_env

Frame = dict[str, Any]
Result = TypeVar("Result")


class Server(Protocol):
    """Anything with an http:// and a ws:// origin, such as a ServerProcess."""

    @property
    def url(self) -> str: ...

    @property
    def ws_url(self) -> str: ...


@dataclass(frozen=True)
class UserSession:
    """A user created for a test and the key of a session logged in as them."""

    user_id: int
    username: str
    session: str


@dataclass
class UserSpec:
    """What to create: a user with a password, optionally staff, superuser or in groups."""

    username: str
    password: str = "correct-horse-battery-staple"
    staff: bool = False
    superuser: bool = False
    groups: Sequence[str] = field(default_factory=tuple)


def create_user_sessions(env: Mapping[str, str], specs: Sequence[UserSpec]) -> list[UserSession]:
    """Create (or update) users and a logged-in session for each, in one subprocess."""
    if "DATABASE_URL" not in env:
        raise ValueError("create_user_sessions() needs the server's DATABASE_URL")
    payload = json.dumps(
        [
            {
                "username": spec.username,
                "password": spec.password,
                "staff": spec.staff,
                "superuser": spec.superuser,
                "groups": list(spec.groups),
            }
            for spec in specs
        ]
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.sessions"],
        cwd=REPO_ROOT,
        env=app_env(env),
        input=payload,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode:
        raise ServiceError(
            f"tests.support.sessions exited with {result.returncode}\n{result.stderr[-8000:]}"
        )
    return [UserSession(**row) for row in json.loads(result.stdout)]


def create_user_session(
    env: Mapping[str, str],
    username: str,
    password: str = "correct-horse-battery-staple",
    **options: Any,
) -> str:
    """Create (or update) a user and return the value of a logged-in ``sessionid`` cookie."""
    spec = UserSpec(username=username, password=password, **options)
    return create_user_sessions(env, [spec])[0].session


def ws_connect(
    server: Server,
    room: str,
    session: str | None,
    after: int | None = None,
    origin: str | None = None,
    **options: Any,
) -> connect:
    """Open ``/ws/chat/<room>/`` as the session's user; use with ``async with`` or ``await``.

    ``origin`` defaults to the server's own; pass ``origin=""`` to send no Origin
    header at all. ``session=None`` connects anonymously. Extra keyword
    arguments go to ``websockets.asyncio.client.connect`` (e.g. ``max_size``).
    """
    uri = f"{server.ws_url}/ws/chat/{quote(room, safe='')}/"
    if after is not None:
        uri += f"?after={after}"
    headers = dict(options.pop("additional_headers", None) or {})
    if session is not None:
        headers["Cookie"] = f"sessionid={session}"
    options.setdefault("open_timeout", 10)
    options.setdefault("close_timeout", 5)
    # Loopback only: an HTTP(S)_PROXY in the environment must not capture it.
    options.setdefault("proxy", None)
    return connect(
        uri,
        origin=server.url if origin is None else (origin or None),
        additional_headers=headers,
        **options,
    )


class FrameTimeout(TimeoutError):
    """No frame matched in time; ``frames`` holds every frame read while waiting."""

    def __init__(self, message: str, frames: list[Frame]) -> None:
        super().__init__(message)
        self.frames = frames


async def recv_frame(ws: ClientConnection, timeout: float = 5.0) -> Frame:
    """Read the next frame and decode it as JSON, waiting at most ``timeout`` s."""
    text = await asyncio.wait_for(ws.recv(), timeout)
    return json.loads(text)


async def recv_until(
    ws: ClientConnection,
    predicate: Callable[[Frame], bool] | str,
    timeout: float = 5.0,
    skipped: list[Frame] | None = None,
) -> Frame:
    """Read frames until one satisfies ``predicate`` (or has that ``type``); return it.

    Frames read before it are appended to ``skipped`` when given, so a test can
    assert on what did not arrive before an event instead of sleeping. Raises
    FrameTimeout, listing every frame read, after ``timeout`` s.
    """
    if isinstance(predicate, str):
        wanted_type = predicate

        def matches(frame: Frame) -> bool:
            return frame.get("type") == wanted_type

    else:
        matches = predicate
    seen: list[Frame] = []

    async def read() -> Frame:
        while True:
            frame = json.loads(await ws.recv())
            if matches(frame):
                return frame
            seen.append(frame)
            if skipped is not None:
                skipped.append(frame)

    try:
        return await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        raise FrameTimeout(
            f"no matching frame within {timeout:g} s; read {len(seen)}: {seen!r}"[:4000], seen
        ) from None


async def frames_before_pong(
    ws: ClientConnection,
    timeout: float = 5.0,
) -> list[Frame]:
    """Send ``ping`` and return every frame that arrives before its ``pong``.

    The server answers one socket's frames in order, so this is a barrier: any
    reply to an earlier frame (an error, an echo) is in the list, and an empty
    list proves there was none, without sleeping.
    """
    await ws.send(json.dumps({"type": "ping"}))
    frames: list[Frame] = []
    await recv_until(ws, "pong", timeout, skipped=frames)
    return frames


def run_async(coroutine: Coroutine[Any, Any, Result], timeout: float = 60.0) -> Result:
    """Run ``coroutine`` to completion from sync code, e.g. a Playwright test; return its result.

    It runs on a fresh event loop in a worker thread, because the thread of a
    sync Playwright test already has Playwright's loop marked as running.
    """

    async def bounded() -> Result:
        return await asyncio.wait_for(coroutine, timeout)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jabber-run-async") as executor:
        return executor.submit(asyncio.run, bounded()).result()
