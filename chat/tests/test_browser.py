"""SPEC §7 in a real browser: headless Chromium against a real server process.

Every user gets a browser context of their own, logged in by a session cookie
from ``create_user_sessions`` (only the sign-up test uses the form). Tests wait
on Playwright expectations with timeouts, never on sleeps.

The README's screenshots come from the last test, which runs only when asked:
``JABBER_SCREENSHOTS=1 .venv/bin/pytest chat/tests/test_browser.py -k screenshots``.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import playwright_loop
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
from tests.support.services import REPO_ROOT, require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

# Generous for a loaded CI machine; a passing test never waits this long.
expect.set_options(timeout=15_000)

AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
PHONE_OPTIONS = {"viewport": PHONE, "is_mobile": True, "has_touch": True}
PASSWORD = "correct-horse-battery-staple"

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


def say(server: Server, user: UserSession, room: str, *messages: str) -> None:
    """Send ``messages`` as ``user`` over a WebSocket of its own; wait for the last echo."""
    batch = uuid.uuid4().hex[:12]

    async def send_all() -> None:
        async with ws_connect(server, room, user.session) as socket:
            await recv_until(socket, "hello")
            for number, body in enumerate(messages):
                frame = {"type": "message", "body": body, "client_id": f"{batch}-{number}"}
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


def hello_bodies(server: Server, user: UserSession, room: str) -> list[str]:
    """What the server holds for ``room``: the bodies in a fresh socket's hello."""

    async def hello() -> Frame:
        async with ws_connect(server, room, user.session) as socket:
            return await recv_until(socket, "hello")

    return [message["body"] for message in run_async(hello())["messages"]]


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


# --------------------------------------------------------------------- tests


def test_sign_up_through_the_form_then_create_a_room_from_the_lobby(server, browsing, axe_source):
    page = browsing.open(server)
    page.goto("/chat/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/chat/$"))

    page.get_by_role("navigation", name="Account").get_by_role("link", name="Sign up").click()
    page.locator("#id_username").fill("zoe")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()

    expect(page).to_have_url(f"{server.url}/chat/")
    expect(page.get_by_test_id("current-user")).to_have_text("zoe")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rooms")
    assert run_axe(page, axe_source) == []  # with the "signed in" notice showing

    page.get_by_label("Join or create a room").fill("Book-Club")
    page.get_by_role("button", name="Go").click()

    expect(page).to_have_url(f"{server.url}/chat/book-club/")
    expect(page.get_by_role("heading", level=1)).to_have_text("book-club")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expect(online(page)).to_have_text(["zoe"])
    send(page, "first!")

    page.goto("/chat/")
    expect(page.get_by_test_id("room-link")).to_have_attribute("data-room", "book-club")
    assert browsing.problems(page) == []


# Both servers as `manage.py serve` starts them; the hub's room frames are written
# under each one's WebSocket implementation.
@pytest.mark.parametrize("kind", ["daphne", "uvicorn-sansio"])
def test_two_users_see_each_others_messages_once_in_order_with_the_author(
    start_server, live_env, browsing, kind
):
    server = start_server(live_env, kind=kind)
    ann, bob = users(live_env, "ann", "bob")
    ann_page = enter_room(browsing.open(server, ann), "general")
    bob_page = enter_room(browsing.open(server, bob), "general")

    send(ann_page, "hi bob")
    send(bob_page, "hi ann, how are you?")
    send(ann_page, "great, thanks")
    send(ann_page, "and you?")

    for page in (ann_page, bob_page):
        expect(bodies(page)).to_have_text(
            ["hi bob", "hi ann, how are you?", "great, thanks", "and you?"]
        )
        expect(authors(page)).to_have_text(["ann", "bob", "ann", "ann"])
        assert message_ids(page) == sorted(set(message_ids(page)))
        assert browsing.problems(page) == []
    # Consecutive messages of one author share a header.
    expect(ann_page.locator(DELIVERED).nth(3)).to_have_class(re.compile(r"\bis-continued\b"))
    expect(ann_page.locator(DELIVERED).nth(2)).not_to_have_class(re.compile(r"\bis-continued\b"))


