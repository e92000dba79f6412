"""SPEC §12 reports in a real browser: a moderator sees a report live, with the excerpt, the
reporter, the reason and a link to the message; the reporter hears how it was settled."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.support.browser import (
    DELIVERED,
    enter_room,
    message,
    run_axe,
    say,
    send,
    stored_message_id,
    users,
)
from tests.support.clients import recv_until, run_async, ws_connect


def report(server, user, room: str, message_id: int, reason: str) -> None:
    """Report a message as ``user`` over a WebSocket of its own; wait for `reported`."""

    async def send() -> None:
        async with ws_connect(server, room, user.session) as socket:
            await recv_until(socket, "hello")
            frame = {"type": "report", "id": message_id, "reason": reason, "request_id": "r"}
            await socket.send(json.dumps(frame))
            answer = await recv_until(socket, lambda frame: frame.get("request_id") == "r")
            assert answer["type"] == "reported", answer

    run_async(send())


def test_a_moderator_sees_a_report_live_and_the_reporter_hears_the_outcome(
    server, live_env, browsing, axe_source
):
    (moderator,) = users(live_env, "mod", staff=True, groups=["Moderators"])
    bob, carol = users(live_env, "bob", "carol")
    say(server, carol, "town", "buy cheap watches at example.com")
    message_id = stored_message_id(server, bob, "town", "buy cheap watches at example.com")
    # Dark for the moderator, light for the reporter: axe checks both schemes.
    mod_page = enter_room(browsing.open(server, moderator, color_scheme="dark"), "town")
    bob_page = enter_room(browsing.open(server, bob), "town")
    panel = mod_page.get_by_test_id("reports-panel")
    expect(panel).to_be_hidden()
    expect(bob_page.get_by_test_id("reports-panel")).to_be_hidden()

    report(server, bob, "town", message_id, "spam link")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name=re.compile("Reports"))).to_be_visible()
    item = panel.get_by_test_id("report")
    expect(item).to_have_count(1)
    expect(item.get_by_test_id("report-excerpt")).to_have_text("buy cheap watches at example.com")
    expect(item.get_by_test_id("report-reporter")).to_have_text("bob")
    expect(item.get_by_test_id("report-reason")).to_have_text("spam link")
    expect(item).to_contain_text("a message by carol in #town")
    expect(mod_page.get_by_test_id("reports-status")).to_have_text("New report from bob in #town.")
    expect(bob_page.get_by_test_id("reports-panel")).to_be_hidden()  # not a moderator
    assert run_axe(mod_page, axe_source) == []
    report_id = item.get_attribute("data-report")

    admin = browsing.open(server, moderator)
    admin.goto("/admin/chat/report/")
    admin.locator(f'input[name="_selected_action"][value="{report_id}"]').check()
    admin.locator('select[name="action"]').select_option(label="Dismiss (nothing to do)")
    admin.get_by_role("button", name="Go").click()
    expect(admin.locator(".messagelist")).to_contain_text("Settled 1 open report(s).")

    outcome = bob_page.get_by_test_id("report-outcome")
    expect(outcome).to_have_count(1)
    expect(outcome).to_contain_text("Your report was handled: the moderators dismissed it.")
    expect(outcome.get_by_role("link", name="See the message")).to_have_attribute(
        "href", f"/chat/town/?around={message_id}"
    )
    assert run_axe(bob_page, axe_source) == []
    outcome.get_by_role("button", name="Dismiss this notice").click()
    expect(outcome).to_have_count(0)

    item.get_by_test_id("report-link").click()
    expect(mod_page).to_have_url(re.compile(rf"/chat/town/\?around={message_id}$"))
    target = mod_page.locator(f'[data-testid="message"][data-id="{message_id}"]')
    expect(target).to_have_class(re.compile(r"\bmessage--highlight\b"))
    assert browsing.problems(mod_page) == [] and browsing.problems(bob_page) == []


def delete_message(server, user, room: str, message_id: int) -> None:
    """Delete a message as its author over a WebSocket of its own; wait for the broadcast."""

    async def send() -> None:
        async with ws_connect(server, room, user.session) as socket:
            await recv_until(socket, "hello")
            await socket.send(json.dumps({"type": "delete", "id": message_id}))
            await recv_until(socket, lambda frame: frame["type"] == "message_deleted")

    run_async(send())


def test_a_member_reports_a_message_from_its_menu_and_a_moderator_sees_it(
    server, live_env, browsing, axe_source
):
    (moderator,) = users(live_env, "mod", staff=True, groups=["Moderators"])
    ann, bob = users(live_env, "ann", "bob")
    say(server, ann, "town", "buy cheap watches at example.com")
    message_id = stored_message_id(server, bob, "town", "buy cheap watches at example.com")
    mod_page = enter_room(browsing.open(server, moderator), "town")
    # Dark: axe checks the dialog in the scheme the other test leaves unchecked for a reporter.
    bob_page = enter_room(browsing.open(server, bob, color_scheme="dark"), "town")
    send(bob_page, "my own words")

    own = bob_page.locator(DELIVERED).filter(has_text="my own words")
    expect(own.get_by_test_id("message-report")).to_have_count(0)
    # From the keyboard: the Report button of ann's message opens the dialog on the reason.
    report_button = message(bob_page, message_id).get_by_test_id("message-report")
    report_button.focus()
    report_button.press("Enter")
    dialog = bob_page.get_by_role("dialog", name="Report a message")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("report-dialog-excerpt")).to_have_text(
        "buy cheap watches at example.com"
    )
    reason = dialog.get_by_role("textbox", name="Why should the moderators look at it?")
    expect(reason).to_be_focused()
    assert run_axe(bob_page, axe_source) == []

    # A blank reason is not sent: the dialog says why.
    dialog.get_by_role("button", name="Report").click()
    expect(dialog.get_by_test_id("report-dialog-error")).to_have_text(
        "Say why you are reporting this message."
    )
    expect(mod_page.get_by_test_id("reports-panel")).to_be_hidden()

    reason.press_sequentially("spam link")
    expect(dialog.get_by_test_id("report-reason-count")).to_have_text("9 of 500 characters")
    expect(dialog.get_by_test_id("report-dialog-error")).to_be_hidden()
    dialog.get_by_role("button", name="Report").click()
    expect(dialog.get_by_role("status")).to_have_text(
        "Thank you. The room's moderators will look at this message."
    )
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()

    item = mod_page.get_by_test_id("reports-panel").get_by_test_id("report")
    expect(item).to_have_count(1)
    expect(item.get_by_test_id("report-reporter")).to_have_text("bob")
    expect(item.get_by_test_id("report-reason")).to_have_text("spam link")
    expect(item.get_by_test_id("report-excerpt")).to_have_text("buy cheap watches at example.com")

    bob_page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(report_button).to_be_focused()
    assert browsing.problems(mod_page) == [] and browsing.problems(bob_page) == []


def test_a_report_the_server_refuses_shows_its_reason_in_the_dialog(server, live_env, browsing):
    ann, bob = users(live_env, "ann", "bob")
    say(server, ann, "town", "soon gone")
    message_id = stored_message_id(server, bob, "town", "soon gone")
    bob_page = enter_room(browsing.open(server, bob), "town")
    message(bob_page, message_id).hover()
    message(bob_page, message_id).get_by_test_id("message-report").click()
    dialog = bob_page.get_by_role("dialog", name="Report a message")
    dialog.get_by_role("textbox").fill("rude")

    delete_message(server, ann, "town", message_id)
    expect(message(bob_page, message_id)).to_have_count(0)
    dialog.get_by_role("button", name="Report").click()
    error = dialog.get_by_test_id("report-dialog-error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(dialog.get_by_role("button", name="Report")).to_be_enabled()
    expect(dialog.get_by_test_id("report-confirmation")).to_be_empty()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert browsing.problems(bob_page) == []
