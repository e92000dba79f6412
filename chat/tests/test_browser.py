"""SPEC §7 in a real browser: headless Chromium against a real server process.

Every user gets a browser context of their own, logged in by a session cookie
from ``create_user_sessions`` (only the sign-up test uses the form). Tests wait
on Playwright expectations with timeouts, never on sleeps.

The README's screenshots come from the last test, which runs only when asked:
``JABBER_SCREENSHOTS=1 .venv/bin/pytest chat/tests/test_browser.py -k screenshots``.
"""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    DELIVERED,
    DESKTOP,
    PENDING,
    PHONE,
    PHONE_OPTIONS,
    assert_fits_width,
    assert_in_viewport,
    authors,
    bodies,
    choose_in_autocomplete,
    clipboard,
    enter_room,
    fast_server,
    grant_clipboard,
    hello_bodies,
    lobby_online,
    message,
    message_ids,
    online,
    react,
    record_frames,
    run_axe,
    say,
    send,
    send_markdown,
    stored_message_id,
    users,
)
from tests.support.services import REPO_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
PASSWORD = "correct-horse-battery-staple"

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


# The ban form picks its user by autocomplete, which Django serves only to those who may
# view users: the Moderators group may (chat.moderators).
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
    choose_in_autocomplete(admin, "user", "bob")
    choose_in_autocomplete(admin, "room", "town")
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
        bodies_markup = page.locator(f"{DELIVERED} .message-body")
        assert bodies_markup.locator("img, script, a").count() == 0
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
    morning = "Morning! The deploy went **fine**, notes at https://example.com/notes"
    say(server, bob, "general", morning, "```\nmake deploy ENVIRONMENT=production VERBOSE=1\n```")
    morning_id = stored_message_id(server, bob, "general", morning)
    say(server, ann, "general", "Which host?", reply_to=morning_id)
    react(server, ann, "general", morning_id, "🎉")
    page = enter_room(browsing.open(server, ann, **layout), "general")
    expect(page.get_by_test_id("reaction")).to_have_text(["🎉 1"])
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


# ------------------------------------------------------------ rich messages


