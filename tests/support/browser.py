"""Browser tests' support: headless system Chromium, pages per user, and helpers that read
like a story (``users``, ``enter_room``, ``send``, ``say``, ``run_axe``, ...).

Registered as a plugin by ``tests/support/plugin.py``, so the ``browsing`` and
``axe_source`` fixtures are available everywhere; import the helpers from here.

Playwright's sync API marks its own event loop as the thread's running loop
between calls, which breaks ``asyncio.run`` and pytest-asyncio in the same
thread. :class:`RunningLoopGuard` hides that mark while tests that do not use
the browser run, and puts it back before Playwright is called again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.support.clients import (
    Frame,
    Server,
    UserSession,
    UserSpec,
    create_user_sessions,
    recv_until,
    run_async,
    ws_connect,
)
from tests.support.services import CHROMIUM_BINARY, REPO_ROOT, require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright

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


# Generous for a loaded CI machine; a passing test never waits this long.
expect.set_options(timeout=15_000)

AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
PHONE_OPTIONS = {"viewport": PHONE, "is_mobile": True, "has_touch": True}

DELIVERED = '[data-testid="message"]:not([data-pending])'
PENDING = '[data-testid="message"][data-pending="true"]'

# Runs before any page script: reports what the Content-Security-Policy blocked to the
# console, where Browsing.watch collects it across navigations.
CSP_PROBE = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


class Browsing:
    """Browser contexts for one test, each a separate user; closed at teardown."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.console: dict[Page, list[str]] = {}

    def open(self, server: Server, user: UserSession | None = None, **context_options: Any) -> Page:
        """Open a page in a new context, logged in as ``user`` when given."""
        context_options.setdefault("viewport", DESKTOP)
        context = self.browser.new_context(base_url=server.url, **context_options)
        self.contexts.append(context)
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_PROBE)
        if user is not None:
            context.add_cookies([{"name": "sessionid", "value": user.session, "url": server.url}])
        return self.watch(context.new_page())

    def watch(self, page: Page) -> Page:
        """Record the page's console errors and warnings (CSP violations among them)
        and its uncaught exceptions, on every document it loads."""
        problems = self.console.setdefault(page, [])

        def on_console(message: Any) -> None:
            if message.type in ("error", "warning"):
                problems.append(f"console.{message.type}: {message.text} at {message.location}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        return page

    def problems(self, page: Page) -> list[str]:
        """Console errors and warnings, uncaught exceptions and CSP violations so far."""
        return list(self.console.get(page, []))

    def close(self) -> None:
        playwright_loop.restore()
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser: Browser) -> Iterator[Browsing]:
    """Open pages as different users: ``browsing.open(server, user, **context_options)``."""
    browsing = Browsing(browser)
    yield browsing
    browsing.close()


# ------------------------------------------------------------------ helpers


def users(env: dict[str, str], *names: str, **options: Any) -> list[UserSession]:
    """Create users ``names`` (with the same options) and a logged-in session for each."""
    return create_user_sessions(env, [UserSpec(name, **options) for name in names])


