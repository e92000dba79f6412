"""Changes made elsewhere reach open sockets exactly: a role, a removal during the handshake,
mentions added or taken away by an edit, a delete while the hello is built."""

import pytest
from channels.db import database_sync_to_async

from accounts.tests.factories import UserFactory
from chat import selectors, services
from chat.models import Membership
from chat.tests.factories import MembershipFactory, RoomFactory, private_room
from tests.support.unit import open_socket

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
def carol():
    return UserFactory(username="carol")


# Roles ------------------------------------------------------------------------------


async def test_a_role_change_reaches_the_users_sockets_in_that_room_only(ann, carol, lobby):
    room = await db(private_room)(ann, carol, name="secret")
    await db(MembershipFactory)(user=carol, room=lobby)
    inside, _ = await open_socket(carol, "secret")
    elsewhere, _ = await open_socket(carol, "lobby")
    await db(services.set_room_moderator)(actor=ann, room=room, username="carol", moderator=True)
    assert await inside.receive_type("role") == {
        "type": "role", "room": "secret", "role": "moderator", "moderates": True
    }  # fmt: skip
    await db(services.set_room_moderator)(actor=ann, room=room, username="carol", moderator=False)
    demoted = await inside.receive_type("role")
    assert (demoted["role"], demoted["moderates"]) == ("member", False)
    await elsewhere.roundtrip()
    assert await elsewhere.nothing_more()
    for socket in (inside, elsewhere):
        await socket.close()


async def test_a_site_moderator_made_a_plain_member_still_moderates_the_room(ann, mod):
    room = await db(private_room)(ann, mod, name="secret")
    await db(services.set_room_moderator)(
        actor=ann, room=room, username=mod.username, moderator=True
    )
    socket, _ = await open_socket(mod, "secret")
    await db(services.set_room_moderator)(
        actor=ann, room=room, username=mod.username, moderator=False
    )
    role = await socket.receive_type("role")
    assert (role["role"], role["moderates"]) == ("member", True)
    await socket.close()


# The handshake ------------------------------------------------------------------------


async def test_a_removal_saved_between_admission_and_subscription_refuses_the_socket(
    ann, carol, monkeypatch
):
    room = await db(private_room)(ann, carol, name="secret")
    admit_many = services.admit_many

    def admit_then_remove(requests):
        outcomes = admit_many(requests)
        # Published while the socket is in no group yet: no socket can hear it.
        services.remove_member(actor=ann, room=room, username="carol")
        return outcomes

    monkeypatch.setattr(services, "admit_many", admit_then_remove)
    socket, hello = await open_socket(carol, "secret")
    assert hello is None and not socket.accepted
    assert not await db(Membership.objects.filter(user=carol, room=room).exists)()


async def test_a_removal_saved_while_the_hello_is_built_closes_the_socket(ann, carol, monkeypatch):
    room = await db(private_room)(ann, carol, name="secret")
    open_sockets = services.open_sockets

    def open_then_remove(requests):
        outcomes = open_sockets(requests)
        services.remove_member(actor=ann, room=room, username="carol")
        return outcomes

    monkeypatch.setattr(services, "open_sockets", open_then_remove)
    socket, first = await open_socket(carol, "secret")
    assert first is not None
    _, code = await socket.receive_close()
    assert code == 4403


# Mentions changed by an edit ----------------------------------------------------------


def counts(user, name: str) -> tuple[int, int]:
    (entry,) = [room for room in selectors.rooms_for(user) if room["name"] == name]
    return entry["unread"], entry["mentions"]


async def frames_until(socket, kind: str) -> list[dict]:
    """The frames a socket receives up to the first of `kind` (not included)."""
    frames = []
    while (frame := await socket.receive())["type"] != kind:
        frames.append(frame)
    return frames


