"""A `role` frame in a real browser: someone made a room moderator gets the moderator controls
(delete on others' messages, the "Manage room" panel) without a reload, and loses them again.

The server's promotion is real (the owner's form); the `role` frame is also handed to the page
through its socket, so this holds whether or not the server sends one yet.
"""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.support.browser import DELIVERED, enter_room, panel_form, say, users

# Keeps the page's sockets reachable, so a test can hand a frame to the page as if it came in.
SOCKET_PROBE = """
window.__sockets = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) { super(...args); window.__sockets.push(this); }
};
"""


def deliver(page, frame: dict) -> None:
    """Hand ``frame`` to the page as if its open socket had received it."""
    page.evaluate(
        """(data) => {
          const socket = window.__sockets.filter((socket) => socket.readyState === 1).at(-1);
          socket.dispatchEvent(new MessageEvent("message", { data }));
        }""",
        json.dumps(frame),
    )


def test_a_role_frame_shows_and_hides_the_moderator_controls_without_a_reload(
    server, live_env, browsing
):
    ann, bob = users(live_env, "ann", "bob")
    ann_page = browsing.open(server, ann)
    ann_page.goto("/chat/")
    ann_page.get_by_label("Join or create a room").fill("hideout")
    ann_page.get_by_test_id("private").check()
    ann_page.get_by_role("button", name="Go").click()
    expect(ann_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    panel_form(ann_page, "add-member", "bob")
    say(server, ann, "hideout", "the owner speaks")

    bob_page = browsing.open(server, bob)
    bob_page.context.add_init_script(SOCKET_PROBE)
    enter_room(bob_page, "hideout")
    message = bob_page.locator(DELIVERED).last
    delete = message.get_by_test_id("message-delete")
    expect(message.get_by_test_id("message-body")).to_have_text("the owner speaks")
    expect(delete).to_be_hidden()
    expect(bob_page.get_by_test_id("room-admin")).to_have_count(0)

    panel_form(ann_page, "add-moderator", "bob")
    deliver(bob_page, {"type": "role", "room": "elsewhere", "role": "moderator"})
    deliver(bob_page, {"type": "role", "room": "hideout", "role": "moderator", "since": 1})
    expect(bob_page.get_by_test_id("room-admin")).to_have_count(1)
    message.hover()
    expect(delete).to_be_visible()
    url = bob_page.url

    panel_form(ann_page, "remove-moderator", "bob")
    deliver(bob_page, {"type": "role", "room": "hideout", "role": "member"})
    expect(bob_page.get_by_test_id("room-admin")).to_have_count(0)
    message.hover()
    expect(delete).to_be_hidden()
    assert bob_page.url == url  # no reload
    assert browsing.problems(bob_page) == []


def test_the_owner_hands_the_room_over_and_leaves_it(server, live_env, browsing):
    """Real frames only: bob's page gains the owner's controls from the server's `role` frame;
    ann is refused leaving while she owns the room, and told why, then leaves."""
    ann, bob = users(live_env, "ann", "bob")
    ann_page = browsing.open(server, ann)
    ann_page.goto("/chat/")
    ann_page.get_by_label("Join or create a room").fill("handover")
    ann_page.get_by_test_id("private").check()
    ann_page.get_by_role("button", name="Go").click()
    expect(ann_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    panel_form(ann_page, "add-member", "bob")
    bob_page = enter_room(browsing.open(server, bob), "handover")
    expect(bob_page.get_by_test_id("room-admin")).to_have_count(0)

    ann_page.get_by_test_id("leave-room").get_by_role("button", name="Leave").click()
    expect(ann_page.locator(".flash")).to_contain_text(
        "make another member its owner before leaving"
    )
    expect(ann_page).to_have_url(f"{server.url}/chat/handover/")

    panel_form(ann_page, "transfer-ownership", "bob")
    expect(bob_page.get_by_test_id("room-admin")).to_have_count(1)
    expect(bob_page.get_by_test_id("transfer-ownership")).to_have_count(1)
    expect(ann_page.get_by_test_id("member-list").locator('[data-username="bob"]')).to_contain_text(
        "(owner)"
    )
    ann_page.get_by_test_id("leave-room").get_by_role("button", name="Leave").click()
    expect(ann_page).to_have_url(f"{server.url}/chat/")
    expect(ann_page.locator('[data-testid="rooms-nav-item"][data-room="handover"]')).to_have_count(
        0
    )
    assert browsing.problems(ann_page) == [] and browsing.problems(bob_page) == []
