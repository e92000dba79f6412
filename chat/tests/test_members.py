"""Room members (SPEC §12): added, removed by username, invite links; removal closes sockets."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib.admin.models import LogEntry
from django.core import signing
from django.test import Client

from accounts.tests.factories import UserFactory
from chat import services
from chat.models import Membership, Room
from chat.services.members import INVITE_SALT
from chat.tests.factories import MembershipFactory, private_room
from jabber import clock
from tests.support.unit import open_socket

db = database_sync_to_async
JSON = {"accept": "application/json"}


def client_for(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def roles(room: Room) -> dict[str, str]:
    return dict(room.memberships.values_list("user__username", "role"))


@pytest.fixture
def carol():
    return UserFactory(username="carol")


@pytest.fixture
def secret(ann):
    """ann's private room."""
    return private_room(ann, name="secret")


# Adding and removing ----------------------------------------------------------------


@pytest.mark.django_db
def test_owner_adds_a_member_and_is_sent_back_to_the_room(ann, bob, secret):
    response = client_for(ann).post("/chat/secret/members/add/", {"username": "bob"})
    assert response.status_code == 302 and response.headers["Location"] == "/chat/secret/"
    assert roles(secret) == {"ann": "owner", "bob": "member"}
    assert client_for(bob).get("/chat/secret/").status_code == 200
    assert LogEntry.objects.filter(user=ann, object_id=str(secret.pk)).exists()


@pytest.mark.django_db
def test_adding_answers_json_when_asked(ann, bob, secret):
    response = client_for(ann).post("/chat/secret/members/add/", {"username": "bob"}, headers=JSON)
    assert response.status_code == 200 and response.json() == {"ok": True, "detail": "Added bob."}


@pytest.mark.django_db
def test_a_room_moderator_may_add_members(ann, bob, carol, secret):
    MembershipFactory(user=bob, room=secret, role=Membership.Role.MODERATOR)
    response = client_for(bob).post("/chat/secret/members/add/", {"username": "carol"})
    assert response.status_code == 302
    assert roles(secret)["carol"] == "member"


@pytest.mark.django_db
def test_a_plain_member_may_not_add_members(ann, bob, carol, secret):
    MembershipFactory(user=bob, room=secret)
    response = client_for(bob).post(
        "/chat/secret/members/add/", {"username": "carol"}, headers=JSON
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert "carol" not in roles(secret)
    html = client_for(bob).post("/chat/secret/members/add/", {"username": "carol"})
    assert html.status_code == 403


@pytest.mark.django_db
def test_a_non_member_gets_404_like_for_a_room_that_does_not_exist(ann, bob, secret):
    answers = [
        client_for(bob).post(path, {"username": "bob"}, headers=JSON)
        for path in ("/chat/secret/members/add/", "/chat/nothing-here/members/add/")
    ]
    assert [answer.status_code for answer in answers] == [404, 404]
    assert (
        answers[0].json()
        == answers[1].json()
        == {"error": {"code": "not_found", "detail": "No such room."}}
    )
    assert "bob" not in roles(secret)
    assert not Room.objects.filter(name="nothing-here").exists()


@pytest.mark.django_db
def test_staff_outside_the_moderators_group_have_no_say_in_a_room_they_do_not_run(ann, secret):
    staff = UserFactory(username="staff", is_staff=True, is_superuser=False)
    MembershipFactory(user=staff, room=secret)
    response = client_for(staff).post("/chat/secret/members/add/", {"username": "ann"})
    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "detail"),
    [("nobody", "There is no user called 'nobody'."), ("", "There is no user called ''.")],
)
def test_adding_an_unknown_user_is_a_clear_error(ann, secret, username, detail):
    response = client_for(ann).post(
        "/chat/secret/members/add/", {"username": username}, headers=JSON
    )
    assert response.status_code == 400 and response.json()["error"]["detail"] == detail
    assert roles(secret) == {"ann": "owner"}


@pytest.mark.django_db
def test_adding_someone_twice_is_a_clear_error_and_changes_nothing(ann, bob, secret):
    client = client_for(ann)
    client.post("/chat/secret/members/add/", {"username": "bob"})
    response = client.post("/chat/secret/members/add/", {"username": "bob"}, headers=JSON)
    assert response.status_code == 400
    assert response.json()["error"]["detail"] == "bob is already a member."
    assert roles(secret) == {"ann": "owner", "bob": "member"}


@pytest.mark.django_db
def test_a_bad_request_without_json_goes_back_to_the_room_with_the_reason(ann, secret):
    client = client_for(ann)
    response = client.post("/chat/secret/members/add/", {"username": "nobody"}, follow=True)
    assert response.redirect_chain == [("/chat/secret/", 302)]
    assert "There is no user called" in response.content.decode()


@pytest.mark.django_db
def test_removing_the_owner_is_refused(ann, bob, secret):
    MembershipFactory(user=bob, room=secret, role=Membership.Role.MODERATOR)
    for actor in (ann, bob):
        response = client_for(actor).post(
            "/chat/secret/members/remove/", {"username": "ann"}, headers=JSON
        )
        assert response.status_code == 400
        assert response.json()["error"]["detail"] == "The owner cannot be removed."
    assert roles(secret) == {"ann": "owner", "bob": "moderator"}


@pytest.mark.django_db
def test_only_the_owner_removes_a_room_moderator(ann, bob, carol, secret):
    MembershipFactory(user=bob, room=secret, role=Membership.Role.MODERATOR)
    MembershipFactory(user=carol, room=secret, role=Membership.Role.MODERATOR)
    refused = client_for(bob).post("/chat/secret/members/remove/", {"username": "carol"})
    assert refused.status_code == 403
    done = client_for(ann).post("/chat/secret/members/remove/", {"username": "carol"})
    assert done.status_code == 302 and "carol" not in roles(secret)


