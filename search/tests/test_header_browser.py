"""The page header with its search box on a phone-size screen: nothing sticks out sideways."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    PHONE_OPTIONS,
    assert_fits_width,
    assert_in_viewport,
    enter_room,
    run_axe,
    users,
)

if TYPE_CHECKING:
    from pathlib import Path


def assert_header_fits(page) -> None:
    """The header is no wider than the screen and nothing in it overflows it."""
    header = page.locator(".site-header")
    widths = header.evaluate(
        """(header) => ({
          scroll: header.scrollWidth,
          client: header.clientWidth,
          view: window.innerWidth,
          right: Math.max(...[...header.querySelectorAll("*")].map(
            (node) => node.getBoundingClientRect().right)),
        })"""
    )
    assert widths["scroll"] <= widths["client"] <= widths["view"], widths
    assert widths["right"] <= widths["view"], widths


@pytest.mark.parametrize("path", ["/chat/", "/chat/search/?q=a+rather+long+query+to+search+for"])
def test_on_a_phone_the_header_and_its_search_box_fit_the_width(
    server, live_env, browsing, axe_source, tmp_path: Path, path: str
):
    (ann,) = users(live_env, "a-rather-long-username")
    page = browsing.open(server, ann, **PHONE_OPTIONS)
    page.goto(path)
    box = page.get_by_role("search").get_by_role("searchbox")
    expect(box).to_be_visible()
    page.screenshot(path=tmp_path / "header.png")  # the check below is on what was drawn
    assert_header_fits(page)
    assert_fits_width(page)
    assert_in_viewport(page, box)
    assert_in_viewport(page, page.get_by_role("search").get_by_role("button", name="Search"))
    assert box.bounding_box()["width"] >= 150  # room to type, not squeezed to nothing
    assert run_axe(page, axe_source) == []


def test_on_a_phone_the_room_page_header_fits_too(server, live_env, browsing):
    (ann,) = users(live_env, "a-rather-long-username")
    page = enter_room(browsing.open(server, ann, **PHONE_OPTIONS), "garden")
    assert_header_fits(page)
    assert_fits_width(page)
    assert_in_viewport(page, page.get_by_test_id("composer"))
