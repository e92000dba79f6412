"""Room kinds enforced (SPEC §12): a private room or direct message is nothing to a non-member."""

import re

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.tests.factories import UserFactory
from chat.models import Membership, Room
from chat.tests.factories import BanFactory, RoomFactory, private_room
from presence.models import Connection
from tests.support.unit import open_socket

db = database_sync_to_async


def without_csrf(content: bytes) -> bytes:
    """A page without its CSRF token, which differs on every response."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Pages ------------------------------------------------------------------------


@pytest.mark.django_db
def test_private_room_page_is_404_for_a_non_member_and_nothing_changes(ann, bob):
    room = private_room(bob, name="secret")
    response = client_for(ann).get("/chat/secret/")
    assert response.status_code == 404
    assert b"secret" not in response.content
    assert not Membership.objects.filter(user=ann, room=room).exists()


@pytest.mark.django_db
def test_private_room_page_answers_exactly_like_a_missing_room(ann, bob):
    private_room(bob, name="secret")
    client = client_for(ann)
    hidden, missing = client.get("/chat/secret/"), client.get("/chat/dm-998-999/")
    assert hidden.status_code == missing.status_code == 404
    assert without_csrf(hidden.content) == without_csrf(missing.content)


@pytest.mark.django_db
def test_private_room_page_shows_to_a_member_with_its_kind(ann, bob):
    private_room(bob, ann, name="secret")
    response = client_for(ann).get("/chat/secret/")
    assert response.status_code == 200
    assert response.context["config"]["kind"] == "private"


def entries(content: bytes, css_class: str) -> dict[bytes, bytes]:
    """The markup of each ``<li class="css_class…">`` on a page, by its ``data-room``."""
    pattern = rb'<li class="' + css_class.encode() + rb'.*?data-room="([^"]+)"(.*?)</li>'
    return dict(re.findall(pattern, content, re.S))


@pytest.mark.django_db
def test_a_private_room_wears_a_padlock_in_its_header_and_every_sidebar(ann, bob):
    private_room(bob, ann, name="secret")
    client = client_for(ann)
    client.get("/chat/open/")  # a public room ann joins by opening it

    secret_page = client.get("/chat/secret/").content
    header = secret_page.split(b'class="room-header"')[1].split(b"</h1>")[0]
    assert b'data-testid="private-mark"' in header
    assert b'aria-label="private"' in header

    open_page = client.get("/chat/open/").content
    header = open_page.split(b'class="room-header"')[1].split(b"</h1>")[0]
    assert b"private-mark" not in header
    items = entries(open_page, "rooms-nav-item")
    assert sorted(items) == [b"open", b"secret"]
    assert b"private-mark" in items[b"secret"]
    assert b"private-mark" not in items[b"open"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["dm-1-2", "dm-", "dm-anything"])
def test_dm_names_are_reserved_and_visiting_one_creates_nothing(ann, name):
    response = client_for(ann).get(f"/chat/{name}/")
    assert response.status_code == 404
    assert not Room.objects.exists()


@pytest.mark.django_db
def test_a_public_room_under_a_dm_name_does_not_exist_for_anyone(ann):
    RoomFactory(name="dm-old")
    assert client_for(ann).get("/chat/dm-old/").status_code == 404


@pytest.mark.django_db
def test_a_direct_room_is_404_for_a_third_person(ann, bob):
    carol = UserFactory(username="carol")
    room = RoomFactory(name=f"dm-{ann.pk}-{bob.pk}", kind=Room.Kind.DIRECT)
    Membership.objects.create(user=ann, room=room)
    Membership.objects.create(user=bob, room=room)
    assert client_for(carol).get(f"/chat/{room.name}/").status_code == 404
    assert client_for(ann).get(f"/chat/{room.name}/").status_code == 200


@pytest.mark.django_db
def test_a_banned_member_of_a_private_room_sees_the_ban_page(ann, bob):
    room = private_room(bob, ann, name="secret")
    BanFactory(user=ann, room=room, reason="spam")
    response = client_for(ann).get("/chat/secret/")
    assert response.status_code == 403
    assert b"spam" in response.content


@pytest.mark.django_db
def test_lobby_lists_private_rooms_only_to_their_members_and_never_direct_ones(ann, bob):
    private_room(bob, name="secret")
    private_room(bob, ann, name="shared")
    RoomFactory(name="open")
    RoomFactory(name=f"dm-{ann.pk}-{bob.pk}", kind=Room.Kind.DIRECT)
    names = [room.name for room in client_for(ann).get("/chat/").context["rooms"]]
    assert sorted(names) == ["open", "shared"]


@pytest.mark.django_db
def test_the_lobby_marks_private_rooms_with_a_padlock(ann, bob):
    private_room(bob, ann, name="shared")
    RoomFactory(name="open")
    content = client_for(ann).get("/chat/").content
    cards = entries(content, "room-card")
    assert sorted(cards) == [b"open", b"shared"]
    assert b'data-testid="private-mark"' in cards[b"shared"]
    assert b"private-mark" not in cards[b"open"]


# Sockets --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_private_room_socket_is_refused_at_the_handshake_for_a_non_member(ann, bob):
    room = await db(private_room)(bob, name="secret")
    socket, hello = await open_socket(ann, "secret")
    assert not socket.accepted and hello is None
    assert not await db(Membership.objects.filter(user=ann, room=room).exists)()
    assert not await db(Connection.objects.exists)()


@pytest.mark.django_db(transaction=True)
async def test_dm_name_socket_is_refused_and_creates_no_room(ann):
    socket, _ = await open_socket(ann, "dm-1-2")
    assert not socket.accepted
    assert not await db(Room.objects.exists)()


@pytest.mark.django_db(transaction=True)
async def test_member_socket_opens_and_hello_says_the_kind(ann, bob):
    await db(private_room)(bob, ann, name="secret")
    socket, hello = await open_socket(ann, "secret")
    assert hello["type"] == "hello" and hello["kind"] == "private"
    await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_public_room_hello_says_public(ann):
    socket, hello = await open_socket(ann, "general")
    assert hello["kind"] == "public"
    await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_a_banned_member_of_a_private_room_gets_the_banned_frame(ann, bob):
    room = await db(private_room)(bob, ann, name="secret")
    await db(BanFactory)(user=ann, room=room)
    socket, hello = await open_socket(ann, "secret")
    assert hello["type"] == "error" and hello["code"] == "banned"
    _, code = await socket.receive_close()
    assert code == 4403


def test_admission_reads_memberships_once_for_a_batch(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from chat import services

    users = [UserFactory() for _ in range(5)]
    owner = UserFactory()
    rooms = [private_room(owner, *users) for _ in range(3)]
    requests = [(user, room.name) for user in users for room in rooms]
    with CaptureQueriesContext(connection) as one:
        services.admit_many(requests[:1])
    # open sockets, rooms, memberships, bans: no more for 15 sockets than for one.
    with CaptureQueriesContext(connection) as many:
        outcomes = services.admit_many(requests)
    assert len(many.captured_queries) <= len(one.captured_queries)
    assert all(outcome.room for outcome in outcomes)


@pytest.mark.django_db
def test_opening_a_socket_never_makes_a_membership_in_a_private_room(ann, bob):
    from chat import services

    room = private_room(bob, name="secret")
    # Admitted, then removed before the socket opened: opening must not make ann a member again.
    services.open_sockets([services.OpenRequest("key-1", ann, room, None, "hub")])
    assert not Membership.objects.filter(user=ann, room=room).exists()
