"""SPEC §14 in a real browser: attaching files, seeing them inline, the viewer, progress.

Headless Chromium against a real server process, with the helpers of tests/support/browser.py.
Waits are Playwright expectations, never sleeps.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from playwright.sync_api import expect

from tests.support.browser import (
    DELIVERED,
    PENDING,
    enter_room,
    run_axe,
    users,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png(size: tuple[int, int]) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, "teal").save(output, format="PNG")
    return output.getvalue()


def attach(page: Page, *files: dict) -> None:
    """Pick files with the composer's Attach button and wait until each is uploaded."""
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("attach").click()
    chooser.value.set_files(list(files))
    ready = page.locator('[data-testid="upload"][data-state="ready"]')
    expect(ready).to_have_count(len(files))


def media_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {**env, "JABBER_MEDIA_ROOT": str(tmp_path / "media")}


def test_an_image_and_a_pdf_reach_both_users_with_the_thumbnail_box_reserved(
    start_server, live_env, browsing, tmp_path
):
    env = media_env(live_env, tmp_path)
    server = start_server(env)
    ann, bob = users(env, "ann", "bob")
    ann_page = enter_room(browsing.open(server, ann), "files")
    bob_page = enter_room(browsing.open(server, bob), "files")
    # Bob's thumbnails are held back until the test lets them through.
    held: list[Route] = []
    bob_page.route(re.compile(r"/thumbnail/$"), lambda route: held.append(route))

    attach(
        ann_page,
        {"name": "harbour.png", "mimeType": "image/png", "buffer": png((800, 600))},
        {"name": "minutes.pdf", "mimeType": "application/pdf", "buffer": PDF},
    )
    ann_page.get_by_test_id("composer").fill("from the trip")
    ann_page.get_by_test_id("composer").press("Enter")
    expect(ann_page.locator(PENDING)).to_have_count(0)
    expect(ann_page.get_by_test_id("upload-tray")).to_be_hidden()

    for page in (ann_page, bob_page):
        message = page.locator(DELIVERED).last
        expect(message.get_by_test_id("message-body")).to_have_text("from the trip")
        expect(message.get_by_test_id("attachment-file")).to_contain_text("minutes.pdf")
        expect(message.get_by_test_id("attachment-file")).to_contain_text("application/pdf")
        expect(message.get_by_test_id("attachment-image").locator("img")).to_have_attribute(
            "alt", "harbour.png"
        )
    # Before a byte of the thumbnail arrives, its 400 x 300 box is already there.
    image = bob_page.locator(DELIVERED).last.get_by_test_id("attachment-image").locator("img")
    expect(image).to_have_js_property("naturalWidth", 0)
    box = image.bounding_box()
    assert box is not None and (round(box["width"]), round(box["height"])) == (400, 300)
    assert held, "the thumbnail was requested"
    for route in held:
        route.continue_()
    bob_page.unroute(re.compile(r"/thumbnail/$"))
    expect(image).to_have_js_property("naturalWidth", 400)
    assert image.bounding_box() == box

    # After a reload the server-rendered files are taken over as they were.
    bob_page.reload()
    expect(bob_page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    message = bob_page.locator(DELIVERED).last
    expect(message.get_by_test_id("attachment-file")).to_contain_text("minutes.pdf")
    expect(message.get_by_test_id("attachment-image")).to_have_count(1)
    for page in (ann_page, bob_page):
        assert browsing.problems(page) == []


def test_the_viewer_opens_full_size_closes_on_escape_and_gives_focus_back(
    start_server, live_env, browsing, tmp_path, axe_source
):
    env = media_env(live_env, tmp_path)
    server = start_server(env)
    (ann,) = users(env, "ann")
    page = enter_room(browsing.open(server, ann), "files")
    attach(
        page,
        {"name": "wide.png", "mimeType": "image/png", "buffer": png((1200, 400))},
        {"name": "minutes.pdf", "mimeType": "application/pdf", "buffer": PDF},
    )
    assert run_axe(page, axe_source) == [], "composer with files ready"
    page.get_by_test_id("composer").press("Enter")
    thumbnail = page.locator(DELIVERED).last.get_by_test_id("attachment-image")
    expect(thumbnail).to_be_visible()
    assert run_axe(page, axe_source) == [], "a message with an image and a file"
    thumbnail.focus()
    page.keyboard.press("Enter")
    viewer = page.get_by_test_id("image-viewer")
    expect(viewer).to_be_visible()
    expect(viewer.locator("img")).to_have_js_property("naturalWidth", 1200)
    expect(viewer.get_by_role("heading")).to_have_text("wide.png")
    assert run_axe(page, axe_source) == [], "the viewer"
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(thumbnail).to_be_focused()
    assert browsing.problems(page) == []


def test_the_progress_bar_moves_on_a_slow_connection_and_cancel_stops_the_upload(
    start_server, live_env, browsing, tmp_path
):
    env = media_env(live_env, tmp_path)
    server = start_server(env)
    (ann,) = users(env, "ann")
    page = enter_room(browsing.open(server, ann), "files")
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 256_000},
    )
    big = {"name": "logs.txt", "mimeType": "text/plain", "buffer": b"log line\n" * 300_000}
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("attach").click()
    chooser.value.set_files([big])
    page.wait_for_function(
        """() => {
          const bar = document.querySelector('[data-testid="upload-progress"]');
          return bar && bar.value > 0 && bar.value < bar.max;
        }"""
    )
    page.get_by_test_id("upload-cancel").click()
    expect(page.get_by_test_id("upload")).to_have_count(0)
    expect(page.get_by_test_id("upload-tray")).to_be_hidden()
    # Nothing is left to send with the next message.
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("error")).to_have_text("Type a message first.")


def test_files_dropped_on_the_room_or_pasted_into_the_composer_are_uploaded(
    start_server, live_env, browsing, tmp_path
):
    env = media_env(live_env, tmp_path)
    server = start_server(env)
    (ann,) = users(env, "ann")
    page = enter_room(browsing.open(server, ann), "files")
    # What a drop from the desktop and a paste of a file hand the page.
    page.evaluate(
        """() => {
          const carrying = (name) => {
            const data = new DataTransfer();
            data.items.add(new File(["some text"], name, { type: "text/plain" }));
            return data;
          };
          const main = document.querySelector("main");
          main.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true,
                                                         dataTransfer: carrying("dropped.txt") }));
          main.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true,
                                                     dataTransfer: carrying("dropped.txt") }));
          document.querySelector('[data-testid="composer"]').dispatchEvent(
            new ClipboardEvent("paste", { bubbles: true, cancelable: true,
                                          clipboardData: carrying("pasted.txt") }));
        }"""
    )
    expect(page.locator('[data-testid="upload"][data-state="ready"]')).to_have_count(2)
    expect(page.get_by_test_id("upload-tray")).to_contain_text("dropped.txt")
    expect(page.get_by_test_id("upload-tray")).to_contain_text("pasted.txt")
    page.get_by_test_id("send").click()
    # Listed in the order the uploads finished (by id): either may win.
    files = page.locator(DELIVERED).last.locator(".attachment-file-name")
    expect(files).to_have_count(2)
    assert sorted(files.all_text_contents()) == ["dropped.txt", "pasted.txt"]
    assert browsing.problems(page) == []
