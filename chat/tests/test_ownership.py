"""Handing a room over and leaving it (SPEC §9, §12): a room always keeps someone to run it, a
direct conversation keeps its two people, and every refusal says why and changes nothing."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.admin.models import LogEntry
from django.test import Client

from accounts.tests.factories import UserFactory
from chat import services
from chat.models import Membership, Room
from chat.services import ChatError
from chat.tests.factories import MembershipFactory, RoomFactory, private_room
from tests.support.unit import open_socket

db = database_sync_to_async
JSON = {"accept": "application/json"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(user, path: str, data: dict | None = None):
    return client_for(user).post(path, data or {}, headers=JSON)


@pytest.fixture
def carol():
    return UserFactory(username="carol")


@pytest.fixture
def secret(ann, bob, carol):
    """ann owns it; bob is a room moderator; carol a member."""
    room = private_room(ann, carol, name="secret")
    MembershipFactory(user=bob, room=room, role=Membership.Role.MODERATOR)
    return room


def roles(room: Room) -> dict[str, str]:
    return dict(room.memberships.values_list("user__username", "role"))


# Handing a room over ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_owner_hands_the_room_to_a_member_and_stays_a_room_moderator(ann, secret):
    response = post(ann, "/chat/secret/owner/", {"username": "carol"})
    assert response.status_code == 200
    assert response.json()["detail"] == "carol now owns this room; you are a room moderator."
    assert roles(secret) == {"ann": "moderator", "bob": "moderator", "carol": "owner"}
    assert LogEntry.objects.filter(user=ann, change_message="Made carol the owner.").exists()
    # The new owner runs the room; the old one no longer can hand it over.
    assert post(ann, "/chat/secret/owner/", {"username": "bob"}).status_code == 403
    assert post(UserFactory(), "/chat/secret/owner/").status_code == 404  # a stranger


@pytest.mark.django_db
def test_the_moderators_group_hands_over_a_room_it_can_see(mod, ann, carol):
    room = private_room(ann, carol, mod, name="secret")
    assert post(mod, "/chat/secret/owner/", {"username": "carol"}).status_code == 200
    assert roles(room) == {"ann": "moderator", "carol": "owner", "mod": "member"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "username", "status", "detail"),
    [
        ("bob", "carol", 403, "Only the room's owner can do that."),
        ("carol", "carol", 403, "Only the room's owner can do that."),
        ("ann", "nobody", 400, "There is no user called 'nobody'."),
        ("ann", "", 400, "There is no user called ''."),
        ("ann", "stranger", 400, "stranger is not a member."),
        ("ann", "ann", 400, "ann is already the owner."),
        ("ann", "x" * 5000, 400, f"There is no user called {'x' * 150!r}."),
        ("stranger", "carol", 404, "No such room."),
    ],
)
def test_bad_handovers_are_explained_and_change_nothing(
    ann, bob, carol, secret, who, username, status, detail
):
    stranger = UserFactory(username="stranger")
    actor = {"ann": ann, "bob": bob, "carol": carol, "stranger": stranger}[who]
    response = post(actor, "/chat/secret/owner/", {"username": username})
    assert response.status_code == status
    assert response.json()["error"]["detail"] == detail
    assert roles(secret) == {"ann": "owner", "bob": "moderator", "carol": "member"}


@pytest.mark.django_db
def test_a_handover_needs_a_csrf_token_and_a_post(ann, secret):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ann)
    assert client.post("/chat/secret/owner/", {"username": "carol"}).status_code == 403
    assert client.get("/chat/secret/owner/").status_code == 405
    assert roles(secret)["carol"] == "member"


@pytest.mark.django_db
def test_a_direct_conversation_has_no_owner_to_hand_over(ann, bob):
    room = services.open_direct(ann, "bob")
    response = post(ann, f"/chat/{room.name}/owner/", {"username": "bob"})
    assert response.status_code in (400, 403)
    assert set(roles(room).values()) == {"member"}


@pytest.mark.django_db(transaction=True)
async def test_both_sides_of_a_handover_hear_their_new_role(ann, carol, secret):
    owner, _ = await open_socket(ann, "secret")
    member, _ = await open_socket(carol, "secret")
    await db(services.transfer_ownership)(actor=ann, room=secret, username="carol")
    assert await member.receive_type("role") == {
        "type": "role", "room": "secret", "role": "owner", "moderates": True
    }  # fmt: skip
    assert await owner.receive_type("role") == {
        "type": "role", "room": "secret", "role": "moderator", "moderates": True
    }  # fmt: skip
    for socket in (owner, member):
        await socket.close()


@pytest.mark.django_db
def test_the_owners_panel_offers_the_handover(ann, bob, secret):
    assert b'data-testid="transfer-ownership"' in client_for(ann).get("/chat/secret/").content
    assert b'data-testid="transfer-ownership"' not in client_for(bob).get("/chat/secret/").content


# Leaving --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_leaves_a_private_room_and_cannot_come_back_uninvited(carol, secret):
    response = post(carol, "/chat/secret/leave/")
    assert response.json() == {"ok": True, "detail": "You left #secret."}
    assert "carol" not in roles(secret)
    assert client_for(carol).get("/chat/secret/").status_code == 404
    assert post(carol, "/chat/secret/leave/").status_code == 404


@pytest.mark.django_db
def test_the_owner_cannot_leave_others_behind_and_is_told_why(ann, secret):
    response = post(ann, "/chat/secret/leave/")
    assert response.status_code == 400
    assert response.json()["error"]["detail"] == (
        "You own this room: make another member its owner before leaving."
    )
    assert roles(secret)["ann"] == "owner"
    # As a form: back to the room, the reason shown there.
    page = client_for(ann).post("/chat/secret/leave/", follow=True)
    assert page.redirect_chain == [("/chat/secret/", 302)]
    assert b"make another member its owner before leaving" in page.content
    # Handed over, the former owner leaves freely; the last member too.
    post(ann, "/chat/secret/owner/", {"username": "bob"})
    assert post(ann, "/chat/secret/leave/").status_code == 200
    assert post(UserFactory(), "/chat/secret/leave/").status_code == 404


@pytest.mark.django_db
def test_an_owner_alone_in_the_room_may_leave_it(ann):
    room = services.new_room(ann, "solo", private=True)
    assert post(ann, "/chat/solo/leave/").status_code == 200
    assert not room.memberships.exists()


@pytest.mark.django_db
def test_a_direct_conversation_cannot_be_left(ann, bob):
    room = services.open_direct(ann, "bob")
    response = post(ann, f"/chat/{room.name}/leave/")
    assert response.status_code == 400
    assert response.json()["error"]["detail"] == "A direct conversation cannot be left."
    assert set(roles(room)) == {"ann", "bob"}
    with pytest.raises(ChatError):
        services.leave_room(bob, room)


@pytest.mark.django_db
def test_leaving_a_public_room_goes_to_the_lobby_and_opening_it_rejoins(ann):
    RoomFactory(name="news")
    client = client_for(ann)
    client.get("/chat/news/")
    page = client.post("/chat/news/leave/", follow=True)
    assert page.redirect_chain == [("/chat/", 302)]
    assert b"You left #news." in page.content
    assert not Membership.objects.filter(user=ann, room__name="news").exists()
    client.get("/chat/news/")
    assert Membership.objects.filter(user=ann, room__name="news").exists()


@pytest.mark.django_db
def test_the_room_page_offers_leave_except_in_a_direct_conversation(ann, bob):
    RoomFactory(name="news")
    client = client_for(ann)
    assert b'data-testid="leave-room"' in client.get("/chat/news/").content
    room = services.open_direct(ann, "bob")
    assert b'data-testid="leave-room"' not in client.get(f"/chat/{room.name}/").content
