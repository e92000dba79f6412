"""A non-member gets nothing from a private room anywhere (SPEC §12): every URL pattern and every
client frame type answers as for a room (or message) that does not exist, and changes nothing.

The lists are enumerated from the URL resolver and protocol.CLIENT_FRAME_TYPES, so a new URL or
frame type fails here until it is listed with how it is checked.
"""

import json
import re

import pytest
from channels.db import database_sync_to_async
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Block
from accounts.tests.factories import UserFactory
from chat import protocol
from chat.models import Ban, Membership, Message, Mute, Reaction, Report, Room
from chat.routing import websocket_urlpatterns
from chat.tests.factories import MessageFactory, RoomFactory, private_room
from tests.support.unit import open_socket

# Never a room: a dm- name nobody has.
MISSING = "dm-0-0"
SECRET_BODY = "the secret plan"

# URL patterns that take no room name, and why a private room cannot leak through them.
NO_ROOM = {
    "": "redirect to the lobby",
    "healthz": "no room data",
    "admin/": "staff with model permissions only (tested in test_moderation)",
    "accounts/preferences/": "the user's own blocks",
    "accounts/": "allauth",
    "chat/": "the lobby: listed rooms only (test_private_rooms)",
    "chat/new/": "creates; a taken name is refused alike for every kind (test_room_creation)",
    "chat/join/<str:token>/": "a signed token names the room (test_members)",
    "chat/@<str:username>/": "names a user, not a room (test_direct)",
    "chat/search/": "chat.access.readable_rooms (search's tests; and below)",
    "api/search/": "chat.access.readable_rooms (search's tests; and below)",
    "api/rooms/": "the user's own memberships only (selectors.rooms_for; test_unread)",
    "accounts/unsubscribe/<str:token>/": "a signed token names a user, not a room",
}


def patterns(resolvers=None, prefix: str = "") -> list[str]:
    """Every URL route of the project, as written (include()s flattened)."""
    found = []
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route == "admin/":
                found.append(route)
                continue
            if route == "accounts/" and "allauth" in str(entry.urlconf_name):
                found.append(route)
                continue
            found.extend(patterns(entry.url_patterns, route))
        elif isinstance(entry, URLPattern):
            found.append(route)
    return found


def room_routes() -> list[str]:
    routes = [route for route in patterns() if route not in NO_ROOM]
    unexplained = [route for route in routes if not re.search(r"<(mixed_case_)?room:name>", route)]
    assert not unexplained, f"say how these URLs keep private rooms private: {unexplained}"
    return routes


def state() -> tuple:
    """Everything a request could change, counted."""
    models = (Room, Membership, Message, Ban, Mute, Report, Reaction, LogEntry, Block)
    rooms = tuple(Room.objects.values_list("name", "title", "topic", "locked", "slow_mode_seconds"))
    return (*(model.objects.count() for model in models), rooms)


