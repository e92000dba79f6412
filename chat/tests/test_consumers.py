"""The protocol of docs/protocol.md, frame by frame, with the database checked after each."""

import pytest
from channels.db import database_sync_to_async

from chat.models import Message, Room
from chat.tests.factories import MessageFactory, RoomFactory
from tests.support.unit import open_socket

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def stored_count() -> int:
    return await db(Message.objects.count)()


# Handshake ------------------------------------------------------------------

LOBBY_ENTRY = {"name": "lobby", "title": "lobby", "kind": "public", "unread": 0, "mentions": 0,
               "last_seq": 0, "last_read_seq": 0, "level": "all"}  # fmt: skip


async def test_hello_is_the_first_frame_with_room_user_and_online_list(ann):
    socket, hello = await open_socket(ann, "lobby")
    assert hello == {
        "type": "hello",
        "room": "lobby",
        "kind": "public",
        "you": {"id": ann.id, "username": "ann"},
        "online": [{"id": ann.id, "username": "ann"}],
        "messages": [],
        "has_more": False,
        "last_read_seq": 0,
        "rooms": [LOBBY_ENTRY],
    }
    await socket.close()


async def test_visiting_a_room_socket_creates_the_room(ann):
    socket, _ = await open_socket(ann, "brand-new")
    assert await db(Room.objects.filter(name="brand-new").exists)()
    await socket.close()


async def test_anonymous_socket_is_refused_before_accept():
    socket, hello = await open_socket(None, "lobby")
    assert not socket.accepted and hello is None


async def test_foreign_origin_is_refused(ann):
    socket, _ = await open_socket(ann, "lobby", origin="https://evil.example")
    assert not socket.accepted


async def test_missing_origin_is_refused(ann):
    socket, _ = await open_socket(ann, "lobby", origin=None)
    assert not socket.accepted


@pytest.mark.parametrize("name", ["Lobby", "a" * 65, "..", "%2F", "r%C3%A9union", "lobby.x"])
async def test_invalid_room_name_is_refused_and_nothing_is_stored(ann, name):
    socket, _ = await open_socket(ann, path=f"/ws/chat/{name}/")
    assert not socket.accepted
    assert not await db(Room.objects.exists)()


async def test_malformed_after_is_refused(ann):
    socket, _ = await open_socket(ann, path="/ws/chat/lobby/?after=abc")
    assert not socket.accepted


async def test_hello_carries_the_last_50_messages_oldest_first(ann):
    room = await db(RoomFactory)(name="lobby")
    for _ in range(55):
        await db(MessageFactory)(room=room, user=ann)
    socket, hello = await open_socket(ann, "lobby")
    ids = [message["id"] for message in hello["messages"]]
    assert len(ids) == 50 and ids == sorted(ids)
    assert hello["messages"][-1]["seq"] == 55
    assert hello["has_more"] is True
    await socket.close()


async def test_resume_with_after_replays_only_newer_messages(ann):
    room = await db(RoomFactory)(name="lobby")
    messages = [await db(MessageFactory)(room=room, user=ann) for _ in range(5)]
    socket, hello = await open_socket(ann, "lobby", after=messages[1].id)
    assert [m["id"] for m in hello["messages"]] == [m.id for m in messages[2:]]
    assert hello["has_more"] is True
    assert "gap" not in hello
    await socket.close()


async def test_resume_after_more_than_the_replay_limit_reports_a_gap(ann, settings):
    settings.JABBER_REPLAY_MAX = 3
    room = await db(RoomFactory)(name="lobby")
    messages = [await db(MessageFactory)(room=room, user=ann) for _ in range(6)]
    socket, hello = await open_socket(ann, "lobby", after=messages[0].id)
    assert [m["id"] for m in hello["messages"]] == [m.id for m in messages[1:4]]
    assert hello["gap"] is True
    await socket.close()


async def test_deleted_messages_never_appear_in_hello(ann):
    room = await db(RoomFactory)(name="lobby")
    kept = await db(MessageFactory)(room=room, user=ann)
    await db(MessageFactory)(room=room, user=ann, deleted="2026-01-01T00:00:00Z")
    socket, hello = await open_socket(ann, "lobby")
    assert [m["id"] for m in hello["messages"]] == [kept.id]
    await socket.close()


async def test_open_sockets_per_user_are_capped(ann, settings):
    settings.JABBER_MAX_SOCKETS_PER_USER = 2
    first, _ = await open_socket(ann, "lobby")
    second, _ = await open_socket(ann, "other")
    third, hello = await open_socket(ann, "lobby")
    assert not third.accepted and hello is None
    await first.close()
    fourth, hello = await open_socket(ann, "lobby")
    assert fourth.accepted
    await second.close()
    await fourth.close()


