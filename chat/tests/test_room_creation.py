"""Creating rooms from the lobby (SPEC §12): POST /chat/new/ and the lobby's private checkbox."""

import pytest
from django.test import Client

from chat import services
from chat.models import Membership, Room
from chat.tests.factories import RoomFactory, private_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(ann) -> Client:
    client = Client()
    client.force_login(ann)
    return client


def test_new_private_room_is_owned_by_its_creator(client, ann):
    response = client.post("/chat/new/", {"name": "Team", "private": "on"})
    assert response.status_code == 302 and response.headers["Location"] == "/chat/team/"
    room = Room.objects.get(name="team")
    assert room.kind == Room.Kind.PRIVATE
    assert Membership.objects.get(room=room).role == Membership.Role.OWNER


def test_new_public_room_is_like_visiting(client):
    response = client.post("/chat/new/", {"name": "open"})
    assert response.status_code == 302
    assert Room.objects.get(name="open").kind == Room.Kind.PUBLIC


def test_new_room_answers_json_when_asked(client):
    response = client.post(
        "/chat/new/", {"name": "team", "private": "1"}, headers={"accept": "application/json"}
    )
    assert response.json() == {"ok": True, "room": "team", "kind": "private"}


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "dm-1-2", "DM-x"])
def test_bad_names_get_a_form_error_and_nothing_is_created(client, name):
    response = client.post("/chat/new/", {"name": name, "private": "on"})
    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    assert not Room.objects.exists()


def test_bad_name_answers_json_bad_request(client):
    response = client.post("/chat/new/", {"name": "a b"}, headers={"accept": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


def test_a_taken_name_is_a_form_error_and_changes_nothing(client, bob):
    private_room(bob, name="secret")
    RoomFactory(name="open")
    for name, private in [("secret", "on"), ("secret", ""), ("open", "on")]:
        response = client.post("/chat/new/", {"name": name, "private": private})
        assert response.status_code == 400
        assert "taken" in str(response.context["form"].errors["name"])
    assert Room.objects.get(name="open").kind == Room.Kind.PUBLIC
    assert Membership.objects.count() == 1


def test_asking_again_for_ones_own_private_room_just_opens_it(client, ann):
    private_room(ann, name="mine")
    response = client.post("/chat/new/", {"name": "mine", "private": "on"})
    assert response.status_code == 302 and response.headers["Location"] == "/chat/mine/"


def test_new_room_needs_the_csrf_token(ann):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ann)
    response = client.post("/chat/new/", {"name": "team", "private": "on"})
    assert response.status_code == 403
    assert not Room.objects.exists()


def test_lobby_form_with_private_creates_a_private_room(client, ann):
    response = client.post("/chat/", {"room": "Hideout", "private": "on"})
    assert response.status_code == 302 and response.headers["Location"] == "/chat/hideout/"
    assert Room.objects.get(name="hideout").kind == Room.Kind.PRIVATE


def test_lobby_form_refuses_dm_names(client):
    response = client.post("/chat/", {"room": "dm-1-2"})
    assert response.status_code == 200 and response.context["form"].errors["room"]
    assert not Room.objects.exists()


def test_lobby_shows_the_private_checkbox(client):
    assert b'name="private"' in client.get("/chat/").content


def test_get_chat_new_is_the_room_called_new(client):
    assert client.get("/chat/new/").status_code == 200
    assert Room.objects.get(name="new").kind == Room.Kind.PUBLIC


def test_people_opening_a_new_room_in_one_batch_are_all_let_in(ann, bob):
    """Handshakes are admitted in batches: the room the first one creates is the others' too."""
    outcomes = services.admit_many([(ann, "fresh"), (bob, "fresh"), (ann, "fresh")])
    room = Room.objects.get(name="fresh")
    assert [getattr(outcome, "room", outcome) for outcome in outcomes] == [room] * 3
    assert all(outcome.ban is None for outcome in outcomes)
