import pytest

from accounts.tests.factories import UserFactory
from jabber.testing.unit import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def test_two_users_chat():
    from channels.db import database_sync_to_async

    ann = await database_sync_to_async(UserFactory)(username="ann")
    bob = await database_sync_to_async(UserFactory)(username="bob")
    a, hello = await open_socket(ann, "lobby")
    assert hello["type"] == "hello"
    b, hello_b = await open_socket(bob, "lobby")
    await a.send({"type": "message", "body": "hi bob", "client_id": "c-1"})
    frame = await b.receive_type("message")
    assert frame["body"] == "hi bob"
    frame = await a.receive_type("message")
    assert frame["seq"] == 1
    await a.close()
    await b.close()