def enter_room(page: Page, room: str) -> Page:
    """Open a room and wait until its socket has said hello."""
    page.goto(f"/chat/{room}/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    return page


def send(page: Page, body: str) -> None:
    """Type ``body`` in the composer, press Enter, and wait for the server's echo."""
    composer = page.get_by_test_id("composer")
    composer.fill(body)
    composer.press("Enter")
    expect(composer).to_have_value("")
    expect(page.locator(PENDING)).to_have_count(0)
    expect(page.locator(DELIVERED).last.get_by_test_id("message-body")).to_have_text(body)


def open_room_panel(page: Page) -> Locator:
    """Open the room page's "Manage room" panel (opened, not toggled: it may be open already)."""
    panel = page.get_by_test_id("room-admin")
    panel.evaluate("panel => { panel.open = true; }")
    return panel


def panel_form(page: Page, testid: str, username: str) -> None:
    """Fill and submit one username form of the "Manage room" panel."""
    form = open_room_panel(page).get_by_test_id(testid)
    form.locator('input[name="username"]').fill(username)
    form.get_by_role("button").click()


def bodies(page: Page) -> Locator:
    """The text of every delivered message on the page, in display order."""
    return page.locator(f'{DELIVERED} [data-testid="message-body"]')


def authors(page: Page) -> Locator:
    """The author of every delivered message on the page, in display order."""
    return page.locator(f'{DELIVERED} [data-testid="message-author"]')


def online(page: Page) -> Locator:
    """The names in the room's online list."""
    return page.get_by_test_id("online-user")


def message_ids(page: Page) -> list[int]:
    """The ids of the delivered messages, in display order."""
    return page.locator(DELIVERED).evaluate_all("nodes => nodes.map((node) => +node.dataset.id)")


def lobby_online(page: Page, room: str) -> Locator:
    """Reload the lobby and return the online count shown for ``room``."""
    page.goto("/chat/")
    return page.locator(f'[data-testid="room-link"][data-room="{room}"]').get_by_test_id(
        "room-online"
    )


def record_frames(page: Page, kind: str) -> list[Frame]:
    """Collect every frame of type ``kind`` that the page's WebSockets receive from now on."""
    frames: list[Frame] = []

    def on_frame(payload: str | bytes) -> None:
        frame = json.loads(payload)
        if frame.get("type") == kind:
            frames.append(frame)

    page.on("websocket", lambda socket: socket.on("framereceived", on_frame))
    return frames


def say(
    server: Server, user: UserSession, room: str, *messages: str, reply_to: int | None = None
) -> None:
    """Send ``messages`` as ``user`` (each a reply to ``reply_to``, when given) over a
    WebSocket of its own; wait for the last echo."""
    batch = uuid.uuid4().hex[:12]

    async def send_all() -> None:
        async with ws_connect(server, room, user.session) as socket:
            await recv_until(socket, "hello")
            for number, body in enumerate(messages):
                frame = {"type": "message", "body": body, "client_id": f"{batch}-{number}"}
                if reply_to is not None:
                    frame["reply_to"] = reply_to
                await socket.send(json.dumps(frame))
            last = f"{batch}-{len(messages) - 1}"
            skipped: list[Frame] = []
            await recv_until(
                socket,
                lambda frame: frame["type"] == "message" and frame["client_id"] == last,
                timeout=30,
                skipped=skipped,
            )
            assert [frame for frame in skipped if frame["type"] == "error"] == []

    run_async(send_all())


def react(server: Server, user: UserSession, room: str, message_id: int, emoji: str) -> None:
    """Add ``user``'s reaction ``emoji`` to a message over a WebSocket; wait for the answer."""

    async def send() -> None:
        async with ws_connect(server, room, user.session) as socket:
            await recv_until(socket, "hello")
            frame = {"type": "react", "id": message_id, "emoji": emoji, "request_id": "react"}
            await socket.send(json.dumps(frame))
            answer = await recv_until(
                socket,
                lambda frame: frame.get("request_id") == "react" or frame["type"] == "reaction",
            )
            assert answer["type"] == "reaction", answer

    run_async(send())


def hello_bodies(server: Server, user: UserSession, room: str) -> list[str]:
    """What the server holds for ``room``: the bodies in a fresh socket's hello."""

    async def hello() -> Frame:
        async with ws_connect(server, room, user.session) as socket:
            return await recv_until(socket, "hello")

    return [message["body"] for message in run_async(hello())["messages"]]


def stored_message_id(server: Server, user: UserSession, room: str, body: str) -> int:
    """The id of the newest stored message of ``room`` whose body is ``body``, paging back."""

    async def find() -> int:
        async with ws_connect(server, room, user.session) as socket:
            messages = (await recv_until(socket, "hello"))["messages"]
            for page in range(40):
                for message in reversed(messages):
                    if message["body"] == body:
                        return message["id"]
                if not messages:
                    break
                request = {"type": "history", "before": messages[0]["id"], "limit": 100}
                await socket.send(json.dumps({**request, "request_id": f"find-{page}"}))
                messages = (await recv_until(socket, "history"))["messages"]
        raise AssertionError(f"no message {body!r} in {room}")

    return run_async(find())


def fast_server(start_server: Any, env: dict[str, str]) -> Server:
    """A server whose sending rate limit and frame budget let a test fill a room quickly."""
    limits = {"JABBER_RATE_BURST": "1000", "JABBER_RATE_PER_SECOND": "1000"}
    return start_server({**env, **limits, "JABBER_FRAME_BURST": "1000"})


def message(page: Page, message_id: int) -> Locator:
    """The delivered message ``message_id`` on the page."""
    return page.locator(f'{DELIVERED}[data-id="{message_id}"]')


def send_markdown(page: Page, body: str) -> Locator:
    """Send ``body`` from the composer; wait for its echo and return the message."""
    delivered = page.locator(DELIVERED)
    before = delivered.count()
    composer = page.get_by_test_id("composer")
    composer.fill(body)
    composer.press("Enter")
    expect(composer).to_have_value("")
    expect(page.locator(PENDING)).to_have_count(0)
    expect(delivered).to_have_count(before + 1)
    return delivered.last


def choose_in_autocomplete(page: Page, field: str, text: str) -> None:
    """Pick ``text`` in the admin's autocomplete (select2) widget for ``field``."""
    page.locator(f"#id_{field} + .select2").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.get_by_role("option", name=text, exact=True).click()
    expect(page.locator(f"#id_{field} + .select2")).to_contain_text(text)


def grant_clipboard(page: Page, server: Server) -> None:
    """Let the page's Clipboard API write and the test read it back."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)


def clipboard(page: Page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The axe-core script from node_modules (``npm ci`` installs it; see package.json)."""
    require(AXE_SCRIPT.exists(), f"{AXE_SCRIPT} is missing: run npm ci")
    return AXE_SCRIPT.read_text()


def run_axe(page: Page, axe_source: str) -> list[str]:
    """Run axe-core on the page; describe each serious or critical violation."""
    # page.evaluate runs through the DevTools protocol, which the page's CSP does not govern.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    violations = page.evaluate(
        """async () => {
          const results = await axe.run(document, { resultTypes: ["violations"] });
          return results.violations.map((violation) => ({
            id: violation.id,
            impact: violation.impact,
            help: violation.help,
            targets: violation.nodes.map((node) => node.target.join(" ")),
          }));
        }"""
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {violation['targets']}"
        for violation in violations
        if violation["impact"] in ("serious", "critical")
    ]


def assert_fits_width(page: Page) -> None:
    """Nothing on the page sticks out sideways (no horizontal scrolling)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow} px wider than the viewport"


def assert_in_viewport(page: Page, locator: Locator) -> None:
    """``locator`` is visible and wholly inside the viewport."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], box