@pytest.mark.django_db
def test_removing_someone_who_is_not_a_member_is_a_clear_error(ann, bob, secret):
    response = client_for(ann).post(
        "/chat/secret/members/remove/", {"username": "bob"}, headers=JSON
    )
    assert response.status_code == 400 and "not a member" in response.json()["error"]["detail"]


@pytest.mark.django_db
def test_these_posts_need_the_csrf_token(ann, bob, secret):
    client = client_for(ann, enforce_csrf_checks=True)
    response = client.post("/chat/secret/members/add/", {"username": "bob"})
    assert response.status_code == 403
    assert roles(secret) == {"ann": "owner"}


@pytest.mark.django_db
def test_these_are_posts_only(ann, secret):
    assert client_for(ann).get("/chat/secret/members/add/").status_code == 405


@pytest.mark.django_db(transaction=True)
async def test_a_removed_members_sockets_in_that_room_close_with_4403(ann, bob, secret):
    await db(MembershipFactory)(user=bob, room=secret)
    inside, _ = await open_socket(bob, "secret")
    elsewhere, _ = await open_socket(bob, "lobby")
    client = await sync_to_async(client_for)(ann)
    response = await sync_to_async(client.post)("/chat/secret/members/remove/", {"username": "bob"})
    assert response.status_code == 302
    frames, code = await inside.receive_close()
    assert code == 4403
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "forbidden"
    assert (await elsewhere.roundtrip())["type"] == "pong"
    again, _ = await open_socket(bob, "secret")
    assert not again.accepted
    await elsewhere.close()


# Invite links -------------------------------------------------------------------------


def invite_path(owner, room: Room) -> str:
    response = client_for(owner).post(f"/chat/{room.name}/invites/", headers=JSON)
    assert response.status_code == 200
    return response.json()["url"].removeprefix("http://testserver")


@pytest.mark.django_db
def test_an_invite_link_makes_a_member_and_opens_the_room(ann, bob, secret):
    path = invite_path(ann, secret)
    response = client_for(bob).get(path)
    assert response.status_code == 302 and response.headers["Location"] == "/chat/secret/"
    assert roles(secret)["bob"] == "member"


@pytest.mark.django_db
def test_following_an_invite_again_changes_nothing(ann, bob, secret):
    MembershipFactory(user=bob, room=secret, role=Membership.Role.MODERATOR)
    path = invite_path(ann, secret)
    for _ in range(2):
        assert client_for(bob).get(path).status_code == 302
    assert roles(secret) == {"ann": "owner", "bob": "moderator"}


@pytest.mark.django_db
def test_the_room_page_shows_its_moderators_an_invite_link(ann, secret):
    page = client_for(ann).get("/chat/secret/")
    url = page.context["room_admin"]["invite_url"]
    assert url.startswith("http://testserver/chat/join/")
    assert url.encode() in page.content


@pytest.mark.django_db
def test_a_plain_member_cannot_make_invite_links(ann, bob, secret):
    MembershipFactory(user=bob, room=secret)
    response = client_for(bob).post("/chat/secret/invites/", headers=JSON)
    assert response.status_code == 403
    assert client_for(bob).get("/chat/secret/").context["room_admin"] is None


@pytest.mark.django_db
def test_revoked_invite_links_stop_working(ann, bob, secret):
    path = invite_path(ann, secret)
    assert client_for(ann).post("/chat/secret/invites/revoke/").status_code == 302
    response = client_for(bob).get(path)
    assert response.status_code == 400 and b"not valid" in response.content
    assert "bob" not in roles(secret)
    assert client_for(bob).get(invite_path(ann, secret)).status_code == 302


@pytest.mark.django_db
def test_invite_links_expire_after_seven_days(ann, bob, secret, monkeypatch):
    path = invite_path(ann, secret)
    later = clock.now() + timedelta(days=7, seconds=1).total_seconds()
    monkeypatch.setattr("time.time", lambda: later)
    assert client_for(bob).get(path).status_code == 400
    assert "bob" not in roles(secret)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "a:b:c",
        signing.dumps({"room": 1, "version": 1}, salt="another.salt"),
        signing.dumps([1, 2], salt=INVITE_SALT),
        signing.dumps({"room": "x"}, salt=INVITE_SALT),
    ],
)
def test_forged_invite_tokens_are_refused_and_change_nothing(ann, bob, secret, token):
    response = client_for(bob).get(f"/chat/join/{token}/")
    assert response.status_code == 400
    assert "bob" not in roles(secret)


@pytest.mark.django_db
def test_an_invite_to_a_room_with_a_tampered_id_is_refused(ann, bob, secret):
    other = private_room(ann, name="other")
    token = services.invite_token(actor=ann, room=secret)
    _, rest = token.split(":", 1)
    forged = signing.dumps({"room": other.pk, "version": 1}, salt=INVITE_SALT).split(":", 1)[0]
    response = client_for(bob).get(f"/chat/join/{forged}:{rest}/")
    assert response.status_code == 400
    assert "bob" not in roles(other) and "bob" not in roles(secret)


@pytest.mark.django_db(transaction=True)
async def test_a_removed_members_socket_closes_at_its_next_ping_if_the_event_was_lost(
    ann, bob, secret
):
    membership = await db(MembershipFactory)(user=bob, room=secret)
    socket, _ = await open_socket(bob, "secret")
    # Deleted behind the services' back: no closing event is published.
    await db(membership.delete)()
    await socket.send({"type": "ping"})
    _, code = await socket.receive_close()
    assert code == 4403
