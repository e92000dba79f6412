"""Hostile input: every field with every wrong type, and arbitrary JSON, never breaks the chat."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.models import Message, Room
from chat.tests.factories import MessageFactory, RoomFactory
from tests.support.unit import open_socket

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async

ERROR_CODES = {
    "bad_json",
    "bad_request",
    "empty",
    "too_long",
    "rate_limited",
    "muted",
    "room_locked",
    "not_found",
    "forbidden",
}

# JSON texts of wrong values; 1e309 is written raw because it is infinity once parsed.
WRONG_VALUES = {
    "null": "null",
    "true": "true",
    "array": "[1]",
    "object": '{"a": 1}',
    "sql": '"1; drop table chat_message"',
    "negative": "-5",
    "float": "1.5",
    "huge": "1e309",
    "bignum": "9" * 40,
    "string": '"12"',
}

# (frame type, field, other fields, values that are legitimately accepted for that field)
FIELDS = [
    ("message", "body", {}, {"sql", "string"}),
    ("message", "client_id", {"body": "hi"}, {"null", "sql", "string"}),
    ("history", "before", {}, {"null"}),
    ("history", "after", {}, {"null"}),
    ("history", "limit", {}, set()),
    ("edit", "id", {"body": "x"}, set()),
    ("edit", "body", {"id": 1}, {"sql", "string"}),
    ("delete", "id", {}, set()),
    ("ping", "type", {}, set()),
]

CASES = [
    pytest.param(kind, field, others, name, id=f"{kind}.{field}={name}")
    for kind, field, others, accepted in FIELDS
    for name in WRONG_VALUES
    if name not in accepted
]


def raw_frame(kind: str, field: str, others: dict, value_json: str) -> str:
    frame = {"type": kind, **others}
    frame.pop(field, None)
    body = json.dumps(frame)[:-1]
    return f'{body}, "{field}": {value_json}}}' if field != "type" else f'{{"type": {value_json}}}'


@pytest.mark.parametrize(("kind", "field", "others", "name"), CASES)
async def test_every_field_with_every_wrong_type_gets_an_error(ann, kind, field, others, name):
    room = await db(RoomFactory)(name="lobby")
    mine = await db(MessageFactory)(room=room, user=ann, body="untouched")
    socket, _ = await open_socket(ann, "lobby")
    await socket.send(raw_frame(kind, field, others, WRONG_VALUES[name]))
    error = await socket.receive_type("error")
    assert error["code"] == "bad_request", error
    assert (await socket.roundtrip())["type"] == "pong"
    stored = await db(list)(Message.objects.values_list("id", "body", "deleted"))
    assert stored == [(mine.id, "untouched", None)]
    await socket.close()


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000 + "]" * 5000,
        '{"type": "message", "body": ' + "[" * 100 + "]" * 100 + "}",
        '{"type": "message", "body": NaN}',
        '{"type": "message", "body": Infinity}',
        " ",
        "\x00",
    ],
    ids=["deep-array", "deep-body", "nan", "infinity", "blank-frame", "nul"],
)
async def test_malformed_json_gets_bad_json_or_bad_request(ann, text):
    socket, _ = await open_socket(ann, "lobby")
    await socket.send(text)
    error = await socket.receive_type("error")
    assert error["code"] in {"bad_json", "bad_request"}
    assert (await socket.roundtrip())["type"] == "pong"
    assert not await db(Message.objects.exists)()
    await socket.close()


async def test_valid_binary_json_is_understood(ann):
    socket, _ = await open_socket(ann, "lobby")
    await socket.send_bytes(json.dumps({"type": "ping"}).encode())
    assert (await socket.receive_type("pong"))["type"] == "pong"
    await socket.close()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
frames = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["message", "history", "typing", "ping", "edit", "delete"])},
        optional={
            "body": json_values,
            "client_id": json_values,
            "id": json_values,
            "before": json_values,
            "after": json_values,
            "limit": json_values,
        },
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames)
def test_arbitrary_json_never_breaks_the_socket_or_the_data(frame):
    async_to_sync(_throw)(frame)


async def _throw(frame) -> None:
    # Each example is a fresh visit: no rate limit carried over from the last one.
    await db(cache.clear)()
    # get_or_create, not the factory: re-saving the password would end the session.
    ann = await db(lambda: get_user_model().objects.get_or_create(username="fuzz")[0])()
    before = await db(lambda: (Message.objects.count(), Room.objects.count()))()
    socket, hello = await open_socket(ann, "lobby")
    assert hello["type"] == "hello"
    await socket.send(json.dumps(frame))
    await socket.send({"type": "ping"})
    while True:
        reply = await socket.receive()
        if reply["type"] == "pong":
            break
        if reply["type"] == "error":
            assert reply["code"] in ERROR_CODES
    messages, rooms = await db(lambda: (Message.objects.count(), Room.objects.count()))()
    is_send = isinstance(frame, dict) and frame.get("type") == "message"
    assert rooms == max(before[1], 1)
    assert messages - before[0] in ({0, 1} if is_send else {0})
    if messages > before[0]:
        stored = await db(Message.objects.latest)("id")
        assert isinstance(frame["body"], str) and stored.body and len(stored.body) <= 4000
    await socket.close()
