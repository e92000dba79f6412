"""SPEC §12 in a real browser: a private room made from the lobby, members added and removed and a
member muted from the room page's panel (plain forms), and a direct conversation between two people.

Helpers come from tests/support/browser.py; waits are Playwright expectations.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.browser import bodies, enter_room, open_room_panel, panel_form, send, users


def test_private_room_from_the_lobby_invite_chat_mute_and_remove(server, live_env, browsing):
    ann, bob, carol = users(live_env, "ann", "bob", "carol")
    ann_page = browsing.open(server, ann)
    ann_page.goto("/chat/")
    ann_page.get_by_label("Join or create a room").fill("hideout")
    ann_page.get_by_test_id("private").check()
    ann_page.get_by_role("button", name="Go").click()
    expect(ann_page).to_have_url(f"{server.url}/chat/hideout/")
    expect(ann_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")

    outsider = browsing.open(server, carol)
    response = outsider.goto("/chat/hideout/")
    assert response is not None and response.status == 404

    panel_form(ann_page, "add-member", "bob")
    expect(ann_page.locator(".flash")).to_contain_text("Added bob.")
    panel_form(ann_page, "add-member", "carol")
    expect(ann_page.locator(".flash")).to_contain_text("Added carol.")
    enter_room(ann_page, "hideout")
    bob_page = enter_room(browsing.open(server, bob), "hideout")
    carol_page = enter_room(outsider, "hideout")
    send(bob_page, "hi ann")
    send(ann_page, "welcome, bob")
    expect(bodies(carol_page)).to_have_text(["hi ann", "welcome, bob"])

    moderate = open_room_panel(ann_page).get_by_test_id("moderate")
    moderate.locator('select[name="action"]').select_option("mute")
    moderate.locator('input[name="username"]').fill("carol")
    moderate.get_by_role("button", name="Apply").click()
    expect(ann_page.locator(".flash")).to_contain_text("Muted carol.")
    composer = carol_page.get_by_test_id("composer")
    composer.fill("can I still talk?")
    composer.press("Enter")
    expect(carol_page.get_by_test_id("error")).to_contain_text(re.compile("muted", re.I))

    panel_form(ann_page, "remove-member", "bob")
    expect(ann_page.locator(".flash")).to_contain_text("Removed bob.")
    expect(bob_page.get_by_test_id("connection-state")).not_to_have_attribute(
        "data-state", "online"
    )
    response = bob_page.goto("/chat/hideout/")
    assert response is not None and response.status == 404


def test_a_direct_conversation_between_two_people(server, live_env, browsing):
    ann, bob = users(live_env, "ann", "bob")
    ann_page = browsing.open(server, ann)
    ann_page.goto("/chat/@bob/")
    expect(ann_page).to_have_url(re.compile(r"/chat/dm-\d+-\d+/$"))
    expect(ann_page.get_by_role("heading", level=1)).to_contain_text("bob")
    expect(ann_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    send(ann_page, "psst, bob")

    bob_page = browsing.open(server, bob)
    bob_page.goto("/chat/@ann/")
    assert bob_page.url == ann_page.url
    expect(bob_page.get_by_role("heading", level=1)).to_contain_text("ann")
    expect(bodies(bob_page)).to_have_text(["psst, bob"])
    expect(bob_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    send(bob_page, "hi ann")
    expect(bodies(ann_page)).to_have_text(["psst, bob", "hi ann"])


def test_a_private_room_you_are_added_to_joins_your_sidebar_with_its_padlock(
    server, live_env, browsing
):
    """No reload: the room's first message lists it in ann's sidebar, marked private."""
    ann, bob = users(live_env, "ann", "bob")
    ann_page = enter_room(browsing.open(server, ann), "town")
    bob_page = browsing.open(server, bob)
    bob_page.goto("/chat/")
    bob_page.get_by_label("Join or create a room").fill("hideout")
    bob_page.get_by_test_id("private").check()
    bob_page.get_by_role("button", name="Go").click()
    expect(bob_page).to_have_url(f"{server.url}/chat/hideout/")
    expect(bob_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expect(bob_page.locator(".room-header").get_by_role("img", name="private")).to_be_visible()
    panel_form(bob_page, "add-member", "ann")
    expect(bob_page.locator(".flash")).to_contain_text("Added ann.")
    enter_room(bob_page, "hideout")
    send(bob_page, "the plan, in private")

    item = ann_page.locator('[data-testid="rooms-nav-item"][data-room="hideout"]')
    expect(item).to_have_attribute("data-kind", "private")
    expect(item.get_by_test_id("rooms-nav-unread")).to_have_text("1")
    expect(item.get_by_role("img", name="private")).to_be_visible()
    town = ann_page.locator('[data-testid="rooms-nav-item"][data-room="town"]')
    expect(town.get_by_test_id("private-mark")).to_have_count(0)
    assert browsing.problems(ann_page) == [] and browsing.problems(bob_page) == []