def without_tokens(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


@pytest.fixture
def setting(db):
    owner = UserFactory(username="owner")
    member = UserFactory(username="member")
    outsider = UserFactory(username="outsider")
    room = private_room(owner, member, name="secret")
    message = MessageFactory(room=room, user=member, body=SECRET_BODY)
    return {"outsider": outsider, "room": room, "message": message}


FIELDS = {
    "username": "member",
    "action": "ban",
    "minutes": "",
    "seconds": "5",
    "value": "x",
}


@pytest.mark.django_db
def test_every_room_url_answers_a_non_member_as_for_a_missing_room(setting):
    client = Client()
    client.force_login(setting["outsider"])
    routes = room_routes()
    assert len(routes) >= 9
    before = state()
    for route in routes:
        for case in (str.lower, str.upper):
            hidden = re.sub(r"<[^>]+>", case("secret"), route)
            missing = re.sub(r"<[^>]+>", case(MISSING), route)
            for method in ("get", "post"):
                for headers in ({}, {"accept": "application/json"}):
                    answers = [
                        getattr(client, method)(f"/{path}", FIELDS, headers=headers)
                        for path in (hidden, missing)
                    ]
                    where = f"{method.upper()} /{hidden} {headers}"
                    assert answers[0].status_code == answers[1].status_code, where
                    assert answers[0].status_code in (302, 404, 405), where
                    if answers[0].status_code == 302:
                        location = answers[0].headers["Location"]
                        assert location == answers[1].headers["Location"].replace(
                            MISSING, "secret"
                        ), where
                        assert client.get(location).status_code == 404, where
                    contents = [without_tokens(answer.content) for answer in answers]
                    assert contents[0] == contents[1].replace(
                        case(MISSING).encode(), case("secret").encode()
                    ), where
                    assert SECRET_BODY.encode() not in contents[0]
    assert state() == before


@pytest.mark.django_db(transaction=True)
async def test_the_socket_of_a_private_room_is_refused_like_a_missing_one(setting):
    assert [str(route.pattern) for route in websocket_urlpatterns] == ["ws/chat/<room:room>/", ""]
    before = await database_sync_to_async(state)()
    for name in ("secret", MISSING):
        socket, hello = await open_socket(setting["outsider"], name)
        assert not socket.accepted and hello is None
    assert await database_sync_to_async(state)() == before


def frame_for(kind: str, message_id: int) -> dict | None:
    """A frame of each client type aimed at a message id (None: the type takes no id)."""
    frames = {
        "message": {"body": "hi", "reply_to": message_id, "client_id": f"c{message_id}"},
        "history": {"around": message_id, "limit": 5},
        "typing": None,
        "ping": None,
        "edit": {"id": message_id, "body": "changed"},
        "delete": {"id": message_id},
        "react": {"id": message_id, "emoji": "👍"},
        "unreact": {"id": message_id, "emoji": "👍"},
        "report": {"id": message_id, "reason": "spam"},
        # A read position in the socket's own room: a seq names no other room's message.
        "read": {"seq": message_id},
    }
    assert set(frames) == protocol.CLIENT_FRAME_TYPES, "say how a new frame type is checked"
    fields = frames[kind]
    return None if fields is None else {"type": kind, "request_id": "q", **fields}


def answer_without_ids(frame: dict, message_id: int) -> dict:
    text = json.dumps(frame).replace(f'"c{message_id}"', '"c"')
    return json.loads(text)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", sorted(protocol.CLIENT_FRAME_TYPES))
async def test_every_frame_type_answers_about_a_private_message_as_about_a_missing_one(
    setting, kind
):
    await database_sync_to_async(RoomFactory)(name="lobby")
    secret_id = setting["message"].id
    missing_id = secret_id + 10_000
    socket, _ = await open_socket(setting["outsider"], "lobby")
    answers = []
    for message_id in (secret_id, missing_id):
        frame = frame_for(kind, message_id) or {"type": kind, "request_id": "q"}
        await socket.send(frame)
        if kind in ("typing", "read"):
            await socket.roundtrip()
            continue
        while True:
            answer = await socket.receive()
            if answer.get("request_id") == "q":
                break
        assert SECRET_BODY not in json.dumps(answer)
        answers.append(answer_without_ids(answer, message_id))
    if answers and kind != "history":
        assert answers[0] == answers[1], kind
    if kind == "history":
        assert all(not answer["messages"] for answer in answers)
    message = await database_sync_to_async(Message.objects.get)(pk=secret_id)
    assert (message.body, message.deleted) == (SECRET_BODY, None)
    assert not await database_sync_to_async(Reaction.objects.exists)()
    assert not await database_sync_to_async(Report.objects.exists)()
    await socket.close()


@pytest.mark.django_db
def test_search_finds_nothing_of_a_private_room_for_a_non_member(setting):
    client = Client()
    client.force_login(setting["outsider"])
    answer = client.get("/api/search/", {"q": "secret plan"})
    assert answer.status_code == 200 and answer.json()["results"] == []
    page = client.get("/chat/search/", {"q": "secret plan in:secret"})
    assert SECRET_BODY.encode() not in page.content
