"""`GET /chat/<room>/members.json`: the room's members for `@` completion, only to its readers."""

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from chat.tests.factories import BanFactory, MembershipFactory, RoomFactory, private_room

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_member_gets_the_active_members_by_username(ann, bob):
    room = RoomFactory(name="garden")
    for user in (bob, ann, UserFactory(username="gone", is_active=False)):
        MembershipFactory(user=user, room=room)
    response = logged_in(ann).get("/chat/garden/members.json")
    assert response.status_code == 200
    assert response.json() == {
        "members": [{"id": ann.id, "username": "ann"}, {"id": bob.id, "username": "bob"}]
    }


def test_anyone_anonymous_gets_403_json_not_a_login_page(lobby):
    response = Client().get(f"/chat/{lobby.name}/members.json")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_a_private_room_is_404_to_a_non_member_like_a_missing_room(ann, bob):
    private_room(bob, name="hideout")
    hidden = logged_in(ann).get("/chat/hideout/members.json")
    missing = logged_in(ann).get("/chat/nowhere/members.json")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_a_banned_user_gets_404_and_no_names(ann, bob):
    room = RoomFactory(name="garden")
    MembershipFactory(user=bob, room=room)
    BanFactory(user=ann, room=room)
    response = logged_in(ann).get("/chat/garden/members.json")
    assert response.status_code == 404
    assert "bob" not in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/chat/GARDEN/members.json",
        "/chat/garden/members.json/",
        "/chat/..%2Fgarden/members.json",
        "/chat/garden%00/members.json",
        "/chat/" + "a" * 500 + "/members.json",
    ],
)
def test_hostile_paths_list_no_one(ann, bob, path):
    room = RoomFactory(name="garden")
    MembershipFactory(user=bob, room=room)
    response = logged_in(ann).get(path)
    assert response.status_code in (301, 302, 404)
    assert "bob" not in response.content.decode()


def test_only_get_is_answered(ann, lobby):
    assert logged_in(ann).post(f"/chat/{lobby.name}/members.json").status_code == 405