def test_formatting_shows_emphasis_links_to_a_new_tab_and_code_that_keeps_its_shape(
    server, live_env, browsing, axe_source
):
    ann, bob = users(live_env, "ann", "bob")
    ann_page = enter_room(browsing.open(server, ann), "general")
    bob_page = enter_room(browsing.open(server, bob), "general")
    grant_clipboard(ann_page, server)
    code = "def greet():\n    return 'hi'    # the indent and these spaces stay"
    send_markdown(bob_page, "**Release** is _today_, notes at https://example.com/notes?v=2.4")
    send_markdown(bob_page, f"```\n{code}\n```")

    def check(page: Page) -> None:
        text, block = page.locator(DELIVERED).nth(0), page.locator(DELIVERED).nth(1)
        expect(text.locator(".message-body strong")).to_have_text("Release")
        expect(text.locator(".message-body em")).to_have_text("today")
        link = text.locator(".message-body a")
        expect(link).to_have_attribute("href", "https://example.com/notes?v=2.4")
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
        pre = block.locator(".message-body pre")
        expect(pre).to_have_count(1)
        assert pre.evaluate("node => node.textContent").rstrip("\n") == code
        assert pre.evaluate("node => getComputedStyle(node).whiteSpace") == "pre"

    for page in (ann_page, bob_page):
        check(page)
    copy = ann_page.locator(DELIVERED).nth(1).get_by_test_id("copy-code")
    expect(copy).to_have_accessible_name("Copy code")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert clipboard(ann_page) == code

    ann_page.reload()  # the server's rendering of the same html, then adopted by the client
    expect(ann_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    check(ann_page)
    assert run_axe(ann_page, axe_source) == []
    assert browsing.problems(ann_page) == []
    assert browsing.problems(bob_page) == []


def test_a_long_code_line_scrolls_sideways_on_a_phone_instead_of_widening_the_page(
    server, live_env, browsing, axe_source
):
    ann, bob = users(live_env, "ann", "bob")
    line = "curl --fail --silent --show-error https://example.com/api/v2/releases/2.4/notes"
    say(server, bob, "general", f"```\n{line} | jq .\n```")
    page = enter_room(browsing.open(server, ann, **PHONE_OPTIONS), "general")
    pre = page.locator(f"{DELIVERED} .message-body pre")
    expect(pre).to_have_count(1)
    assert_fits_width(page)
    assert pre.evaluate("node => node.scrollWidth > node.clientWidth")
    assert run_axe(page, axe_source) == []


def test_a_reply_shows_its_quote_and_the_quote_jumps_to_the_original(
    start_server, live_env, browsing, axe_source
):
    server = fast_server(start_server, live_env)
    ann, bob, carol = users(live_env, "ann", "bob", "carol")
    question = "Which release has the importer fix?"
    say(server, bob, "team", question)
    original = stored_message_id(server, bob, "team", question)
    say(server, carol, "team", *(f"chatter {number:03}" for number in range(1, 101)))
    say(server, ann, "team", "2.4 has it", reply_to=original)
    ann_page = enter_room(browsing.open(server, ann), "team")
    bob_page = enter_room(browsing.open(server, bob), "team")
    ann_page.on("dialog", lambda dialog: dialog.accept())

    answer = bob_page.locator(DELIVERED).last
    answer_id = int(answer.get_attribute("data-id"))
    quote = answer.get_by_test_id("message-reply")
    expect(quote.get_by_test_id("message-reply-author")).to_have_text("bob")
    expect(quote.get_by_test_id("message-reply-excerpt")).to_have_text(question)
    expect(message(bob_page, original)).to_have_count(0)  # older than the 50 shown

    # The original is not on the page: the quote loads the messages around it.
    quote.click()
    target = message(bob_page, original)
    expect(target).to_have_class(re.compile(r"\bmessage--highlight\b"))
    expect(target).to_be_in_viewport()
    expect(target.get_by_test_id("message-body")).to_have_text(question)
    assert run_axe(bob_page, axe_source) == []
    latest = bob_page.get_by_test_id("new-messages")
    expect(latest).to_contain_text("Jump to latest")
    # What is said meanwhile waits below the past, and is there on the way back.
    send(ann_page, "anyone else need it?")
    latest.click()
    expect(bodies(bob_page).last).to_have_text("anyone else need it?")
    expect(latest).to_be_hidden()

    # Reply from the page: the composer says to what, and can let go of it.
    answer = message(bob_page, answer_id)
    answer.hover()
    answer.get_by_test_id("message-reply-action").click()
    bar = bob_page.get_by_test_id("composer-reply")
    expect(bar).to_be_visible()
    expect(bar.get_by_test_id("composer-reply-author")).to_have_text("ann")
    expect(bar.get_by_test_id("composer-reply-excerpt")).to_have_text("2.4 has it")
    expect(bob_page.get_by_test_id("composer")).to_be_focused()
    bob_page.get_by_test_id("composer").press("Escape")
    expect(bar).to_be_hidden()
    answer.hover()
    answer.get_by_test_id("message-reply-action").click()
    send(bob_page, "Thanks, upgrading now")
    expect(bar).to_be_hidden()

    for page in (ann_page, bob_page):
        thanks = page.locator(DELIVERED).last
        expect(thanks.get_by_test_id("message-reply-author")).to_have_text("ann")
        expect(thanks.get_by_test_id("message-reply-excerpt")).to_have_text("2.4 has it")
    # On screen already: the quote only highlights it.
    ann_page.locator(DELIVERED).last.get_by_test_id("message-reply").click()
    answered = ann_page.locator(DELIVERED).filter(has_text="2.4 has it").first
    expect(answered).to_have_class(re.compile(r"\bmessage--highlight\b"))
    expect(answered).to_be_in_viewport()

    # An edit of the original shows in the quotes of the replies to it.
    answered.hover()
    answered.get_by_test_id("message-edit").click()
    ann_page.get_by_test_id("edit-input").fill("2.4.1 has it")
    ann_page.get_by_test_id("edit-input").press("Enter")
    expect(bob_page.locator(DELIVERED).last.get_by_test_id("message-reply-excerpt")).to_have_text(
        "2.4.1 has it"
    )

    # Once the original is deleted, its replies say so.
    answered = ann_page.locator(DELIVERED).filter(has_text="2.4.1 has it").first
    answered.hover()
    answered.get_by_test_id("message-delete").click()
    for page in (ann_page, bob_page):
        expect(page.locator(DELIVERED).last.get_by_test_id("message-reply-excerpt")).to_have_text(
            "deleted message"
        )
    bob_page.reload()  # the server's rendering says so too
    expect(bob_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    thanks = bob_page.locator(DELIVERED).last
    expect(thanks.get_by_test_id("message-reply-excerpt")).to_have_text("deleted message")
    expect(thanks.get_by_test_id("message-reply")).not_to_have_attribute("href", re.compile("."))
    assert browsing.problems(ann_page) == []
    assert browsing.problems(bob_page) == []


def test_a_reaction_from_one_user_is_seen_by_the_other_with_its_count_and_toggles(
    server, live_env, browsing, axe_source
):
    ann, bob = users(live_env, "ann", "bob")
    say(server, bob, "general", "Ship 2.4 today?")
    ann_page = enter_room(browsing.open(server, ann), "general")
    bob_page = enter_room(browsing.open(server, bob), "general")

    def reactions(page: Page) -> Locator:
        return page.locator(DELIVERED).last.get_by_test_id("reaction")

    shipped = ann_page.locator(DELIVERED).last
    shipped.hover()
    shipped.get_by_test_id("message-react").click()
    picker = ann_page.get_by_test_id("emoji-picker")
    expect(picker).to_be_visible()
    expect(ann_page.get_by_test_id("emoji-search")).to_be_focused()
    expect(picker.get_by_test_id("emoji-option")).to_have_count(10)
    assert run_axe(ann_page, axe_source) == []  # with the picker open
    ann_page.get_by_test_id("emoji-search").fill("party")
    expect(picker.get_by_role("button", name="party popper")).to_be_visible()
    ann_page.keyboard.press("Enter")
    expect(picker).to_be_hidden()

    for page, mine in ((ann_page, "true"), (bob_page, "false")):
        expect(reactions(page)).to_have_text(["🎉 1"])
        expect(reactions(page)).to_have_attribute("aria-pressed", mine)
    expect(bob_page.get_by_role("button", name="🎉 1: reacted by ann")).to_be_visible()
    expect(reactions(bob_page)).to_have_attribute("title", "🎉 1: reacted by ann")

    reactions(bob_page).click()
    for page in (ann_page, bob_page):
        expect(reactions(page)).to_have_text(["🎉 2"])
    expect(reactions(ann_page)).to_have_attribute("aria-label", "🎉 2: reacted by you and bob")
    expect(reactions(bob_page)).to_have_attribute("aria-pressed", "true")

    reactions(ann_page).click()
    for page in (ann_page, bob_page):
        expect(reactions(page)).to_have_text(["🎉 1"])
    expect(reactions(ann_page)).to_have_attribute("aria-pressed", "false")
    expect(reactions(ann_page)).to_have_attribute("aria-label", "🎉 1: reacted by bob")

    # By keyboard: the picker opens on its search field; the arrow goes to the emoji.
    react = ann_page.locator(DELIVERED).last.get_by_test_id("message-react")
    react.focus()
    ann_page.keyboard.press("Enter")
    expect(ann_page.get_by_test_id("emoji-search")).to_be_focused()
    ann_page.keyboard.press("ArrowDown")
    expect(picker.get_by_role("button", name="thumbs up")).to_be_focused()
    ann_page.keyboard.press("Enter")
    for page in (ann_page, bob_page):
        expect(reactions(page)).to_have_text(["🎉 1", "👍 1"])
    expect(react).to_be_focused()
    react.press("Enter")
    ann_page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(react).to_be_focused()

    bob_page.reload()  # the server's rendering, in the order each emoji first appeared
    expect(bob_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expect(reactions(bob_page)).to_have_text(["🎉 1", "👍 1"])
    expect(reactions(bob_page).first).to_have_attribute("aria-pressed", "true")
    assert run_axe(bob_page, axe_source) == []
    assert browsing.problems(ann_page) == []
    assert browsing.problems(bob_page) == []


def test_a_message_link_opens_the_room_at_that_message_highlighted(
    start_server, live_env, browsing, axe_source
):
    server = fast_server(start_server, live_env)
    ann, bob = users(live_env, "ann", "bob")
    decision = "The decision: we ship on Tuesdays"
    say(server, bob, "archive", decision)
    say(server, bob, "archive", *(f"later {number:03}" for number in range(1, 121)))
    decision_id = stored_message_id(server, bob, "archive", decision)

    page = enter_room(browsing.open(server, ann), "archive")
    grant_clipboard(page, server)
    newest = page.locator(DELIVERED).last
    newest_id = newest.get_attribute("data-id")
    newest.hover()
    newest.get_by_test_id("message-copy-link").click()
    expect(newest.get_by_test_id("message-copy-link")).to_have_text("Copied")
    assert clipboard(page) == f"{server.url}/chat/archive/?around={newest_id}#m-{newest_id}"
    link = f"/chat/archive/?around={decision_id}#m-{decision_id}"

    # Without JavaScript: the server shows the messages around it, marked, scrolled to.
    static = browsing.open(server, ann, java_script_enabled=False)
    static.goto(link)
    target = message(static, decision_id)
    expect(target).to_have_class(re.compile(r"\bmessage--highlight\b"))
    expect(target).to_be_in_viewport()
    expect(target.get_by_test_id("message-link")).to_have_attribute("href", link)
    expect(static.locator(".history-marker-newer")).to_be_visible()

    # With JavaScript: the same, and the way back to the latest messages.
    page.goto(link)
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    target = message(page, decision_id)
    expect(target).to_have_class(re.compile(r"\bmessage--highlight\b"))
    expect(target).to_be_in_viewport()
    assert run_axe(page, axe_source) == []
    # Scrolling down loads what follows.
    shown = page.locator(DELIVERED).count()
    expect(page.get_by_test_id("load-newer")).to_be_visible()
    page.get_by_test_id("messages").evaluate("list => { list.scrollTop = list.scrollHeight; }")
    expect(page.locator(DELIVERED)).to_have_count(shown + 50)
    expect(target).to_have_class(re.compile(r"\bmessage--highlight\b"))
    say(server, bob, "archive", "fresh news")
    expect(page.get_by_test_id("new-messages")).to_contain_text("Jump to latest")
    # Sending from the past goes to the latest messages, where it is shown.
    send(page, "caught up")
    expect(bodies(page).nth(-2)).to_have_text("fresh news")
    expect(page.locator(DELIVERED)).to_have_count(51)
    expect(page).to_have_url(f"{server.url}/chat/archive/")
    expect(page.get_by_test_id("new-messages")).to_be_hidden()
    assert browsing.problems(page) == []


# --------------------------------------------------------------- screenshots

CONVERSATION = [
    # (author, body, minutes before now, index of the message it replies to);
    # the first two land on the day before.
    (
        "carol",
        "Release checklist is up in the wiki. Could everyone skim it before tomorrow?",
        1500,
        None,
    ),
    ("dave", "Will do first thing.", 1495, None),
    ("bob", "Morning all! Staging is **green** again.", 42, None),
    (
        "bob",
        "The flaky upload test was a clock issue; fixed in the last merge:\n"
        "```\n- time.sleep(0.5)\n+ clock.advance(seconds=0.5)\n```",
        41,
        None,
    ),
    ("carol", "Nice catch. Are we still on for the 3 pm release?", 35, None),
    ("ann", "Yes, I'll cut the tag at 2:30.", 30, 4),
    ("ann", "Release notes draft: https://example.com/notes/2.4", 30, None),
    ("dave", "Migrations ran in 40 s on the production snapshot.", 12, None),
    ("dave", "No locks held longer than `200 ms`.", 11, None),
    ("bob", "That's _twice_ as fast as last time!", 5, 7),
    ("ann", "Great work everyone, see you at the demo", 2, None),
]
# (index of the message, who reacts, emoji)
REACTIONS = [
    (3, "ann", "👍"),
    (3, "carol", "👍"),
    (3, "dave", "🙏"),
    (7, "ann", "🎉"),
    (7, "bob", "🎉"),
    (7, "carol", "🎉"),
    (7, "erin", "🚀"),
    (10, "bob", "❤️"),
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
    ids: list[int] = []
    for author, body, _, answers in CONVERSATION:
        reply_to = None if answers is None else ids[answers]
        say(server, people[author], "releases", body, reply_to=reply_to)
        ids.append(stored_message_id(server, people[author], "releases", body))
    for index, person, emoji in REACTIONS:
        react(server, people[person], "releases", ids[index], emoji)
    backdate(sqlite_env, "releases", [minutes for _, _, minutes, _ in CONVERSATION])
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
