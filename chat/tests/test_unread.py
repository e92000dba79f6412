"""Read positions, mentions and exact unread counts (SPEC §9, §10), at the service layer."""

import random

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.tests.factories import UserFactory
from chat import protocol, selectors, services
from chat.models import Membership, Mention, Message, Room
from chat.services import ChatError
from chat.tests.factories import RoomFactory
from jabber import events
from tests.support.unit import open_socket

pytestmark = pytest.mark.django_db
db = database_sync_to_async


@pytest.fixture(autouse=True)
def no_send_limit(settings):
    settings.JABBER_RATE_BURST = 100_000


def entry(user, name: str) -> dict:
    (found,) = [room for room in selectors.rooms_for(user) if room["name"] == name]
    return found


def position(user, room) -> int:
    return Membership.objects.get(user=user, room=room).last_read_seq


def test_a_mention_is_stored_as_a_row_for_each_member_mentioned_but_the_author(ann, bob, lobby):
    services.join_rooms({(ann.id, lobby.id), (bob.id, lobby.id)})
    message = services.send_message(user=ann, room=lobby, body="@bob @ann @bob @nobody").message
    assert message.mentions == [bob.id, ann.id]
    assert list(Mention.objects.values_list("user_id", "room_id", "seq")) == [
        (bob.id, lobby.id, message.seq)
    ]


def test_an_edit_rewrites_the_mentions(ann, bob, lobby):
    carol = UserFactory(username="carol")
    services.join_rooms({(ann.id, lobby.id), (bob.id, lobby.id), (carol.id, lobby.id)})
    message = services.send_message(user=ann, room=lobby, body="hi @bob").message
    services.edit_message(user=ann, room=lobby, message_id=message.id, body="hi @carol")
    assert list(Mention.objects.values_list("user_id", flat=True)) == [carol.id]
    assert entry(bob, "lobby")["mentions"] == 0
    assert entry(carol, "lobby")["mentions"] == 1


def test_sending_moves_the_senders_read_position_to_the_message(ann, bob, lobby):
    services.join_rooms({(ann.id, lobby.id), (bob.id, lobby.id)})
    services.send_message(user=bob, room=lobby, body="one")
    services.send_message(user=bob, room=lobby, body="two")
    assert entry(ann, "lobby")["unread"] == 2
    services.send_message(user=ann, room=lobby, body="three")
    assert position(ann, lobby) == 3
    assert entry(ann, "lobby")["unread"] == 0


def test_a_batch_moves_each_senders_position_in_each_room(ann, bob, lobby):
    other = RoomFactory(name="other")
    services.join_rooms({(ann.id, lobby.id), (bob.id, lobby.id), (ann.id, other.id)})
    services.send_messages(
        [
            services.SendRequest(ann, lobby, "a1"),
            services.SendRequest(bob, lobby, "b1"),
            services.SendRequest(ann, other, "o1"),
            services.SendRequest(ann, other, "o2"),
        ]
    )
    assert (position(ann, lobby), position(bob, lobby), position(ann, other)) == (1, 2, 2)


def test_a_new_member_starts_with_what_came_before_read(ann, bob, lobby):
    services.join_rooms({(bob.id, lobby.id)})
    services.send_message(user=bob, room=lobby, body="before ann came")
    services.join_rooms({(ann.id, lobby.id)})
    assert entry(ann, "lobby") | {"title": None} == {
        "name": "lobby", "title": None, "kind": "public", "unread": 0, "mentions": 0,
        "last_seq": 1, "last_read_seq": 1, "level": "all",
    }  # fmt: skip


def test_read_keeps_the_highest_position_and_clamps_to_the_last_seq(ann, bob, lobby):
    services.join_rooms({(ann.id, lobby.id), (bob.id, lobby.id)})
    for body in ("one", "two", "three"):
        services.send_message(user=bob, room=lobby, body=body)
    assert services.mark_read(ann, lobby, 2)["unread"] == 1
    assert services.mark_read(ann, lobby, 1) is None, "never moves back"
    assert position(ann, lobby) == 2
    assert services.mark_read(ann, lobby, 2**63 - 1)["last_read_seq"] == 3
    assert position(ann, lobby) == 3


