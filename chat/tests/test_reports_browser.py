"""SPEC §12 reports in a real browser: a moderator sees a report live, with the excerpt, the
reporter, the reason and a link to the message; the reporter hears how it was settled."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.support.browser import enter_room, run_axe, say, stored_message_id, users
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
