"""Private rooms across real server processes (SPEC §12, §8): a member removed through one process
has their socket on another closed with 4403; a non-member is refused on every process."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from websockets.exceptions import ConnectionClosed

from chat.tests.test_scale_out import http_request, make_users
from tests.support.clients import recv_until, run_async, ws_connect
from tests.support.services import ServerProcess, database_rows


def form_post(server: ServerProcess, session: str, path: str, fields: Mapping[str, str]) -> dict:
    """POST a room form as a logged-in browser would (CSRF token from the lobby); its JSON."""
    status, headers, page = http_request(server, "GET", "/chat/", {"sessionid": session})
    assert status == 200
    cookie = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        cookie.load(value)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token and "csrftoken" in cookie
    status, _, body = http_request(
        server,
        "POST",
        path,
        {"sessionid": session, "csrftoken": cookie["csrftoken"].value},
        body=urlencode({**fields, "csrfmiddlewaretoken": token.group(1)}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Referer": server.url + "/chat/",
        },
    )
    assert status == 200, f"POST {path}: {status} {body[-500:]}"
    return json.loads(body)


async def refused_status(server: ServerProcess, room: str, session: str) -> int:
    try:
        async with ws_connect(server, room, session):
            return 101
    except Exception as error:
        return getattr(getattr(error, "response", None), "status_code", -1)


def test_removal_through_one_process_closes_the_socket_on_another(start_server, shared_env):
    first, second = start_server(shared_env), start_server(shared_env)
    ann, bob, carol = make_users(shared_env, "ann", "bob", "carol")
    form_post(first, ann.session, "/chat/new/", {"name": "secret", "private": "on"})
    form_post(first, ann.session, "/chat/secret/members/add/", {"username": "bob"})

    async def remove() -> None:
        for server in (first, second):
            assert await refused_status(server, "secret", carol.session) == 403
        async with ws_connect(second, "secret", bob.session) as socket:
            hello = await recv_until(socket, "hello")
            assert hello["kind"] == "private"
            await asyncio.to_thread(
                form_post, first, ann.session, "/chat/secret/members/remove/", {"username": "bob"}
            )
            error = await recv_until(socket, "error", timeout=10)
            assert error["code"] == "forbidden"
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 10)
            assert socket.close_code == 4403
        for server in (first, second):
            assert await refused_status(server, "secret", bob.session) == 403

    run_async(remove())
    rooms = database_rows(shared_env, "SELECT name, kind FROM chat_room ORDER BY name")
    assert [tuple(row) for row in rooms] == [("secret", "private")]
