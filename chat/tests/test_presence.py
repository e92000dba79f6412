"""Presence and typing as sockets see them (docs/protocol.md#presence-and-typing)."""

import pytest
from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from django.core.management import call_command

from accounts.tests.factories import UserFactory
from presence import services as presence
from presence.models import Connection
from tests.support.unit import open_socket

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def users(*names):
    return [{"id": user.id, "username": user.username} for user in names]


async def test_join_and_leave_send_presence_to_the_room(ann, bob):
    a, hello = await open_socket(ann, "lobby")
    assert hello["online"] == users(ann)
    assert (await a.receive_type("presence"))["online"] == users(ann)
    b, hello = await open_socket(bob, "lobby")
    assert hello["online"] == users(ann, bob)
    assert (await a.receive_type("presence"))["online"] == users(ann, bob)
    await b.close()
    assert (await a.receive_type("presence"))["online"] == users(ann)
    await a.close()
    assert not await db(Connection.objects.exists)()


async def test_online_list_is_sorted_by_username(ann, bob):
    zed = await db(UserFactory)(username="zed")
    z, _ = await open_socket(zed, "lobby")
    b, _ = await open_socket(bob, "lobby")
    a, hello = await open_socket(ann, "lobby")
    assert [user["username"] for user in hello["online"]] == ["ann", "bob", "zed"]
    for socket in (a, b, z):
        await socket.close()


async def test_two_tabs_count_once_and_closing_one_changes_nothing(ann, bob):
    b, _ = await open_socket(bob, "lobby")
    await b.receive_type("presence")
    tab1, _ = await open_socket(ann, "lobby")
    assert (await b.receive_type("presence"))["online"] == users(ann, bob)
    tab2, hello = await open_socket(ann, "lobby")
    assert hello["online"] == users(ann, bob)
    await tab1.close()
    await b.roundtrip()
    assert await b.nothing_more()
    await tab2.close()
    assert (await b.receive_type("presence"))["online"] == users(bob)
    await b.close()


async def test_typing_is_relayed_to_others_but_not_to_self(ann, bob):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    await a.send({"type": "typing"})
    assert await b.receive_type("typing") == {
        "type": "typing",
        "user": {"id": ann.id, "username": "ann"},
    }
    await a.roundtrip()
    frames = []
    while not await a.nothing_more(0.1):
        frames.append(await a.receive())
    assert all(frame["type"] != "typing" for frame in frames)
    await a.close()
    await b.close()


async def test_typing_is_relayed_at_most_once_per_interval(ann, bob, fake_clock):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    await a.send({"type": "typing"})
    await b.receive_type("typing")
    await a.send({"type": "typing"})
    fake_clock.advance(1.9)
    await a.send({"type": "typing"})
    await a.roundtrip()
    await b.roundtrip()
    assert all(f["type"] != "typing" for f in await drain(b))
    fake_clock.advance(0.2)
    await a.send({"type": "typing"})
    await b.receive_type("typing")
    await a.close()
    await b.close()


async def drain(socket) -> list[dict]:
    frames = []
    while not await socket.nothing_more(0.1):
        frames.append(await socket.receive())
    return frames


async def test_a_silent_socket_is_pruned_and_the_room_told(ann, bob, fake_clock, settings):
    settings.JABBER_PRESENCE_TIMEOUT = 60
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    await a.receive_type("presence")
    await a.receive_type("presence")
    fake_clock.advance(61)
    # Ann's heartbeat refreshes her; the periodic prune then drops Bob, who has been silent.
    await a.roundtrip()
    await presence.prune_and_notify()
    assert (await a.receive_type("presence"))["online"] == users(ann)
    assert await db(Connection.objects.filter(user=bob).exists)() is False
    # Bob's socket comes back to life (a laptop waking up): he is online again.
    fake_clock.advance(25)
    await b.roundtrip()
    assert (await a.receive_type("presence"))["online"] == users(ann, bob)
    await a.close()
    await b.close()


async def test_pings_do_not_write_presence_more_than_once_per_interval(ann, fake_clock):
    a, _ = await open_socket(ann, "lobby")
    seen = await db(Connection.objects.values_list("last_seen", flat=True).get)()
    fake_clock.advance(5)
    await a.roundtrip()
    assert await db(Connection.objects.values_list("last_seen", flat=True).get)() == seen
    fake_clock.advance(20)
    await a.roundtrip()
    assert await db(Connection.objects.values_list("last_seen", flat=True).get)() > seen
    await a.close()


async def test_prune_presence_command_tells_live_rooms(ann, bob, fake_clock):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    await a.receive_type("presence")
    await a.receive_type("presence")
    await db(Connection.objects.filter(user=bob).update)(last_seen="2000-01-01T00:00:00Z")
    await db(call_command)("prune_presence")
    assert (await a.receive_type("presence"))["online"] == users(ann)
    await a.close()
    await b.close()


class LeavingClient:
    """The whole application, under a server whose sends raise once `gone` is set."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.gone = False

    async def __call__(self, scope, receive, send) -> None:
        from jabber.asgi import application

        async def send_unless_gone(message: dict) -> None:
            if self.gone:
                raise self.error
            await send(message)

        await application(scope, receive, send_unless_gone)


async def ann_leaves_while_a_ping_is_answered(ann, bob, error: Exception):
    """bob watches ann's tab answer a ping after she left; returns her socket and bob's."""
    b, _ = await open_socket(bob, "lobby")
    client = LeavingClient(error)
    a, _ = await open_socket(ann, "lobby", application=client)
    await b.receive_type("presence", online=users(ann, bob))
    client.gone = True
    await a.send({"type": "ping"})
    await a.communicator.send_input({"type": "websocket.disconnect", "code": 1001})
    return a, b


# What servers raise for a send to a client that has left: uvicorn's ClientDisconnected
# is an OSError, daphne raises autobahn's Disconnected during the close handshake.
@pytest.mark.parametrize("error", [OSError("client disconnected"), Disconnected("closed protocol")])
async def test_a_tab_that_leaves_before_its_pong_goes_offline(ann, bob, error):
    a, b = await ann_leaves_while_a_ping_is_answered(ann, bob, error)
    await b.receive_type("presence", online=users(bob))
    await a.communicator.wait(timeout=3)  # ended by its disconnect, without an error
    assert not await db(Connection.objects.filter(user=ann).exists)()
    await b.close()


async def test_a_socket_that_fails_still_leaves_the_room(ann, bob):
    a, b = await ann_leaves_while_a_ping_is_answered(ann, bob, RuntimeError("a bug"))
    with pytest.raises(RuntimeError, match="a bug"):
        await a.communicator.wait(timeout=3)
    await b.receive_type("presence", online=users(bob))
    assert not await db(Connection.objects.filter(user=ann).exists)()
    await b.close()


async def test_a_tab_that_leaves_during_the_handshake_is_not_left_online(ann, bob):
    b, _ = await open_socket(bob, "lobby")
    client = LeavingClient(OSError("client disconnected"))
    client.gone = True  # gone before the accept: ann's presence row is already written
    with pytest.raises(OSError):
        await open_socket(ann, "lobby", application=client)
    assert not await db(Connection.objects.filter(user=ann).exists)()
    again, hello = await open_socket(bob, "lobby")
    assert hello["online"] == users(bob)
    for socket in (b, again):
        await socket.close()
