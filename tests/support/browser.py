"""Headless Chromium for browser tests: the system build, never a downloaded one.

Playwright's sync API marks its own event loop as the thread's running loop
between calls, which breaks ``asyncio.run`` and pytest-asyncio in the same
thread. :class:`RunningLoopGuard` hides that mark while tests that do not use
the browser run, and puts it back before Playwright is called again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tests.support.services import CHROMIUM_BINARY

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Playwright

    from tests.support.clients import Server

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    # Loopback only: a proxy in the environment must not capture test traffic.
    "--no-proxy-server",
]


def launch_chromium(playwright: Playwright, executable_path: str = CHROMIUM_BINARY) -> Browser:
    """Launch the system Chromium headless with flags that suit a container."""
    return playwright.chromium.launch(
        executable_path=executable_path, headless=True, args=CHROMIUM_ARGS, timeout=60_000
    )


def logged_in_context(browser: Browser, server: Server, session: str | None) -> BrowserContext:
    """Open a fresh browser context for ``server``, logged in when ``session`` is given."""
    context = browser.new_context(base_url=server.url)
    context.set_default_timeout(10_000)
    if session is not None:
        context.add_cookies([{"name": "sessionid", "value": session, "url": server.url}])
    return context


class RunningLoopGuard:
    """Remembers Playwright's loop so it can be hidden from, and restored after, asyncio code."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None

    def capture(self) -> None:
        """Record the loop Playwright just marked as running in this thread."""
        self.loop = asyncio._get_running_loop()

    def restore(self) -> None:
        """Mark Playwright's loop as running again, as its next sync call expects."""
        if self.loop is not None and not self.loop.is_closed():
            asyncio._set_running_loop(self.loop)

    def release(self) -> None:
        """Forget the loop once Playwright has stopped."""
        self.loop = None

    @contextlib.contextmanager
    def hidden(self) -> Iterator[None]:
        """Hide Playwright's loop for the duration, so asyncio code can run its own."""
        if self.loop is None or asyncio._get_running_loop() is not self.loop:
            yield
            return
        asyncio._set_running_loop(None)
        try:
            yield
        finally:
            self.restore()


playwright_loop = RunningLoopGuard()