def test_read_announces_the_new_position_with_the_counts_to_every_socket_of_the_user(
    ann, bob, lobby, monkeypatch
):
    published = []
    monkeypatch.setattr(events, "publish", lambda *sent: published.extend(sent))
    services.join_rooms({(ann.id, lobby.id), (bob.id, lobby.id)})
    services.send_message(user=bob, room=lobby, body="one")
    services.send_message(user=bob, room=lobby, body="hi @ann")
    published.clear()
    services.mark_read(ann, lobby, 1)
    (event,) = published
    assert event.user == ann.id
    assert protocol.decode(event.text) == {
        "type": "read", "room": "lobby", "seq": 1, "unread": 1, "mentions": 1, "last_seq": 2,
    }  # fmt: skip


def test_read_of_a_negative_seq_is_refused(ann, lobby):
    with pytest.raises(ChatError) as refused:
        services.mark_read(ann, lobby, -1)
    assert refused.value.code == "bad_request"


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "read"},
        {"type": "read", "seq": "3"},
        {"type": "read", "seq": -1},
        {"type": "read", "seq": 1.5},
        {"type": "read", "seq": True},
        {"type": "read", "seq": None},
        {"type": "read", "seq": 2**64},
        {"type": "read", "seq": [1]},
    ],
)
def test_a_read_frame_without_a_whole_non_negative_seq_is_a_bad_request(frame):
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse(protocol.encode(frame))
    assert refused.value.code == "bad_request"


def test_unread_counts_visible_messages_by_others_above_the_position(ann, bob, lobby):
    services.join_rooms({(ann.id, lobby.id), (bob.id, lobby.id)})
    first = services.send_message(user=bob, room=lobby, body="one @ann").message
    services.send_message(user=bob, room=lobby, body="two @ann")
    services.send_message(user=bob, room=lobby, body="three")
    assert (entry(ann, "lobby")["unread"], entry(ann, "lobby")["mentions"]) == (3, 2)
    services.delete_message(actor=bob, room=lobby, message_id=first.id)
    assert (entry(ann, "lobby")["unread"], entry(ann, "lobby")["mentions"]) == (2, 1)


def test_a_rooms_level_decides_what_counts(ann, bob, lobby):
    quiet, muted = RoomFactory(name="quiet"), RoomFactory(name="silent")
    for room in (lobby, quiet, muted):
        services.join_rooms({(ann.id, room.id), (bob.id, room.id)})
        services.send_message(user=bob, room=room, body="plain")
        services.send_message(user=bob, room=room, body="hey @ann")
    Membership.objects.filter(user=ann, room=quiet).update(level=Membership.Level.MENTIONS)
    Membership.objects.filter(user=ann, room=muted).update(level=Membership.Level.NOTHING)
    counts = {r["name"]: (r["unread"], r["mentions"]) for r in selectors.rooms_for(ann)}
    assert counts == {"lobby": (2, 1), "quiet": (1, 1), "silent": (0, 0)}


def test_leaving_a_room_removes_it_from_the_list(ann, lobby):
    services.join_rooms({(ann.id, lobby.id)})
    assert services.leave_room(ann, lobby)
    assert selectors.rooms_for(ann) == []
    assert not services.leave_room(ann, lobby)


def test_the_rooms_of_a_member_of_200_rooms_take_one_query(ann, bob, django_assert_num_queries):
    rooms = [RoomFactory(name=f"r{index:03}") for index in range(200)]
    services.join_rooms({(user.id, room.id) for room in rooms for user in (ann, bob)})
    for room in rooms[:20]:
        services.send_message(user=bob, room=room, body="hi @ann")
    with django_assert_num_queries(1):
        found = selectors.rooms_for(ann)
    assert len(found) == 200
    assert sum(room["unread"] for room in found) == 20
    assert sum(room["mentions"] for room in found) == 20
    with django_assert_num_queries(1):
        both = selectors.rooms_for_many([ann.id, bob.id])
    assert [len(both[ann.id]), len(both[bob.id])] == [200, 200]


def expected_counts(user, room) -> tuple[int, int]:
    """The counts computed the slow way, from the messages themselves."""
    membership = Membership.objects.get(user=user, room=room)
    unread = mentions = 0
    for message in Message.objects.filter(room=room, deleted__isnull=True):
        if message.user_id == user.id or message.seq <= membership.last_read_seq:
            continue
        unread += 1
        mentions += user.id in message.mentions
    if membership.level == Membership.Level.MENTIONS:
        unread = mentions
    if membership.level == Membership.Level.NOTHING:
        unread = mentions = 0
    return unread, mentions


