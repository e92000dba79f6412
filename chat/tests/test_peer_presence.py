"""SPEC §12: whoever shares a direct room with a user hears live when that user comes online
(a first socket anywhere) or goes offline (the last one closes or is pruned)."""

import pytest
from channels.db import database_sync_to_async

from accounts.tests.factories import UserFactory
from chat import services
from chat.tests.test_scale_out import http_request, make_users
from presence import services as presence
from tests.support.clients import recv_until, run_async, ws_connect
from tests.support.unit import open_socket

in_process = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
def carol():
    return UserFactory(username="carol")


@pytest.fixture
def dave():
    return UserFactory(username="dave")


def peer(user, online: bool) -> dict:
    return {"type": "peer_presence", "user_id": user.id, "online": online}


@in_process
async def test_a_peer_coming_online_and_going_offline_reaches_the_other_in_any_room(
    ann, bob, lobby
):
    await db(services.open_direct)(ann, "bob")
    watcher, _ = await open_socket(ann, "lobby")
    first, _ = await open_socket(bob, "lobby")
    assert await watcher.receive_type("peer_presence") == peer(bob, True)
    second, _ = await open_socket(bob, "lobby")
    await first.close()
    await second.close()
    # Next after the true comes the false: the second socket and the first close sent nothing.
    assert await watcher.receive_type("peer_presence") == peer(bob, False)
    await watcher.close()


@in_process
async def test_a_peer_going_online_is_heard_on_every_socket_of_the_other(ann, bob, lobby):
    room = await db(services.open_direct)(ann, "bob")
    in_lobby, _ = await open_socket(ann, "lobby")
    in_direct, _ = await open_socket(ann, room.name)
    socket, _ = await open_socket(bob, room.name)
    for watcher in (in_lobby, in_direct):
        assert await watcher.receive_type("peer_presence") == peer(bob, True)
    for each in (socket, in_lobby, in_direct):
        await each.close()


@in_process
async def test_users_without_a_direct_room_together_hear_nothing(ann, bob, carol, dave, lobby):
    await db(services.open_direct)(ann, "bob")
    await db(services.open_direct)(carol, "dave")
    watcher, _ = await open_socket(carol, "lobby")
    socket, _ = await open_socket(bob, "lobby")
    await socket.close()
    # Dave's frame comes after anything bob's socket could have caused: it is the first.
    sentinel, _ = await open_socket(dave, "lobby")
    assert await watcher.receive_type("peer_presence") == peer(dave, True)
    for each in (sentinel, watcher):
        await each.close()


@in_process
async def test_a_user_without_direct_rooms_causes_no_frames(ann, bob, carol, lobby):
    await db(services.open_direct)(ann, "bob")
    watcher, _ = await open_socket(ann, "lobby")
    socket, _ = await open_socket(carol, "lobby")
    await socket.close()
    sentinel, _ = await open_socket(bob, "lobby")
    assert await watcher.receive_type("peer_presence") == peer(bob, True)
    for each in (sentinel, watcher):
        await each.close()


@in_process
async def test_a_pruned_last_socket_tells_the_peer_offline_and_its_return_online(
    ann, bob, lobby, fake_clock, settings
):
    settings.JABBER_PRESENCE_TIMEOUT = 60
    await db(services.open_direct)(ann, "bob")
    watcher, _ = await open_socket(ann, "lobby")
    silent, _ = await open_socket(bob, "lobby")
    assert await watcher.receive_type("peer_presence") == peer(bob, True)
    fake_clock.advance(61)
    await watcher.roundtrip()  # ann's heartbeat keeps her
    # Imported here: chat.transport reads at import time which server errors mean "peer gone".
    from chat.realtime.runtime import get_runtime

    await presence.prune_and_notify(on_gone=get_runtime().tell_peers_offline)
    assert await watcher.receive_type("peer_presence") == peer(bob, False)
    # Bob's socket comes back to life (a laptop waking up): he is online again.
    fake_clock.advance(25)
    await silent.roundtrip()
    assert await watcher.receive_type("peer_presence") == peer(bob, True)
    for each in (silent, watcher):
        await each.close()


