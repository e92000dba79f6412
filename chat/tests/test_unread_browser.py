"""SPEC §9 in a real browser: the sidebar's counts follow activity, reads and deletes live."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.browser import enter_room, send, users


def room_item(page, name: str):
    return page.locator(f'[data-testid="rooms-nav-item"][data-room="{name}"]')


def test_the_sidebar_counts_another_rooms_messages_and_a_read_elsewhere_clears_them(
    server,
    live_env,
    browsing,
):
    ann, bob = users(live_env, "ann", "bob")
    watcher = enter_room(browsing.open(server, ann), "news")  # ann joins news
    enter_room(watcher, "town")
    speaker = enter_room(browsing.open(server, bob), "news")
    expect(room_item(watcher, "news")).to_be_visible()

    send(speaker, "first")
    send(speaker, "hey @ann, look")
    news = room_item(watcher, "news")
    expect(news.get_by_test_id("rooms-nav-unread")).to_have_text("2")
    expect(news.get_by_test_id("rooms-nav-mentions")).to_have_text("@1")
    expect(news).to_have_class(re.compile(r"\bhas-unread\b"))

    # Reading news in another tab clears the counts here, through a read frame.
    reader = enter_room(browsing.open(server, ann), "news")
    reader.bring_to_front()
    expect(news.get_by_test_id("rooms-nav-unread")).to_be_hidden()
    expect(news).not_to_have_class(re.compile(r"\bhas-unread\b"))
    assert browsing.problems(watcher) == []


def test_the_lobby_shows_the_same_counts(server, live_env, browsing):
    ann, bob = users(live_env, "ann", "bob")
    lobby = enter_room(browsing.open(server, ann), "news")  # ann joins news
    lobby.goto("/chat/")
    speaker = enter_room(browsing.open(server, bob), "news")
    send(speaker, "hello @ann")
    lobby.reload()
    news = room_item(lobby, "news")
    expect(news.get_by_test_id("rooms-nav-unread")).to_have_text("1")
    expect(news.get_by_test_id("rooms-nav-mentions")).to_have_text("@1")


def test_opening_a_room_marks_where_reading_stopped(server, live_env, browsing):
    ann, bob = users(live_env, "ann", "bob")
    page = enter_room(browsing.open(server, ann), "news")  # ann joins news
    speaker = enter_room(browsing.open(server, bob), "news")
    send(speaker, "seen by ann")
    expect(page.get_by_test_id("message-body")).to_have_count(1)
    page.goto("/chat/")
    send(speaker, "missed one")
    send(speaker, "missed two")
    enter_room(page, "news")
    divider = page.get_by_test_id("unread-divider")
    expect(divider).to_have_count(1)
    following = page.locator('[data-testid="unread-divider"] + [data-testid="message"]')
    expect(following.get_by_test_id("message-body")).to_have_text("missed one")


def test_a_room_joined_in_another_tab_appears_with_its_counts(server, live_env, browsing):
    ann, bob = users(live_env, "ann", "bob")
    watcher = enter_room(browsing.open(server, ann), "town")
    other_tab = enter_room(browsing.open(server, ann), "fresh")  # joins fresh
    other_tab.goto("/chat/")
    speaker = enter_room(browsing.open(server, bob), "fresh")
    send(speaker, "news in a new room")
    fresh = room_item(watcher, "fresh")
    expect(fresh.get_by_test_id("rooms-nav-unread")).to_have_text("1")
    assert browsing.problems(watcher) == []


FAKE_NOTIFICATIONS = """
window.__notes = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission = async () => "granted";
  constructor(title, options) { window.__notes.push({ title, tag: options.tag }); }
  close() {}
};
"""


def test_a_mention_shows_one_desktop_notification_however_many_tabs_are_open(
    server,
    live_env,
    browsing,
):
    ann, bob = users(live_env, "ann", "bob")
    first = enter_room(browsing.open(server, ann), "news")  # ann joins news
    first.context.add_init_script(FAKE_NOTIFICATIONS)
    enter_room(first, "town")
    second = enter_room(first.context.new_page(), "dev")
    speaker = enter_room(browsing.open(server, bob), "news")
    send(speaker, "@ann look at this")
    message_id = speaker.locator('[data-testid="message"]').last.get_attribute("data-id")
    for page in (first, second):
        news = room_item(page, "news")
        expect(news.get_by_test_id("rooms-nav-mentions")).to_have_text("@1")
    first.wait_for_function(
        f"JSON.parse(localStorage.getItem('jabber-notified') ?? '[]').includes({message_id})"
    )
    # The winner shows it right after recording its claim; wait for it, bounded.
    notes: list = []
    for _ in range(50):
        notes = [note for page in (first, second) for note in page.evaluate("window.__notes")]
        if notes:
            break
        first.wait_for_timeout(100)
    assert notes == [
        {"title": "You were mentioned in #news", "tag": f"jabber-message-{message_id}"}
    ]


def test_an_edit_that_adds_or_removes_a_mention_moves_the_mention_count_live(
    server, live_env, browsing
):
    ann, bob = users(live_env, "ann", "bob")
    watcher = enter_room(browsing.open(server, ann), "news")  # ann joins news
    enter_room(watcher, "town")
    speaker = enter_room(browsing.open(server, bob), "news")
    send(speaker, "plain words")
    news = room_item(watcher, "news")
    expect(news.get_by_test_id("rooms-nav-unread")).to_have_text("1")
    expect(news.get_by_test_id("rooms-nav-mentions")).to_be_hidden()

    def edit_last(body: str) -> None:
        last = speaker.locator('[data-testid="message"]').last
        last.hover()
        last.get_by_test_id("message-edit").click()
        editor = last.get_by_test_id("edit-input")
        editor.fill(body)
        editor.press("Enter")
        expect(last.get_by_test_id("message-body")).to_have_text(body)

    edit_last("plain words, @ann")
    expect(news.get_by_test_id("rooms-nav-mentions")).to_have_text("@1")
    expect(news.get_by_test_id("rooms-nav-unread")).to_have_text("1")
    edit_last("plain words again")
    expect(news.get_by_test_id("rooms-nav-mentions")).to_be_hidden()
    expect(news.get_by_test_id("rooms-nav-unread")).to_have_text("1")
    assert browsing.problems(watcher) == [] and browsing.problems(speaker) == []
