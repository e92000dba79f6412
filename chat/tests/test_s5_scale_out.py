"""Across real server processes sharing PostgreSQL and Redis: a delete or an edit made through
one server reaches a member's socket in another room on another server (`activity_deleted`,
`activity_edited`), and a role change reaches the member's socket in the room (`role`)."""

from __future__ import annotations

import asyncio
import json

from chat.tests.test_private_scale_out import form_post
from chat.tests.test_scale_out import make_users
from tests.support.clients import recv_until, run_async, ws_connect


def test_a_delete_through_one_process_reaches_a_member_elsewhere_on_the_other(
    start_server, shared_env
):
    first, second = start_server(shared_env), start_server(shared_env)
    ann, bob = make_users(shared_env, "ann", "bob")

    async def chat() -> None:
        # ann joins news, then watches town from the first process; bob speaks in news
        # through the second.
        async with ws_connect(first, "news", ann.session) as joining:
            await recv_until(joining, "hello")
        async with (
            ws_connect(first, "town", ann.session) as watcher,
            ws_connect(second, "news", bob.session) as speaker,
        ):
            hello = await recv_until(watcher, "hello")
            assert {room["name"] for room in hello["rooms"]} == {"news", "town"}
            await recv_until(speaker, "hello")
            await speaker.send(json.dumps({"type": "message", "body": "oops @ann"}))
            sent = await recv_until(speaker, "message")
            activity = await recv_until(watcher, "activity")
            assert activity["id"] == sent["id"]
            await speaker.send(json.dumps({"type": "delete", "id": sent["id"]}))
            deleted = await recv_until(watcher, "activity_deleted")
            assert deleted == {
                "type": "activity_deleted", "room": "news", "id": sent["id"],
                "seq": sent["seq"], "user_id": sent["user"]["id"],
                "mentions": [hello["you"]["id"]],
            }  # fmt: skip

    run_async(chat())


def test_an_edit_through_one_process_moves_a_mention_for_a_member_on_the_other(
    start_server, shared_env
):
    first, second = start_server(shared_env), start_server(shared_env)
    ann, bob = make_users(shared_env, "ann", "bob")

    async def chat() -> None:
        async with ws_connect(first, "news", ann.session) as joining:
            await recv_until(joining, "hello")
        async with (
            ws_connect(first, "town", ann.session) as watcher,
            ws_connect(second, "news", bob.session) as speaker,
        ):
            hello = await recv_until(watcher, "hello")
            await recv_until(speaker, "hello")
            await speaker.send(json.dumps({"type": "message", "body": "hello"}))
            sent = await recv_until(speaker, "message")
            await recv_until(watcher, "activity")
            await speaker.send(json.dumps({"type": "edit", "id": sent["id"], "body": "hi @ann"}))
            edited = await recv_until(watcher, "activity_edited")
            assert (edited["id"], edited["mentions"], edited["previous_mentions"]) == (
                sent["id"], [hello["you"]["id"]], [],
            )  # fmt: skip

    run_async(chat())


def test_a_role_change_through_one_process_reaches_the_members_socket_on_the_other(
    start_server, shared_env
):
    first, second = start_server(shared_env), start_server(shared_env)
    ann, bob = make_users(shared_env, "ann", "bob")
    form_post(first, ann.session, "/chat/new/", {"name": "secret", "private": "on"})
    form_post(first, ann.session, "/chat/secret/members/add/", {"username": "bob"})

    async def promote() -> None:
        async with ws_connect(second, "secret", bob.session) as socket:
            await recv_until(socket, "hello")
            path = "/chat/secret/moderators/add/"
            await asyncio.to_thread(form_post, first, ann.session, path, {"username": "bob"})
            role = await recv_until(socket, "role", timeout=10)
            assert (role["room"], role["role"], role["moderates"]) == ("secret", "moderator", True)

    run_async(promote())
