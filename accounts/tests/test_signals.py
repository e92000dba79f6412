"""A session that ends takes its sockets with it, on every server process."""

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.tests.factories import PASSWORD
from jabber import events
from tests.support.unit import open_socket

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def logged_in_client(user) -> tuple[Client, str]:
    client = Client()
    await sync_to_async(client.force_login)(user)
    return client, client.session.session_key


async def test_logout_closes_that_sessions_sockets_only(ann):
    client, session_key = await logged_in_client(ann)
    laptop, _ = await open_socket(session_key=session_key, room="lobby")
    phone, _ = await open_socket(ann, "lobby")
    response = await sync_to_async(client.post)("/accounts/logout/")
    assert response.status_code == 302
    _, code = await laptop.receive_close()
    assert code == 4401
    assert (await phone.roundtrip())["type"] == "pong"
    reused, _ = await open_socket(session_key=session_key, room="lobby")
    assert not reused.accepted
    await phone.close()


async def test_password_change_closes_every_socket_and_old_sessions_stop_working(ann):
    client, session_key = await logged_in_client(ann)
    first, _ = await open_socket(session_key=session_key, room="lobby")
    second, _ = await open_socket(ann, "elsewhere")
    response = await sync_to_async(client.post)(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "a-new-long-password!",
            "password2": "a-new-long-password!",
        },
    )
    assert response.status_code == 302
    assert (await first.receive_close())[1] == 4401
    assert (await second.receive_close())[1] == 4401
    reused, _ = await open_socket(session_key=session_key, room="lobby")
    assert not reused.accepted


async def test_deactivating_a_user_closes_their_sockets(ann):
    socket, _ = await open_socket(ann, "lobby")
    ann.is_active = False
    await db(ann.save)()
    assert (await socket.receive_close())[1] == 4401
    again, _ = await open_socket(ann, "lobby")
    assert not again.accepted


async def test_a_socket_closes_when_its_session_expires(ann):
    _, session_key = await logged_in_client(ann)

    def expire_soon() -> None:
        from django.contrib.sessions.backends.db import SessionStore

        session = SessionStore(session_key)
        session.set_expiry(1)
        session.save()

    await db(expire_soon)()
    socket, hello = await open_socket(session_key=session_key, room="lobby")
    assert hello["type"] == "hello"
    _, code = await socket.receive_close(timeout=5)
    assert code == 4401


async def test_unrelated_user_saves_close_nothing(ann):
    socket, _ = await open_socket(ann, "lobby")
    ann.first_name = "Ann"
    await db(ann.save)()
    assert (await socket.roundtrip())["type"] == "pong"
    await socket.close()


async def test_logout_works_when_the_channel_layer_is_down(ann, monkeypatch):
    client, session_key = await logged_in_client(ann)
    socket, _ = await open_socket(session_key=session_key, room="lobby")

    async def layer_down(*events) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr("jabber.events.publish_async", layer_down)
    monkeypatch.setattr("jabber.events._publisher", events.Publisher())
    response = await sync_to_async(client.post)("/accounts/logout/")
    assert response.status_code == 302
    assert not await db(Session.objects.filter(session_key=session_key).exists)()
    # The closing event was lost; once the layer is back, the next heartbeat ends the socket.
    monkeypatch.undo()
    await socket.send({"type": "ping"})
    _, code = await socket.receive_close()
    assert code == 4401
