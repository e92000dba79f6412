"""SPEC §12 in a real browser: a direct conversation is listed in both sidebars under the other
person's name, with their presence."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from chat.tests.test_unread_browser import FAKE_NOTIFICATIONS
from tests.support.browser import enter_room, run_axe, send, users


def direct_item(page):
    return page.locator('[data-testid="rooms-nav-item"][data-kind="direct"]')


def test_each_sidebar_names_the_other_person_with_their_presence(
    server, live_env, browsing, axe_source
):
    ann, bob = users(live_env, "ann", "bob")
    ann_page = browsing.open(server, ann)
    ann_page.goto("/chat/@bob/")
    expect(ann_page).to_have_url(re.compile(r"/chat/dm-\d+-\d+/$"))
    expect(ann_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    item = direct_item(ann_page)
    expect(item.locator(".rooms-nav-name")).to_have_text("@bob")
    expect(item.get_by_test_id("rooms-nav-presence")).to_have_attribute("data-online", "false")
    expect(item.get_by_role("link")).to_have_accessible_name(re.compile(r"offline\s*@bob"))

    # Bob opens the conversation: Ann's sidebar shows him online without a reload.
    room = ann_page.url.rstrip("/").rsplit("/", 1)[1]
    bob_page = enter_room(browsing.open(server, bob), room)
    bob_item = direct_item(bob_page)
    expect(bob_item.locator(".rooms-nav-name")).to_have_text("@ann")
    expect(bob_item.get_by_test_id("rooms-nav-presence")).to_have_attribute("data-online", "true")
    expect(item.get_by_test_id("rooms-nav-presence")).to_have_attribute("data-online", "true")
    expect(item.get_by_role("link")).to_have_accessible_name(re.compile(r"online\s*@bob"))
    assert run_axe(ann_page, axe_source) == []
    assert browsing.problems(ann_page) == [] and browsing.problems(bob_page) == []


def test_a_peer_presence_frame_turns_the_other_persons_dot_on_and_off(server, live_env, browsing):
    # The real socket is relayed untouched and peer_presence frames, as docs/protocol.md
    # describes them, are added to what the page receives (someone ann shares no room with too).
    ann, bob, cat = users(live_env, "ann", "bob", "cat")
    ann_page = browsing.open(server, ann)
    sockets = []

    def relay(route) -> None:
        route.connect_to_server()
        sockets.append(route)

    ann_page.route_web_socket(re.compile(r"/ws/"), relay)
    ann_page.goto("/chat/@bob/")
    expect(ann_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    dot = direct_item(ann_page).get_by_test_id("rooms-nav-presence")
    expect(dot).to_have_attribute("data-online", "false")

    def peer_presence(user_id: int, online: bool) -> None:
        frame = {"type": "peer_presence", "user_id": user_id, "online": online}
        sockets[-1].send(json.dumps(frame))

    peer_presence(cat.user_id, True)  # someone ann has no direct room with
    peer_presence(bob.user_id, True)
    expect(dot).to_have_attribute("data-online", "true")
    expect(direct_item(ann_page).get_by_role("link")).to_have_accessible_name(
        re.compile(r"online\s*@bob")
    )
    peer_presence(bob.user_id, False)
    expect(dot).to_have_attribute("data-online", "false")
    expect(direct_item(ann_page).get_by_role("link")).to_have_accessible_name(
        re.compile(r"offline\s*@bob")
    )
    assert browsing.problems(ann_page) == []


def test_a_conversation_someone_opens_with_you_reaches_your_open_page(server, live_env, browsing):
    """No reload: bob's first message lists the conversation in ann's sidebar, counted, and
    shows one desktop notification."""
    ann, bob = users(live_env, "ann", "bob")
    ann_page = browsing.open(server, ann)
    ann_page.context.add_init_script(FAKE_NOTIFICATIONS)
    enter_room(ann_page, "town")
    expect(direct_item(ann_page)).to_have_count(0)
    bob_page = browsing.open(server, bob)
    bob_page.goto("/chat/@ann/")
    expect(bob_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    send(bob_page, "hi ann, a word in private")
    item = direct_item(ann_page)
    expect(item.locator(".rooms-nav-name")).to_have_text("@bob")
    expect(item.get_by_test_id("rooms-nav-unread")).to_have_text("1")
    expect(item.get_by_test_id("rooms-nav-presence")).to_have_attribute("data-online", "true")
    ann_page.wait_for_function("window.__notes.length > 0", timeout=10_000)
    message_id = bob_page.locator('[data-testid="message"]').last.get_attribute("data-id")
    assert ann_page.evaluate("window.__notes") == [
        {"title": "New direct message from @bob", "tag": f"jabber-message-{message_id}"}
    ]
    assert browsing.problems(ann_page) == [] and browsing.problems(bob_page) == []
