"""SPEC §9 across processes: read positions and activity reach a user's sockets on every
server process sharing one database and one Redis."""

from __future__ import annotations

import json

from chat.tests.test_scale_out import make_users
from tests.support.clients import recv_until, run_async, ws_connect


def test_activity_and_read_positions_reach_the_users_sockets_on_the_other_process(
    start_server, shared_env
):
    first, second = start_server(shared_env), start_server(shared_env)
    ann, bob = make_users(shared_env, "ann", "bob")

    async def chat() -> None:
        # ann joins news on the first process, then watches town from the second.
        async with ws_connect(first, "news", ann.session) as joining:
            await recv_until(joining, "hello")
        async with (
            ws_connect(second, "town", ann.session) as watcher,
            ws_connect(first, "news", bob.session) as speaker,
            ws_connect(first, "news", ann.session) as reader,
        ):
            hello = await recv_until(watcher, "hello")
            assert {room["name"] for room in hello["rooms"]} == {"news", "town"}
            for socket in (speaker, reader):
                await recv_until(socket, "hello")
            await speaker.send(json.dumps({"type": "message", "body": "hi @ann"}))
            activity = await recv_until(watcher, "activity")
            assert (activity["room"], activity["seq"], activity["mentions"]) == (
                "news", 1, [hello["you"]["id"]],
            )  # fmt: skip
            await recv_until(reader, "message")
            await reader.send(json.dumps({"type": "read", "seq": 1}))
            read = await recv_until(watcher, "read")
            assert read == {"type": "read", "room": "news", "seq": 1, "unread": 0,
                            "mentions": 0, "last_seq": 1}  # fmt: skip

    run_async(chat())
