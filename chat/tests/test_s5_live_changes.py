"""Changes made elsewhere reach open sockets exactly: a role, a removal during the handshake,
mentions added or taken away by an edit, a delete while the hello is built."""

import pytest
from channels.db import database_sync_to_async

from accounts.tests.factories import UserFactory
from chat import services
from chat.models import Membership
from chat.tests.factories import MembershipFactory, private_room
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
        "type": "role", "room": "secret", "role": "moderator"
    }  # fmt: skip
    await db(services.set_room_moderator)(actor=ann, room=room, username="carol", moderator=False)
    assert (await inside.receive_type("role"))["role"] == "member"
    await elsewhere.roundtrip()
    assert await elsewhere.nothing_more()
    for socket in (inside, elsewhere):
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
