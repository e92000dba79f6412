"""SPEC §15 in a real browser: the client never trips the idle close or the frame budget,
and resumes with nothing lost when closed for silence (4408)."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.support.browser import enter_room, send, users
from tests.support.clients import frames_before_pong, recv_until, run_async, ws_connect

# Records every close code and pong the page's sockets see, before any page script runs;
# while window.__silent is true, the page's pings are swallowed (a laptop asleep).
SOCKET_PROBE = """
window.__closes = []; window.__pongs = 0; window.__silent = false;
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener("close", (event) => window.__closes.push(event.code));
    this.addEventListener("message", (event) => {
      if (JSON.parse(event.data).type === "pong") window.__pongs += 1;
    });
  }
  send(data) {
    if (window.__silent && JSON.parse(data).type === "ping") return;
    super.send(data);
  }
};
"""


def test_an_open_tab_keeps_its_socket_through_many_presence_timeouts(
    start_server,
    live_env,
    browsing,
):
    # A 6 s timeout makes the page ping every 2.5 s: eight pongs span over three timeouts.
    server = start_server(
        {**live_env, "JABBER_PRESENCE_TIMEOUT": "6", "JABBER_PRESENCE_PRUNE_INTERVAL": "0.5"}
    )
    (ann,) = users(live_env, "ann")
    page = browsing.open(server, ann)
    page.add_init_script(SOCKET_PROBE)
    enter_room(page, "general")
    page.wait_for_function("() => window.__pongs >= 8", timeout=40_000)
    assert page.evaluate("window.__closes") == []
    send(page, "still here")


def test_a_socket_closed_for_silence_reconnects_and_loses_nothing(
    start_server,
    live_env,
    browsing,
):
    server = start_server(
        {**live_env, "JABBER_PRESENCE_TIMEOUT": "3", "JABBER_PRESENCE_PRUNE_INTERVAL": "0.5"}
    )
    ann, bob = users(live_env, "ann", "bob")
    page = browsing.open(server, ann)
    page.add_init_script(SOCKET_PROBE)
    enter_room(page, "general")
    page.evaluate("window.__silent = true")
    page.wait_for_function("() => window.__closes.includes(4408)", timeout=15_000)
    page.evaluate("window.__silent = false")

    async def bob_writes() -> None:
        async with ws_connect(server, "general", bob.session) as ws:
            await recv_until(ws, "hello")
            await ws.send(json.dumps({"type": "message", "body": "while you were away"}))
            await recv_until(ws, "message")
            await frames_before_pong(ws)

    run_async(bob_writes())
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expect(page.get_by_text("while you were away")).to_have_count(1)
