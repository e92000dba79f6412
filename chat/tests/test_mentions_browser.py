"""SPEC §10 in a real browser: the composer completes `@` with the room's members, online first,
by keyboard and by mouse."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.browser import enter_room, run_axe, say, users


def test_at_offers_members_online_first_and_the_keyboard_or_mouse_picks_one(
    server, live_env, browsing, axe_source
):
    ann, bob, bea = users(live_env, "ann", "bob", "bea")
    say(server, bea, "garden", "bea was here")  # a member, offline from now on
    ann_page = enter_room(browsing.open(server, ann, color_scheme="dark"), "garden")
    bob_page = enter_room(browsing.open(server, bob), "garden")
    expect(ann_page.get_by_test_id("online-user")).to_have_count(2)

    composer = ann_page.get_by_test_id("composer")
    listbox = ann_page.get_by_role("listbox", name="People to mention")
    options = listbox.get_by_role("option")
    composer.press_sequentially("hi @b")
    expect(listbox).to_be_visible()
    expect(options).to_have_text(["@bobonline", "@bea"])
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(composer).to_have_attribute("aria-activedescendant", "mention-list-0")
    assert run_axe(ann_page, axe_source) == []  # with the list open

    composer.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(composer).to_have_attribute("aria-activedescendant", "mention-list-1")
    composer.press("Enter")  # picks; does not send
    expect(listbox).to_be_hidden()
    expect(composer).to_have_value("hi @bea ")

    composer.press_sequentially("and @")
    expect(options).to_have_text(["@bobonline", "@bea"])
    composer.press("Escape")
    expect(listbox).to_be_hidden()
    composer.press_sequentially("Bo")
    expect(options).to_have_text(["@bobonline"])
    options.first.click()
    expect(composer).to_have_value("hi @bea and @bob ")
    expect(composer).to_be_focused()

    composer.press("Tab")  # the list is closed: Tab leaves the composer as usual
    expect(composer).not_to_be_focused()
    composer.focus()
    composer.press("End")
    composer.press_sequentially("@bea")
    expect(options).to_have_text(["@bea"])
    composer.press("Enter")  # the whole name is typed: Enter sends
    expect(composer).to_have_value("")
    mention = bob_page.get_by_test_id("message").last.locator(".mention")
    expect(mention).to_have_count(3)
    assert browsing.problems(ann_page) == []