def test_online_list_and_lobby_count_follow_arrivals_and_departures_not_tabs(
    server, live_env, browsing
):
    ann, bob = users(live_env, "ann", "bob")
    ann_page = browsing.open(server, ann)
    presence = record_frames(ann_page, "presence")
    enter_room(ann_page, "town")
    lobby = browsing.open(server, ann)
    expect(online(ann_page)).to_have_text(["ann"])
    expect(ann_page.get_by_test_id("online-count")).to_have_text("1")
    expect(lobby_online(lobby, "town")).to_have_text("1 online")

    bob_tab = enter_room(browsing.open(server, bob), "town")
    expect(online(ann_page)).to_have_text(["ann", "bob"])
    expect(ann_page.get_by_test_id("online-count")).to_have_text("2")
    expect(online(bob_tab)).to_have_text(["ann", "bob"])
    expect(lobby_online(lobby, "town")).to_have_text("2 online")

    # A second tab of the same user changes nothing, opened or closed.
    second_tab = browsing.watch(bob_tab.context.new_page())
    enter_room(second_tab, "town")
    expect(online(second_tab)).to_have_text(["ann", "bob"])
    second_tab.close()
    send(bob_tab, "still here")  # a round trip through the server after the close
    expect(bodies(ann_page)).to_have_text(["still here"])
    expect(online(ann_page)).to_have_text(["ann", "bob"])
    expect(lobby_online(lobby, "town")).to_have_text("2 online")

    bob_tab.close()
    expect(online(ann_page)).to_have_text(["ann"])
    expect(ann_page.get_by_test_id("online-count")).to_have_text("1")
    expect(lobby_online(lobby, "town")).to_have_text("1 online")
    # ann's page heard of bob's arrival and departure once each, and of nothing in between.
    names = [[person["username"] for person in frame["online"]] for frame in presence]
    assert ["ann", "bob"] in names, names
    assert names[names.index(["ann", "bob"]) :] == [["ann", "bob"], ["ann"]], names


def test_typing_indicator_shows_for_the_other_user_only(server, live_env, browsing):
    ann, bob = users(live_env, "ann", "bob")
    ann_page = enter_room(browsing.open(server, ann), "general")
    bob_page = enter_room(browsing.open(server, bob), "general")
    # Remember whether bob's own typing line ever shows, however briefly.
    bob_page.get_by_test_id("typing").evaluate(
        """line => {
          window.__typingShown = false;
          new MutationObserver(() => {
            if (!line.hidden || line.textContent) window.__typingShown = true;
          }).observe(line, { attributes: true, childList: true, subtree: true });
        }"""
    )
    expect(ann_page.get_by_test_id("typing")).to_be_hidden()

    bob_page.get_by_test_id("composer").press_sequentially("hello the")
    expect(ann_page.get_by_test_id("typing")).to_be_visible()
    expect(ann_page.get_by_test_id("typing")).to_have_text("bob is typing…")

    bob_page.get_by_test_id("composer").press_sequentially("re")
    bob_page.get_by_test_id("composer").press("Enter")
    expect(bodies(ann_page)).to_have_text(["hello there"])
    # The message ends the indicator at once.
    expect(ann_page.get_by_test_id("typing")).to_be_hidden()
    expect(bodies(bob_page)).to_have_text(["hello there"])
    expect(bob_page.get_by_test_id("typing")).to_be_hidden()
    assert bob_page.evaluate("window.__typingShown") is False


def test_scrolling_to_the_top_loads_older_messages_without_duplicates_or_jumps(
    start_server, live_env, browsing
):
    server = start_server(
        {
            **live_env,
            "JABBER_RATE_BURST": "1000",
            "JABBER_RATE_PER_SECOND": "1000",
            "JABBER_FRAME_BURST": "1000",
        }
    )
    ann, bob = users(live_env, "ann", "bob")
    say(server, bob, "history", *(f"message {number:03}" for number in range(1, 131)))
    page = enter_room(browsing.open(server, ann), "history")
    messages = page.get_by_test_id("messages")
    expect(page.locator(DELIVERED)).to_have_count(50)
    expect(bodies(page).first).to_have_text("message 081")

    # Scroll to the top and note where the oldest message shown stands.
    anchor_id, anchor_top = messages.evaluate(
        """list => {
          const anchor = list.querySelector("li.message[data-id]");
          list.scrollTop = 0;
          return [anchor.dataset.id, anchor.getBoundingClientRect().top];
        }"""
    )
    expect(page.locator(DELIVERED)).to_have_count(100)
    expect(bodies(page).first).to_have_text("message 031")
    # The reader still sees the same message at the same place: the list did not jump.
    moved = page.locator(f'li.message[data-id="{anchor_id}"]').evaluate(
        f"node => node.getBoundingClientRect().top - {anchor_top}"
    )
    assert abs(moved) < 40, f"the message in view moved by {moved} px"

    # Scroll up again, with the wheel as a reader would, to the first message.
    messages.hover()
    page.mouse.wheel(0, -100_000)
    expect(page.locator(DELIVERED)).to_have_count(130)
    expect(page.locator(".history-marker")).to_have_text("This is the beginning of #history.")
    expect(bodies(page)).to_have_text([f"message {number:03}" for number in range(1, 131)])
    ids = message_ids(page)
    assert ids == sorted(set(ids))
    assert browsing.problems(page) == []


