"""Room moderators (SPEC §12): named by the owner, moderating their room only, through the admin's
services and into the admin log."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.admin.models import LogEntry
from django.test import Client

from accounts.tests.factories import UserFactory
from chat.models import Ban, Membership, Message, Mute, Room
from chat.tests.factories import MembershipFactory, MessageFactory, RoomFactory, private_room
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


def role(room: Room, user) -> str | None:
    return Membership.objects.filter(room=room, user=user).values_list("role", flat=True).first()


# Naming room moderators ------------------------------------------------------------


@pytest.mark.django_db
def test_the_owner_names_and_unnames_a_room_moderator(ann, carol, secret):
    assert post(ann, "/chat/secret/moderators/add/", {"username": "carol"}).status_code == 200
    assert role(secret, carol) == "moderator"
    assert post(ann, "/chat/secret/moderators/remove/", {"username": "carol"}).status_code == 200
    assert role(secret, carol) == "member"
    assert LogEntry.objects.filter(user=ann, object_id=str(secret.pk)).count() == 2


@pytest.mark.django_db
def test_a_room_moderator_cannot_name_moderators(bob, carol, secret):
    response = post(bob, "/chat/secret/moderators/add/", {"username": "carol"})
    assert response.status_code == 403
    assert role(secret, carol) == "member"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "username", "detail"),
    [
        ("add", "nobody", "There is no user called 'nobody'."),
        ("add", "stranger", "stranger is not a member."),
        ("add", "bob", "bob is already a room moderator."),
        ("remove", "carol", "carol is not a room moderator."),
        ("add", "ann", "The owner's role cannot change."),
    ],
)
def test_naming_moderators_explains_bad_input(ann, secret, path, username, detail):
    UserFactory(username="stranger")
    response = post(ann, f"/chat/secret/moderators/{path}/", {"username": username})
    assert response.status_code == 400 and response.json()["error"]["detail"] == detail
    assert dict(secret.memberships.values_list("user__username", "role")) == {
        "ann": "owner",
        "bob": "moderator",
        "carol": "member",
    }


# Moderating ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "check"),
    [
        ({"action": "lock"}, lambda room: room.locked),
        ({"action": "slow_mode", "seconds": "30"}, lambda room: room.slow_mode_seconds == 30),
        ({"action": "title", "value": "Plans"}, lambda room: room.title == "Plans"),
        ({"action": "topic", "value": "  what next  "}, lambda room: room.topic == "what next"),
    ],
)
def test_a_room_moderator_changes_the_room_and_it_is_logged(bob, secret, data, check):
    response = post(bob, "/chat/secret/moderate/", data)
    assert response.status_code == 200, response.content
    secret.refresh_from_db()
    assert check(secret)
    entry = LogEntry.objects.get(user=bob, object_id=str(secret.pk))
    assert entry.get_change_message() == response.json()["detail"]


@pytest.mark.django_db
def test_unlock_and_slow_mode_off(bob, secret):
    Room.objects.filter(pk=secret.pk).update(locked=True, slow_mode_seconds=10)
    post(bob, "/chat/secret/moderate/", {"action": "unlock"})
    post(bob, "/chat/secret/moderate/", {"action": "slow_mode", "seconds": "0"})
    secret.refresh_from_db()
    assert not secret.locked and secret.slow_mode_seconds == 0


@pytest.mark.django_db
def test_mute_with_minutes_and_unmute(bob, carol, secret):
    response = post(
        bob, "/chat/secret/moderate/", {"action": "mute", "username": "carol", "minutes": "10"}
    )
    assert response.json()["detail"] == "Muted carol for 10 minutes."
    mute = Mute.objects.get(user=carol)
    assert mute.room == secret and mute.expires is not None and mute.created_by == bob
    post(bob, "/chat/secret/moderate/", {"action": "unmute", "username": "carol"})
    assert not Mute.objects.exists()


@pytest.mark.django_db
def test_a_ban_without_minutes_does_not_expire_and_unban_lifts_it(bob, carol, secret):
    post(bob, "/chat/secret/moderate/", {"action": "ban", "username": "carol", "minutes": ""})
    ban = Ban.objects.get(user=carol)
    assert ban.room == secret and ban.expires is None
    assert client_for(carol).get("/chat/secret/").status_code == 403
    post(bob, "/chat/secret/moderate/", {"action": "unban", "username": "carol"})
    assert client_for(carol).get("/chat/secret/").status_code == 200


@pytest.mark.django_db
def test_room_moderators_cannot_lift_site_wide_restrictions(bob, carol, secret):
    Ban.objects.create(user=carol, room=None)
    response = post(bob, "/chat/secret/moderate/", {"action": "unban", "username": "carol"})
    assert response.status_code == 400
    assert Ban.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"action": "explode"}, 400),
        ({}, 400),
        ({"action": "mute", "username": "carol", "minutes": "-5"}, 400),
        ({"action": "mute", "username": "carol", "minutes": "0"}, 400),
        ({"action": "mute", "username": "carol", "minutes": "1e9"}, 400),
        ({"action": "mute", "username": "carol", "minutes": "\uff19"}, 400),
        ({"action": "mute", "username": "nobody"}, 400),
        ({"action": "mute", "username": "ann"}, 403),
        ({"action": "ban", "username": "bob"}, 403),
        ({"action": "unmute", "username": "carol"}, 400),
        ({"action": "slow_mode", "seconds": "x"}, 400),
        ({"action": "slow_mode", "seconds": "86401"}, 400),
        ({"action": "title", "value": "x" * 121}, 400),
        ({"action": "topic", "value": "x" * 501}, 400),
    ],
)
def test_bad_moderation_input_is_explained_and_changes_nothing(bob, secret, data, status):
    response = post(bob, "/chat/secret/moderate/", data)
    assert response.status_code == status
    assert response.json()["error"]["detail"]
    assert not Mute.objects.exists() and not Ban.objects.exists()
    secret.refresh_from_db()
    assert (secret.title, secret.topic, secret.slow_mode_seconds) == ("", "", 0)
    assert not LogEntry.objects.exists()


@pytest.mark.django_db
def test_a_plain_member_cannot_moderate(carol, secret):
    assert post(carol, "/chat/secret/moderate/", {"action": "lock"}).status_code == 403
    secret.refresh_from_db()
    assert not secret.locked


@pytest.mark.django_db
def test_a_room_moderators_powers_end_at_their_room(bob, carol):
    RoomFactory(name="elsewhere")
    MembershipFactory(user=bob, room=RoomFactory(name="mine"), role=Membership.Role.OWNER)
    response = post(bob, "/chat/elsewhere/moderate/", {"action": "ban", "username": "carol"})
    assert response.status_code == 403
    assert not Ban.objects.exists()


@pytest.mark.django_db
def test_staff_outside_the_moderators_group_cannot_moderate_a_room_they_do_not_run(carol):
    RoomFactory(name="open")
    staff = UserFactory(username="staff", is_staff=True)
    response = post(staff, "/chat/open/moderate/", {"action": "mute", "username": "carol"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_moderators_group_moderates_every_room_it_can_see(mod, carol):
    RoomFactory(name="open")
    response = post(mod, "/chat/open/moderate/", {"action": "mute", "username": "carol"})
    assert response.status_code == 200
    assert Mute.objects.get(user=carol).room.name == "open"


@pytest.mark.django_db
def test_the_form_without_json_redirects_back_with_the_outcome(bob, secret):
    response = client_for(bob).post("/chat/secret/moderate/", {"action": "lock"}, follow=True)
    assert response.redirect_chain == [("/chat/secret/", 302)]
    assert b"Locked the room." in response.content


@pytest.mark.django_db
def test_the_room_page_shows_the_panel_to_moderators_only(ann, bob, carol, secret):
    assert client_for(carol).get("/chat/secret/").context["room_admin"] is None
    page = client_for(bob).get("/chat/secret/")
    assert page.context["room_admin"]["is_owner"] is False
    assert page.context["config"]["isModerator"] is True
    html = page.content.decode()
    assert 'data-testid="room-admin"' in html and 'data-testid="add-moderator"' not in html
    owner_page = client_for(ann).get("/chat/secret/").content.decode()
    assert 'data-testid="add-moderator"' in owner_page


# Deleting any message in their room ------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_room_moderator_deletes_any_message_in_their_room_only(ann, bob, carol, secret):
    inside = await db(MessageFactory)(room=secret, user=carol)
    other_room = await db(RoomFactory)(name="elsewhere")
    outside = await db(MessageFactory)(room=other_room, user=carol)
    socket, _ = await open_socket(bob, "secret")
    await socket.send({"type": "delete", "id": inside.id})
    assert (await socket.receive_type("message_deleted"))["id"] == inside.id
    elsewhere, _ = await open_socket(bob, "elsewhere")
    await elsewhere.send({"type": "delete", "id": outside.id})
    assert (await elsewhere.receive_type("error"))["code"] == "forbidden"
    assert await db(Message.objects.filter(pk=outside.pk, deleted__isnull=True).exists)()
    await socket.close()
    await elsewhere.close()


@pytest.mark.django_db(transaction=True)
async def test_a_moderator_who_loses_the_role_loses_the_power_at_once(ann, bob, carol, secret):
    message = await db(MessageFactory)(room=secret, user=carol)
    socket, _ = await open_socket(bob, "secret")
    await db(Membership.objects.filter(room=secret, user=bob).update)(role="member")
    await socket.send({"type": "delete", "id": message.id})
    assert (await socket.receive_type("error"))["code"] == "forbidden"
    await socket.close()


# Room moderators are moderators where sending is concerned ------------------------------


@pytest.mark.django_db
def test_room_moderators_write_in_a_locked_room_and_skip_slow_mode(ann, bob, carol, secret):
    from chat import services

    Room.objects.filter(pk=secret.pk).update(locked=True, slow_mode_seconds=60)
    secret.refresh_from_db()
    requests = [
        services.SendRequest(user, secret, body)
        for user, body in [(ann, "one"), (bob, "two"), (bob, "three"), (carol, "four")]
    ]
    outcomes = services.send_messages(requests)
    assert [getattr(outcome, "code", "sent") for outcome in outcomes] == [
        "sent",
        "sent",
        "sent",
        "room_locked",
    ]


@pytest.mark.django_db
def test_a_plain_members_sends_in_an_ordinary_room_ask_nothing_about_roles(carol, secret):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from chat import services

    with CaptureQueriesContext(connection) as queries:
        services.send_messages([services.SendRequest(carol, secret, "hi")])
    assert not any("chat_membership" in q["sql"] and "role" in q["sql"] for q in queries)