# message --------------------------------------------------------------------


async def test_message_is_stored_then_broadcast_to_everyone_including_sender(ann, bob):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    await a.send({"type": "message", "body": "  hello bob  ", "client_id": "c-1"})
    to_bob = await b.receive_type("message")
    to_ann = await a.receive_type("message")
    assert to_bob == to_ann
    stored = await db(Message.objects.get)()
    assert to_bob == {
        "type": "message",
        "id": stored.id,
        "seq": 1,
        "room": "lobby",
        "user": {"id": ann.id, "username": "ann"},
        "body": "hello bob",
        "created": to_bob["created"],
        "edited": None,
        "client_id": "c-1",
        "html": "<p>hello bob</p>",
        "mentions": [],
        "reply_to": None,
        "reactions": [],
        "attachments": [],
    }
    assert to_bob["created"].endswith("Z")
    await a.close()
    await b.close()


async def test_resend_with_same_client_id_stores_nothing_and_echoes_the_original(ann, bob):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    # bob's arrival is announced (at once, or at the end of the presence interval).
    await b.receive_type("presence")
    await a.send({"type": "message", "body": "once", "client_id": "c-7f3a"})
    original = await a.receive_type("message")
    await b.receive_type("message")
    await a.send({"type": "message", "body": "once", "client_id": "c-7f3a"})
    again = await a.receive_type("message")
    assert again == original
    assert await stored_count() == 1
    await b.roundtrip()
    assert await b.nothing_more()
    await a.close()
    await b.close()


async def test_same_client_id_from_another_user_is_a_new_message(ann, bob):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    await a.send({"type": "message", "body": "x", "client_id": "c-1"})
    await b.send({"type": "message", "body": "y", "client_id": "c-1"})
    first = await a.receive_type("message")
    second = await a.receive_type("message")
    assert {first["seq"], second["seq"]} == {1, 2}
    assert await stored_count() == 2
    await a.close()
    await b.close()


async def test_messages_in_other_rooms_are_not_received(ann, bob):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "elsewhere")
    await a.send({"type": "message", "body": "only lobby"})
    await a.receive_type("message")
    await b.roundtrip()
    assert await b.nothing_more()
    await a.close()
    await b.close()


# history --------------------------------------------------------------------


@pytest.fixture
async def room_with_ten(ann):
    room = await db(RoomFactory)(name="lobby")
    return [await db(MessageFactory)(room=room, user=ann) for _ in range(10)]


async def test_history_before_pages_backwards(ann, room_with_ten):
    ids = [m.id for m in room_with_ten]
    socket, _ = await open_socket(ann, "lobby")
    await socket.send({"type": "history", "before": ids[5], "limit": 3})
    page = await socket.receive_type("history")
    assert [m["id"] for m in page["messages"]] == ids[2:5]
    assert page["has_more"] is True
    await socket.send({"type": "history", "before": ids[2], "limit": 3})
    page = await socket.receive_type("history")
    assert [m["id"] for m in page["messages"]] == ids[0:2]
    assert page["has_more"] is False
    await socket.close()


async def test_history_after_pages_forwards(ann, room_with_ten):
    ids = [m.id for m in room_with_ten]
    socket, _ = await open_socket(ann, "lobby")
    await socket.send({"type": "history", "after": ids[3], "limit": 4})
    page = await socket.receive_type("history")
    assert [m["id"] for m in page["messages"]] == ids[4:8]
    assert page["has_more"] is True
    await socket.send({"type": "history", "after": ids[7], "limit": 4})
    page = await socket.receive_type("history")
    assert [m["id"] for m in page["messages"]] == ids[8:10]
    assert page["has_more"] is False
    await socket.close()


async def test_history_without_cursor_gives_the_latest_default_page(ann, room_with_ten):
    socket, _ = await open_socket(ann, "lobby")
    await socket.send({"type": "history"})
    page = await socket.receive_type("history")
    assert len(page["messages"]) == 10 and page["has_more"] is False
    await socket.close()


async def test_history_never_reads_another_room(ann, bob):
    secret_room = await db(RoomFactory)(name="secret")
    secret = await db(MessageFactory)(room=secret_room, user=bob, body="classified")
    socket, _ = await open_socket(ann, "lobby")
    await socket.send({"type": "history", "before": secret.id + 1})
    page = await socket.receive_type("history")
    assert page["messages"] == []
    await socket.send({"type": "history", "after": 0})
    page = await socket.receive_type("history")
    assert page["messages"] == []
    await socket.close()


