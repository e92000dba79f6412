"""A direct room is listed under the other person's name and presence (SPEC §12)."""

import pytest
from django.test import Client

from chat import selectors, services
from presence.tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def listed(user) -> dict[str, dict]:
    client = Client()
    client.force_login(user)
    return {entry["name"]: entry for entry in client.get("/api/rooms/").json()["rooms"]}


def test_each_of_the_two_sees_the_other_ones_name_and_presence(ann, bob):
    room = services.open_direct(ann, "bob")
    ConnectionFactory(user=bob, room_id=room.pk)
    for_ann, for_bob = listed(ann)[room.name], listed(bob)[room.name]
    assert for_ann["title"] == "bob" and for_bob["title"] == "ann"
    assert for_ann["peer"] == {"id": bob.id, "username": "bob", "online": True}
    assert for_bob["peer"] == {"id": ann.id, "username": "ann", "online": False}


def test_a_public_room_gets_no_peer(ann, lobby):
    services.join_rooms({(ann.id, lobby.id)})
    assert "peer" not in listed(ann)[lobby.name]


def test_one_rooms_entry_names_the_direct_room_too(ann, bob):
    room = services.open_direct(ann, "bob")
    assert selectors.room_entry(ann.id, room.id)["title"] == "bob"
