"""Direct messages (SPEC §12): /chat/@<username>/, two members, a rate limit, and blocking."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.models import Block
from accounts.tests.factories import UserFactory
from chat import services
from chat.models import Message, Room
from tests.support.unit import open_socket

db = database_sync_to_async


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def dm_name(first, second) -> str:
    low, high = sorted((first.pk, second.pk))
    return f"dm-{low}-{high}"


@pytest.mark.django_db
def test_opening_a_dm_redirects_to_a_direct_room_of_exactly_the_two(ann, bob):
    response = client_for(ann).get("/chat/@bob/")
    name = dm_name(ann, bob)
    assert response.status_code == 302 and response.headers["Location"] == f"/chat/{name}/"
    room = Room.objects.get(name=name)
    assert room.kind == Room.Kind.DIRECT
    assert set(room.memberships.values_list("user__username", flat=True)) == {"ann", "bob"}


@pytest.mark.django_db
def test_both_people_reach_the_same_room_and_see_the_other_ones_name(ann, bob):
    client_for(ann).get("/chat/@bob/")
    response = client_for(bob).get("/chat/@ann/", follow=True)
    assert response.redirect_chain == [(f"/chat/{dm_name(ann, bob)}/", 302)]
    assert Room.objects.count() == 1
    assert response.context["room"].display_title == "ann"
    assert response.context["config"]["kind"] == "direct"


@pytest.mark.django_db
def test_a_dm_with_oneself_is_refused_clearly(ann):
    response = client_for(ann).get("/chat/@ann/")
    assert response.status_code == 400
    assert b"yourself" in response.content
    assert not Room.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["nobody", "bo", "bob%00", "..", "<script>"])
def test_a_dm_with_an_unknown_user_is_refused_clearly(ann, bob, username):
    response = client_for(ann).get(f"/chat/@{username}/")
    assert response.status_code == 400
    assert b"There is no user called" in response.content
    assert not Room.objects.exists()


@pytest.mark.django_db
def test_a_dm_with_an_inactive_user_is_refused(ann):
    UserFactory(username="gone", is_active=False)
    assert client_for(ann).get("/chat/@gone/").status_code == 400


@pytest.mark.django_db
def test_opening_dms_with_new_people_is_rate_limited(ann, settings):
    settings.JABBER_DM_CREATE_RATE = 2
    people = [UserFactory(username=f"p{index}") for index in range(3)]
    client = client_for(ann)
    assert client.get("/chat/@p0/").status_code == 302
    assert client.get("/chat/@p1/").status_code == 302
    assert client.get("/chat/@p2/").status_code == 429
    assert Room.objects.count() == 2
    # An existing conversation opens whatever the limit.
    assert client.get("/chat/@p0/").status_code == 302
    assert people


@pytest.mark.django_db
def test_a_blocked_user_cannot_open_a_dm_and_is_told_only_forbidden(ann, bob):
    Block.objects.create(blocker=bob, blocked=ann)
    response = client_for(ann).get("/chat/@bob/")
    assert response.status_code == 403
    assert b"block" not in response.content.lower()
    assert not Room.objects.exists()
    # The blocker may still write to them.
    assert client_for(bob).get("/chat/@ann/").status_code == 302


@pytest.mark.django_db(transaction=True)
async def test_a_blocked_user_cannot_send_into_an_existing_dm(ann, bob):
    room = await db(services.open_direct)(ann, "bob")
    socket, _ = await open_socket(ann, room.name)
    await socket.send({"type": "message", "body": "before", "client_id": "c1"})
    assert (await socket.receive_type("message"))["body"] == "before"
    await db(Block.objects.create)(blocker=bob, blocked=ann)
    await socket.send({"type": "message", "body": "after", "client_id": "c2"})
    error = await socket.receive_type("error")
    assert error["code"] == "forbidden" and error["client_id"] == "c2"
    assert "block" not in error["detail"].lower()
    assert await db(Message.objects.count)() == 1
    await socket.close()


@pytest.mark.django_db
def test_blocks_are_checked_in_one_query_per_batch(ann, django_assert_num_queries):
    others = [UserFactory(username=f"o{index}") for index in range(4)]
    rooms = [services.open_direct(ann, other.username) for other in others]
    Block.objects.create(blocker=others[0], blocked=ann)
    requests = [services.SendRequest(ann, room, "hi") for room in rooms]
    outcomes = services.send_messages(requests)
    assert [getattr(outcome, "code", "sent") for outcome in outcomes] == [
        "forbidden",
        "sent",
        "sent",
        "sent",
    ]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        services.send_messages(requests)
    assert sum("accounts_block" in query["sql"] for query in queries) == 1


@pytest.mark.django_db
def test_a_third_person_gets_404_for_a_dm(ann, bob):
    room = services.open_direct(ann, "bob")
    carol = UserFactory(username="carol")
    assert client_for(carol).get(f"/chat/{room.name}/").status_code == 404


@pytest.mark.django_db
def test_members_cannot_be_added_to_a_dm(ann, bob, mod):
    room = services.open_direct(ann, "bob")
    response = client_for(mod).post(f"/chat/{room.name}/members/add/", {"username": "mod"})
    assert response.status_code == 404  # mod is not a member: the room does not exist for them
    assert room.memberships.count() == 2


# The preferences page -----------------------------------------------------------------


@pytest.mark.django_db
def test_preferences_lists_blocks_and_blocks_and_unblocks(ann, bob):
    client = client_for(ann)
    assert b"You block nobody" in client.get("/accounts/preferences/").content
    response = client.post(
        "/accounts/preferences/", {"action": "block", "username": "bob"}, follow=True
    )
    assert b"You blocked bob" in response.content
    assert list(response.context["blocks"].values_list("blocked__username", flat=True)) == ["bob"]
    client.post("/accounts/preferences/", {"action": "unblock", "user_id": str(bob.pk)})
    assert not Block.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "block", "username": "ann"}, b"You cannot block yourself"),
        ({"action": "block", "username": "nobody"}, b"There is no user called"),
        ({"action": "unblock", "user_id": "x"}, b"Nothing to do"),
        ({"action": "explode"}, b"Nothing to do"),
    ],
)
def test_preferences_explain_bad_input_and_change_nothing(ann, data, message):
    response = client_for(ann).post("/accounts/preferences/", data, follow=True)
    assert message in response.content
    assert not Block.objects.exists()


@pytest.mark.django_db
def test_blocking_twice_changes_nothing(ann, bob):
    client = client_for(ann)
    for _ in range(2):
        client.post("/accounts/preferences/", {"action": "block", "username": "bob"})
    assert Block.objects.count() == 1


def test_preferences_need_a_login(db):
    response = Client().get("/accounts/preferences/")
    assert response.status_code == 302 and "/accounts/login/" in response.headers["Location"]