@pytest.mark.parametrize("limit", [0, 101, -5, 1.5, "10", None, True, [1]])
async def test_history_limit_out_of_bounds_is_a_bad_request(ann, limit):
    socket, _ = await open_socket(ann, "lobby")
    await socket.send({"type": "history", "limit": limit})
    error = await socket.receive_type("error")
    assert error["code"] == "bad_request"
    await socket.roundtrip()
    await socket.close()


async def test_history_with_before_and_after_is_a_bad_request(ann):
    socket, _ = await open_socket(ann, "lobby")
    await socket.send({"type": "history", "before": 5, "after": 1})
    assert (await socket.receive_type("error"))["code"] == "bad_request"
    await socket.close()


# ping -----------------------------------------------------------------------


async def test_ping_answers_pong_with_the_rooms_latest_seq(ann):
    socket, _ = await open_socket(ann, "lobby")
    assert (await socket.roundtrip()) == {"type": "pong", "seq": 0}
    await socket.send({"type": "message", "body": "one"})
    await socket.receive_type("message")
    assert (await socket.roundtrip()) == {"type": "pong", "seq": 1}
    await socket.close()


# errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_json"),
        ('{"type": "message", ', "bad_json"),
        ("[1, 2]", "bad_request"),
        ('"message"', "bad_request"),
        ({"type": "shout"}, "bad_request"),
        ({"body": "no type"}, "bad_request"),
        ({"type": "message"}, "bad_request"),
        ({"type": "message", "body": 5}, "bad_request"),
        ({"type": "message", "body": None}, "bad_request"),
        ({"type": "message", "body": "x", "client_id": "c" * 65}, "bad_request"),
        ({"type": "message", "body": "x", "client_id": 7}, "bad_request"),
        ({"type": "message", "body": "   \n\t "}, "empty"),
        ({"type": "message", "body": "\u200b\u202e"}, "empty"),
        ({"type": "message", "body": "x" * 4001}, "too_long"),
        ({"type": "edit", "id": "1; drop table", "body": "x"}, "bad_request"),
        ({"type": "delete"}, "bad_request"),
    ],
)
async def test_bad_frames_get_an_error_and_store_nothing(ann, frame, code):
    socket, _ = await open_socket(ann, "lobby")
    await socket.send(frame)
    error = await socket.receive_type("error")
    assert error["code"] == code and error["detail"]
    await socket.roundtrip()
    assert await stored_count() == 0
    await socket.close()


async def test_error_frames_carry_the_client_id(ann):
    socket, _ = await open_socket(ann, "lobby")
    await socket.send({"type": "message", "body": " ", "client_id": "c-9"})
    error = await socket.receive_type("error")
    assert error["client_id"] == "c-9"
    await socket.close()


async def test_body_at_the_limit_after_trimming_is_accepted(ann):
    socket, _ = await open_socket(ann, "lobby")
    await socket.send({"type": "message", "body": "  " + "x" * 4000 + "  "})
    frame = await socket.receive_type("message")
    assert len(frame["body"]) == 4000
    await socket.close()


async def test_sending_faster_than_the_bucket_is_rate_limited(ann, fake_clock):
    socket, _ = await open_socket(ann, "lobby")
    for n in range(10):
        await socket.send({"type": "message", "body": f"burst {n}"})
        await socket.receive_type("message")
    await socket.send({"type": "message", "body": "one too many", "client_id": "c-x"})
    error = await socket.receive_type("error")
    assert error["code"] == "rate_limited"
    assert error["client_id"] == "c-x"
    assert 0 < error["retry_after"] <= 0.5
    assert await stored_count() == 10
    fake_clock.advance(0.5)
    await socket.send({"type": "message", "body": "refilled"})
    assert (await socket.receive_type("message"))["seq"] == 11
    await socket.close()


async def test_frame_over_the_limit_closes_the_socket_and_stores_nothing(ann):
    socket, _ = await open_socket(ann, "lobby")
    await socket.send({"type": "message", "body": "x" * (64 * 1024)})
    _, code = await socket.receive_close()
    assert code == 1009
    assert await stored_count() == 0


async def test_binary_frames_that_are_not_utf8_get_bad_json(ann):
    socket, _ = await open_socket(ann, "lobby")
    await socket.send_bytes(b"\xff\xfe\x00")
    assert (await socket.receive_type("error"))["code"] == "bad_json"
    await socket.roundtrip()
    await socket.close()