async def test_an_edit_that_adds_or_drops_a_mention_reaches_the_users_other_rooms(ann, bob):
    news = await db(RoomFactory)(name="news")
    await db(services.join_rooms)({(ann.id, news.id)})
    here, _ = await open_socket(ann, "lobby")
    speaker, _ = await open_socket(bob, "news")
    await speaker.send({"type": "message", "body": "hello"})
    sent = await speaker.receive_type("message")
    assert (await here.receive_type("activity"))["mentions"] == []

    await speaker.send({"type": "edit", "id": sent["id"], "body": "hello @ann"})
    edited = await here.receive_type("activity_edited")
    assert edited == {
        "type": "activity_edited", "room": "news", "id": sent["id"], "seq": 1,
        "user_id": bob.id, "mentions": [ann.id], "previous_mentions": [],
        "edited": edited["edited"],
    }  # fmt: skip
    assert edited["edited"] is not None
    assert await db(counts)(ann, "news") == (1, 1)

    await speaker.send({"type": "edit", "id": sent["id"], "body": "hello again"})
    edited = await here.receive_type("activity_edited")
    assert (edited["mentions"], edited["previous_mentions"]) == ([], [ann.id])
    assert await db(counts)(ann, "news") == (1, 0)
    for socket in (here, speaker):
        await socket.close()


async def test_an_edit_that_keeps_the_mentions_sends_no_activity(ann, bob):
    news = await db(RoomFactory)(name="news")
    await db(services.join_rooms)({(ann.id, news.id)})
    here, _ = await open_socket(ann, "lobby")
    speaker, _ = await open_socket(bob, "news")
    await speaker.send({"type": "message", "body": "hello @ann"})
    sent = await speaker.receive_type("message")
    await here.receive_type("activity")
    await speaker.send({"type": "edit", "id": sent["id"], "body": "hi @ann"})
    await speaker.receive_type("message_edited")
    await speaker.send({"type": "message", "body": "next"})
    frames = await frames_until(here, "activity")
    assert not [frame for frame in frames if frame["type"] == "activity_edited"]
    for socket in (here, speaker):
        await socket.close()


# Changes made while the hello is built ------------------------------------------------


async def opened_while(monkeypatch, change) -> None:
    """Make `change()` happen inside the opening, once the socket is subscribed."""
    open_sockets = services.open_sockets

    def change_then_open(requests):
        change()
        return open_sockets(requests)

    monkeypatch.setattr(services, "open_sockets", change_then_open)


async def test_a_delete_during_the_hello_is_counted_once(ann, bob, monkeypatch):
    news = await db(RoomFactory)(name="news")
    await db(services.join_rooms)({(ann.id, news.id), (bob.id, news.id)})
    doomed = (await db(services.send_message)(user=bob, room=news, body="hi @ann")).message
    await db(services.send_message)(user=bob, room=news, body="stays")
    await opened_while(
        monkeypatch, lambda: services.delete_message(actor=bob, room=news, message_id=doomed.pk)
    )
    socket, hello = await open_socket(ann, "lobby")
    (entry,) = [room for room in hello["rooms"] if room["name"] == "news"]
    assert (entry["unread"], entry["mentions"]) == (1, 0)
    await socket.send({"type": "ping"})
    frames = await frames_until(socket, "pong")
    assert not [frame for frame in frames if frame["type"] == "activity_deleted"], frames
    await socket.close()


async def test_an_edit_during_the_hello_is_counted_once(ann, bob, monkeypatch):
    news = await db(RoomFactory)(name="news")
    await db(services.join_rooms)({(ann.id, news.id), (bob.id, news.id)})
    sent = (await db(services.send_message)(user=bob, room=news, body="hi")).message
    await opened_while(
        monkeypatch,
        lambda: services.edit_message(user=bob, room=news, message_id=sent.pk, body="hi @ann"),
    )
    socket, hello = await open_socket(ann, "lobby")
    (entry,) = [room for room in hello["rooms"] if room["name"] == "news"]
    assert (entry["unread"], entry["mentions"]) == (1, 1)
    await socket.send({"type": "ping"})
    frames = await frames_until(socket, "pong")
    assert not [frame for frame in frames if frame["type"] == "activity_edited"], frames
    # A later edit is news, though the same message's earlier one was counted.
    await db(services.edit_message)(user=bob, room=news, message_id=sent.pk, body="hi all")
    edited = await socket.receive_type("activity_edited")
    assert (edited["mentions"], edited["previous_mentions"]) == ([], [ann.id])
    await socket.close()