@pytest.mark.parametrize("seed", range(4))
def test_counts_stay_exact_through_random_sends_edits_deletes_reads_and_levels(seed, lobby):
    chance = random.Random(seed)
    people = [UserFactory(username=name) for name in ("ann", "bob", "cat")]
    rooms = [lobby, RoomFactory(name="two")]
    services.join_rooms({(user.id, room.id) for user in people for room in rooms})
    for _ in range(120):
        user, room = chance.choice(people), chance.choice(rooms)
        action = chance.random()
        mine = list(Message.objects.filter(user=user, room=room, deleted__isnull=True))
        if action < 0.5:
            names = " ".join(f"@{p.username}" for p in chance.sample(people, chance.randint(0, 2)))
            services.send_message(user=user, room=room, body=f"hello {names}")
        elif action < 0.6 and mine:
            names = " ".join(f"@{p.username}" for p in chance.sample(people, chance.randint(0, 2)))
            target = chance.choice(mine)
            services.edit_message(user=user, room=room, message_id=target.id, body=f"e {names}")
        elif action < 0.7 and mine:
            services.delete_message(actor=user, room=room, message_id=chance.choice(mine).id)
        elif action < 0.95:
            room.refresh_from_db()
            services.mark_read(user, room, chance.randint(0, room.last_seq + 2))
        else:
            level = chance.choice(Membership.Level.values)
            Membership.objects.filter(user=user, room=room).update(level=level)
        for person in people:
            for entry_ in selectors.rooms_for(person):
                room_ = next(r for r in rooms if r.name == entry_["name"])
                assert (entry_["unread"], entry_["mentions"]) == expected_counts(person, room_)


# On the socket ---------------------------------------------------------------


async def frames_until(socket, kind: str) -> list[dict]:
    """The frames a socket receives up to the first of `kind` (not included)."""
    frames = []
    while (frame := await socket.receive())["type"] != kind:
        frames.append(frame)
    return frames


@pytest.mark.django_db(transaction=True)
async def test_hello_carries_the_position_before_this_socket_and_the_users_rooms(ann, bob):
    socket, _ = await open_socket(ann, "lobby")
    other, _ = await open_socket(bob, "lobby")
    await other.send({"type": "message", "body": "hi @ann"})
    await socket.receive_type("message")
    await socket.close()
    socket, hello = await open_socket(ann, "lobby")
    assert hello["last_read_seq"] == 0
    assert [(r["name"], r["unread"], r["mentions"]) for r in hello["rooms"]] == [("lobby", 1, 1)]
    await socket.close()
    await other.close()


@pytest.mark.django_db(transaction=True)
async def test_a_socket_hears_activity_of_the_users_other_rooms_only(ann, bob):
    await db(services.join_rooms)({(ann.id, (await db(RoomFactory)(name="news")).id)})
    here, _ = await open_socket(ann, "lobby")
    speaker, _ = await open_socket(bob, "news")
    await speaker.send({"type": "message", "body": "extra @ann"})
    activity = await here.receive_type("activity")
    message = await speaker.receive_type("message")
    assert activity == {
        "type": "activity", "room": "news", "id": message["id"], "seq": 1,
        "user_id": bob.id, "mentions": [ann.id],
    }  # fmt: skip
    # In its own room a socket gets the message itself, never activity for it.
    reader, _ = await open_socket(ann, "news")
    await speaker.send({"type": "message", "body": "second"})
    await reader.receive_type("message")
    await here.receive_type("activity", seq=2)
    await speaker.send({"type": "delete", "id": message["id"]})
    deleted = await here.receive_type("activity_deleted")
    assert deleted["id"] == message["id"] and deleted["mentions"] == [ann.id]
    await reader.receive_type("message_deleted")
    await reader.send({"type": "ping"})
    frames = await frames_until(reader, "pong")
    assert not [frame for frame in frames if frame["type"].startswith("activity")]
    for socket in (here, speaker, reader):
        await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_a_read_reaches_every_socket_of_the_user_with_the_new_counts(ann, bob):
    here, _ = await open_socket(ann, "lobby")
    elsewhere, _ = await open_socket(ann, "news")
    speaker, _ = await open_socket(bob, "lobby")
    for body in ("one", "two @ann", "three"):
        await speaker.send({"type": "message", "body": body})
        await here.receive_type("message")
    await here.send({"type": "read", "seq": 2})
    expected = {"type": "read", "room": "lobby", "seq": 2, "unread": 1, "mentions": 0,
                "last_seq": 3}  # fmt: skip
    assert await elsewhere.receive_type("read") == expected
    assert await here.receive_type("read") == expected
    await here.send({"type": "read", "seq": 1})  # behind: nothing moves, nobody hears
    await here.send({"type": "read", "seq": "x", "request_id": "r-1"})
    error = await here.receive_type("error")
    assert (error["code"], error["request_id"]) == ("bad_request", "r-1")
    await elsewhere.send({"type": "ping"})
    assert not [f for f in await frames_until(elsewhere, "pong") if f["type"] == "read"]
    for socket in (here, elsewhere, speaker):
        await socket.close()