@in_process
def test_direct_peers_are_read_in_one_query(ann, bob, carol, django_assert_num_queries):
    services.open_direct(ann, "bob")
    services.open_direct(carol, "bob")
    with django_assert_num_queries(1):
        found = services.direct_peers({ann.pk, bob.pk, carol.pk})
    assert found == {ann.pk: {bob.pk}, bob.pk: {ann.pk, carol.pk}, carol.pk: {bob.pk}}


@in_process
def test_peer_presence_costs_one_query_for_a_user_without_direct_rooms(
    ann, django_assert_num_queries
):
    with django_assert_num_queries(1):
        assert services.peer_presence_events(online={ann.pk}) == []
    with django_assert_num_queries(0):
        assert services.peer_presence_events() == []


@in_process
def test_leave_says_when_the_users_last_socket_anywhere_closed(ann, lobby):
    other = services.create_room(ann, "other")
    presence.join_many_counted([("a", ann.pk, lobby.pk, ""), ("b", ann.pk, other.pk, "")])
    assert presence.leave("a").gone is False
    assert presence.leave("b").gone is True


@in_process
def test_join_says_who_came_online(ann, bob, lobby):
    presence.join_many_counted([("a", ann.pk, lobby.pk, "")])
    _, came_online = presence.join_many_counted(
        [("b", ann.pk, lobby.pk, ""), ("c", bob.pk, lobby.pk, ""), ("d", bob.pk, lobby.pk, "")]
    )
    assert came_online == {bob.pk}


# Across real server processes sharing PostgreSQL and Redis ------------------------------


def test_a_peer_on_one_process_is_heard_coming_and_going_on_the_other(start_server, shared_env):
    first, second = start_server(shared_env), start_server(shared_env)
    ann, bob = make_users(shared_env, "ann", "bob")
    status, _, _ = http_request(first, "GET", f"/chat/@{bob.username}/", {"sessionid": ann.session})
    assert status == 302

    async def chat() -> None:
        async with ws_connect(first, "news", ann.session) as watcher:
            await recv_until(watcher, "hello")
            async with ws_connect(second, "town", bob.session) as socket:
                await recv_until(socket, "hello")
                frame = await recv_until(watcher, "peer_presence")
                assert frame == {"type": "peer_presence", "user_id": bob.user_id, "online": True}
            frame = await recv_until(watcher, "peer_presence")
            assert frame == {"type": "peer_presence", "user_id": bob.user_id, "online": False}

    run_async(chat())


@in_process
async def test_a_direct_room_opened_while_connected_makes_the_going_offline_heard(ann, bob, lobby):
    """A socket opened with no direct room skips the peers' look-up when it closes, unless
    one arrived meanwhile."""
    socket, _ = await open_socket(ann, "lobby")
    watcher, _ = await open_socket(bob, "lobby")
    await db(services.open_direct)(bob, "ann")
    # Both the room's activity and the membership reach ann's socket through the hub.
    await watcher.send({"type": "ping"})
    await watcher.receive_type("pong")
    await socket.send({"type": "ping"})
    await socket.receive_type("pong")
    await socket.close()
    assert await watcher.receive_type("peer_presence") == peer(ann, False)
    await watcher.close()


@in_process
async def test_a_direct_message_opened_while_connected_reaches_the_sidebar(ann, bob, lobby):
    """Whoever opens a conversation with you: its first message reaches your open sockets
    as `activity`, as for every room you belong to (SPEC §9)."""
    socket, _ = await open_socket(ann, "lobby")
    room = await db(services.open_direct)(bob, "ann")
    await socket.send({"type": "ping"})
    await socket.receive_type("pong")
    await db(services.send_message)(user=bob, room=room, body="hi ann")
    activity = await socket.receive_type("activity")
    assert (activity["room"], activity["user_id"]) == (room.name, bob.id)
    await socket.close()
