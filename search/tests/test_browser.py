"""Search in a real browser: from the header's box to the message in its room."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.browser import say
from tests.support.clients import UserSpec, create_user_sessions

expect.set_options(timeout=15_000)


def test_search_from_the_box_lands_on_the_message(server, live_env, new_page):
    (ann,) = create_user_sessions(live_env, [UserSpec("ann")])
    # Within the send burst (10): the point is the landing, not the scrolling.
    fillers = [f"filler number {n}" for n in range(5)]
    say(server, ann, "garden", "the needle is in the haystack", *fillers)
    page = new_page(server, ann.session)
    page.goto("/chat/")
    box = page.get_by_role("search").get_by_role("searchbox")
    box.fill("needles")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/chat/search/\?q=needles$"))
    result = page.get_by_test_id("search-result")
    expect(result).to_have_count(1)
    expect(result.locator("mark")).to_have_text("needle")
    message_id = result.get_attribute("data-id")
    result.get_by_test_id("search-result-link").click()
    expect(page).to_have_url(re.compile(rf"/chat/garden/\?around={message_id}$"))
    expect(page.locator(f'[data-testid="message"][data-id="{message_id}"]')).to_be_visible()