# Pages and JSON --------------------------------------------------------------


def test_api_rooms_lists_the_users_rooms_with_counts(ann, bob, lobby):
    services.join_rooms({(ann.id, lobby.id), (bob.id, lobby.id)})
    services.send_message(user=bob, room=lobby, body="hi @ann")
    client = Client()
    client.force_login(ann)
    response = client.get("/api/rooms/")
    assert response.status_code == 200
    assert response.json() == {"rooms": selectors.rooms_for(ann)}
    assert response.json()["rooms"][0]["mentions"] == 1


def test_api_rooms_answers_an_anonymous_caller_403_json_not_a_login_page():
    response = Client().get("/api/rooms/")
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"] == "forbidden"


def test_leaving_takes_a_post_with_csrf_and_opening_again_rejoins(ann, lobby):
    services.join_rooms({(ann.id, lobby.id)})
    client = Client(enforce_csrf_checks=True)
    client.force_login(ann)
    assert client.post("/chat/lobby/leave/").status_code == 403, "no CSRF token"
    assert client.get("/chat/lobby/leave/").status_code == 405
    client.get("/chat/")
    token = client.cookies["csrftoken"].value
    response = client.post("/chat/lobby/leave/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302 and response.headers["Location"] == "/chat/"
    assert not Membership.objects.filter(user=ann).exists()
    client.get("/chat/lobby/")
    assert Membership.objects.filter(user=ann, room=lobby).exists()


def test_leaving_a_room_that_does_not_exist_is_404(ann):
    client = Client()
    client.force_login(ann)
    assert client.post("/chat/nowhere/leave/").status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_a_room_joined_or_left_elsewhere_starts_or_stops_its_activity_here(ann, bob):
    here, _ = await open_socket(ann, "lobby")
    joining, _ = await open_socket(ann, "news")  # ann joins news in another tab
    await joining.close()
    speaker, _ = await open_socket(bob, "news")
    await speaker.send({"type": "message", "body": "one"})
    assert (await here.receive_type("activity"))["room"] == "news"
    news = await db(Room.objects.get)(name="news")
    await db(services.leave_room)(ann, news)
    await speaker.send({"type": "message", "body": "two"})
    await speaker.receive_type("message", body="two")
    await here.send({"type": "ping"})
    assert not [f for f in await frames_until(here, "pong") if f["type"] == "activity"]
    for socket in (here, speaker):
        await socket.close()


def test_a_hello_takes_as_many_queries_for_a_member_of_200_rooms_as_of_one(ann, bob, lobby):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def hello_queries(user) -> tuple[int, dict]:
        request = services.OpenRequest(f"key-{user.id}", user, lobby, None, "hub")
        with CaptureQueriesContext(connection) as queries:
            (opened,) = services.open_sockets([request])
        return len(queries), opened.frames[0]

    rooms = [RoomFactory(name=f"r{index:03}") for index in range(200)]
    services.join_rooms({(ann.id, room.id) for room in rooms})
    few, _ = hello_queries(bob)
    many, hello = hello_queries(ann)
    assert len(hello["rooms"]) == 201
    assert many == few