def test_message_typed_offline_is_delivered_once_and_missed_messages_appear(
    server, live_env, browsing
):
    ann, bob = users(live_env, "ann", "bob")
    ann_page = enter_room(browsing.open(server, ann), "general")
    bob_page = enter_room(browsing.open(server, bob), "general")
    send(ann_page, "before the outage")

    # Chromium's offline mode leaves an open WebSocket alone, so restart the server
    # to end ann's socket while her network is down; bob reconnects on his own.
    ann_page.context.set_offline(True)
    server.stop()
    server.start()
    expect(ann_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "offline")
    expect(bob_page.get_by_test_id("connection-state")).to_have_attribute(
        "data-state", "online", timeout=30_000
    )

    send(bob_page, "are you there?")
    send(bob_page, "your network seems down")
    ann_page.get_by_test_id("composer").fill("sorry, I was offline")
    ann_page.get_by_test_id("composer").press("Enter")
    pending = ann_page.locator(PENDING)
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("waiting for connection")

    ann_page.context.set_offline(False)
    expect(ann_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expected = [
        "before the outage",
        "are you there?",
        "your network seems down",
        "sorry, I was offline",
    ]
    for page in (ann_page, bob_page):
        expect(bodies(page)).to_have_text(expected)
        expect(page.locator(PENDING)).to_have_count(0)
    assert hello_bodies(server, bob, "general") == expected
    ann_page.reload()
    expect(ann_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expect(bodies(ann_page)).to_have_text(expected)
    expect(ann_page.locator(PENDING)).to_have_count(0)


def test_moderator_deletes_a_message_and_bans_a_user_from_the_admin(server, live_env, browsing):
    (moderator,) = users(live_env, "mod", staff=True, groups=["Moderators"])
    bob, carol = users(live_env, "bob", "carol")
    bob_page = enter_room(browsing.open(server, bob), "town")
    carol_page = enter_room(browsing.open(server, carol), "town")
    send(bob_page, "buy cheap watches")
    send(carol_page, "hello everyone")
    expect(bodies(bob_page)).to_have_text(["buy cheap watches", "hello everyone"])
    spam_id = bob_page.locator(DELIVERED).first.get_attribute("data-id")

    admin = browsing.open(server, moderator)
    admin.goto("/admin/chat/message/")
    admin.locator(f'input[name="_selected_action"][value="{spam_id}"]').check()
    admin.locator('select[name="action"]').select_option(
        label="Delete selected messages (hide from everyone)"
    )
    admin.get_by_role("button", name="Go").click()
    expect(admin.locator(".messagelist")).to_contain_text("Deleted 1 message(s).")

    for page in (bob_page, carol_page):
        expect(bodies(page)).to_have_text(["hello everyone"])

    admin.goto("/admin/chat/ban/add/")
    admin.locator("#id_user").fill(str(bob.user_id))
    admin.locator("#id_room").select_option(label="town")
    admin.locator("#id_reason").fill("spam")
    admin.locator('input[name="_save"]').click()
    expect(admin.locator(".messagelist")).to_contain_text("was added successfully")

    notice = bob_page.get_by_test_id("banned-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("You are banned from this room")
    expect(bob_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "banned")
    expect(bob_page.get_by_test_id("composer")).to_be_hidden()
    expect(online(carol_page)).to_have_text(["carol"])

    bob_page.reload()
    expect(bob_page.get_by_test_id("banned-notice")).to_contain_text("Reason: spam")
    expect(bob_page.get_by_test_id("composer")).to_have_count(0)


def test_markup_in_a_message_shows_as_text_and_runs_nothing(server, live_env, browsing):
    ann, bob = users(live_env, "ann", "bob")
    ann_page = browsing.open(server, ann)
    dialogs: list[str] = []
    ann_page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    enter_room(ann_page, "general")
    bob_page = enter_room(browsing.open(server, bob), "general")
    attacks = [
        "<img src=x onerror=alert(1)>",
        '<img src=x onerror="window.__pwned = true">',
        "<script>window.__pwned = true</script>",
        '<a href="javascript:alert(2)">click</a>',
    ]
    for attack in attacks:
        send(bob_page, attack)

    for page in (ann_page, bob_page):
        expect(bodies(page)).to_have_text(attacks)
    ann_page.reload()  # the server-rendered copy, then adopted by the client
    expect(ann_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expect(bodies(ann_page)).to_have_text(attacks)

    for page in (ann_page, bob_page):
        assert page.get_by_test_id("messages").locator("img, script, a").count() == 0
        assert page.evaluate("window.__pwned") is None
    assert dialogs == []


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param({"viewport": DESKTOP}, id="desktop"),
        pytest.param({"viewport": DESKTOP, "color_scheme": "dark"}, id="desktop-dark"),
        pytest.param(PHONE_OPTIONS, id="phone"),
    ],
)
def test_pages_are_accessible_and_keep_the_content_security_policy(
    server, live_env, browsing, axe_source, layout
):
    ann, bob = users(live_env, "ann", "bob")
    phone = layout["viewport"] is PHONE
    visitor = browsing.open(server, **layout)
    for path in ("/accounts/login/", "/accounts/signup/"):
        visitor.goto(path)
        assert run_axe(visitor, axe_source) == [], path
        assert_fits_width(visitor)
    assert browsing.problems(visitor) == []

    bob_page = enter_room(browsing.open(server, bob, **layout), "general")
    say(server, bob, "general", "Morning! The deploy went fine.")
    page = enter_room(browsing.open(server, ann, **layout), "general")
    send(page, "Great news")
    send(page, "I will tell the others")
    bob_page.get_by_test_id("composer").press_sequentially("typing")
    expect(page.get_by_test_id("typing")).to_have_text("bob is typing…")
    assert run_axe(page, axe_source) == [], "room"
    assert_fits_width(page)
    assert_in_viewport(page, page.get_by_test_id("composer"))
    assert_in_viewport(page, page.get_by_test_id("send"))
    if phone:
        # Phones fold the online list away; it opens on a tap.
        expect(online(page).first).to_be_hidden()
        page.locator(".online-panel > summary").click()
        expect(online(page)).to_have_text(["ann", "bob"])
        assert run_axe(page, axe_source) == [], "room with the online list open"
    else:
        expect(online(page)).to_have_text(["ann", "bob"])

    page.goto("/chat/")
    expect(page.get_by_test_id("room-link")).to_have_count(1)
    assert run_axe(page, axe_source) == [], "lobby"
    assert_fits_width(page)
    assert browsing.problems(page) == []
    assert browsing.problems(bob_page) == []


def test_room_is_readable_before_javascript_runs(server, live_env, browsing):
    ann, bob = users(live_env, "ann", "bob")
    say(server, bob, "general", "first", "<b>second</b>")
    bob_page = enter_room(browsing.open(server, bob), "general")
    page = browsing.open(server, ann, java_script_enabled=False)
    page.goto("/chat/general/")
    expect(bodies(page)).to_have_text(["first", "<b>second</b>"])
    expect(authors(page)).to_have_text(["bob", "bob"])
    expect(online(page)).to_have_text(["bob"])
    expect(page.get_by_test_id("connection-state")).to_have_text("Not connected")
    expect(page.get_by_test_id("composer")).to_be_disabled()
    expect(online(bob_page)).to_have_text(["bob"])


def test_keyboard_reaches_the_composer_through_the_skip_link(server, live_env, browsing):
    (ann,) = users(live_env, "ann")
    page = enter_room(browsing.open(server, ann), "general")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    composer = page.get_by_test_id("composer")
    for _ in range(10):
        if composer.evaluate("node => node === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(composer).to_be_focused()
    page.keyboard.type("sent from the keyboard")
    page.keyboard.press("Enter")
    expect(bodies(page)).to_have_text(["sent from the keyboard"])


# --------------------------------------------------------------- screenshots

CONVERSATION = [
    # (author, body, minutes before now); the first two land on the day before.
    ("carol", "Release checklist is up in the wiki. Could everyone skim it before tomorrow?", 1500),
    ("dave", "Will do first thing.", 1495),
    ("bob", "Morning all! Staging is green again.", 42),
    ("bob", "The flaky upload test was a clock issue; fixed in the last merge.", 41),
    ("carol", "Nice catch. Are we still on for the 3 pm release?", 35),
    ("ann", "Yes, I'll cut the tag at 2:30.", 30),
    ("ann", "Release notes draft: https://example.com/notes/2.4", 30),
    ("dave", "Migrations ran in 40 s on the production snapshot.", 12),
    ("dave", "No locks held longer than 200 ms.", 11),
    ("bob", "That's twice as fast as last time!", 5),
    ("ann", "Great work everyone, see you at the demo", 2),
]


def backdate(env: dict[str, str], room: str, minutes_ago: list[int]) -> None:
    """Set the messages' times in the SQLite file so the room shows a day separator."""
    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    now = datetime.now(UTC)
    with sqlite3.connect(path, timeout=20) as database:
        rows = database.execute(
            "SELECT message.id FROM chat_message AS message JOIN chat_room AS room"
            " ON room.id = message.room_id WHERE room.name = ? ORDER BY message.id",
            (room,),
        ).fetchall()
        for (message_id,), minutes in zip(rows, minutes_ago, strict=True):
            created = (now - timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S.%f")
            database.execute(
                "UPDATE chat_message SET created = ? WHERE id = ?", (created, message_id)
            )


def describe_rooms(env: dict[str, str], rooms: dict[str, tuple[str, str]]) -> None:
    """Give rooms a title and a topic, as a moderator would in the admin."""
    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path, timeout=20) as database:
        for name, (title, topic) in rooms.items():
            database.execute(
                "UPDATE chat_room SET title = ?, topic = ? WHERE name = ?", (title, topic, name)
            )


@pytest.mark.skipif(
    os.environ.get("JABBER_SCREENSHOTS") != "1", reason="set JABBER_SCREENSHOTS=1 to take them"
)
def test_screenshots(start_server, sqlite_env, browsing):
    """Write docs/screenshots/*.png: the lobby and a busy room over two days, desktop and phone."""
    server = start_server(sqlite_env)
    names = ["ann", "bob", "carol", "dave", "erin"]
    people = dict(zip(names, users(sqlite_env, *names), strict=True))
    for author, body, _ in CONVERSATION:
        say(server, people[author], "releases", body)
    backdate(sqlite_env, "releases", [minutes for _, _, minutes in CONVERSATION])
    say(server, people["erin"], "design", "New icons are in the Figma file")
    say(server, people["dave"], "support", "Ticket 4211 needs someone who knows the importer")
    say(server, people["carol"], "random", "Lunch at 12:30?")
    describe_rooms(
        sqlite_env,
        {
            "releases": ("Releases", "Shipping 2.4 · release at 3 pm today"),
            "design": ("Design", "Mockups, feedback and the style guide"),
            "support": ("", "Customer questions that need an engineer"),
        },
    )
    present = {
        name: enter_room(browsing.open(server, people[name]), "releases") for name in names[1:4]
    }
    enter_room(browsing.open(server, people["erin"]), "design")
    enter_room(browsing.open(server, people["carol"]), "design")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    layouts = [
        ("desktop", {"viewport": {"width": 1280, "height": 900}}),
        ("phone", {**PHONE_OPTIONS, "device_scale_factor": 2}),
    ]
    for (suffix, options), typist in zip(layouts, ["bob", "carol"], strict=True):
        viewer = browsing.open(server, people["ann"], **options)
        viewer.goto("/chat/")
        expect(viewer.get_by_test_id("room-link")).to_have_count(4)
        viewer.screenshot(path=SCREENSHOTS / f"lobby-{suffix}.png")
        enter_room(viewer, "releases")
        expect(viewer.get_by_test_id("online-count")).to_have_text("4")
        present[typist].get_by_test_id("composer").press_sequentially("Sounds")
        expect(viewer.get_by_test_id("typing")).to_have_text(f"{typist} is typing…")
        viewer.screenshot(path=SCREENSHOTS / f"room-{suffix}.png")
        viewer.context.close()
