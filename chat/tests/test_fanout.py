"""The per-process hub: every local socket gets every frame once, in order; leavers get none."""

import asyncio
import json

import pytest
from channels.layers import get_channel_layer

from chat import protocol, transport
from chat.realtime.announcer import PresenceAnnouncer
from chat.realtime.hub import Hub
from jabber import events
from jabber.groups import room_group, user_group
from presence import services as presence


class Recorder:
    def __init__(self, user_id: int, fail: bool = False) -> None:
        self.user_id = user_id
        self.fail = fail
        self.frames: list[str] = []
        self.closes: list[dict] = []

    async def deliver(self, text: str, wire: bytes) -> None:
        if self.fail:
            raise ConnectionError("socket went away")
        assert wire == transport.encode_wire(text)
        self.frames.append(text)

    async def close_by_event(self, event: events.CloseSockets) -> None:
        self.closes.append(event)


def frame(room_id: int, seq: int, **fields) -> events.RoomFrame:
    return events.RoomFrame(room=room_id, text=f'{{"seq":{seq}}}', **fields)


@pytest.fixture
async def hub():
    layer = get_channel_layer()
    return Hub(layer, await layer.new_channel())


async def test_every_local_socket_gets_every_frame_once_in_order(hub):
    members = [Recorder(user_id) for user_id in range(5)]
    for index, member in enumerate(members):
        await hub.join(f"k{index}", member, [room_group(7)])
    for seq in range(1, 21):
        await hub.dispatch(frame(7, seq))
    expected = [f'{{"seq":{seq}}}' for seq in range(1, 21)]
    assert all(member.frames == expected for member in members)


async def test_a_socket_that_leaves_stops_receiving(hub):
    stays, leaves = Recorder(1), Recorder(2)
    await hub.join("a", stays, [room_group(7)])
    await hub.join("b", leaves, [room_group(7)])
    await hub.dispatch(frame(7, 1))
    await hub.leave("b", [room_group(7)])
    await hub.dispatch(frame(7, 2))
    assert len(stays.frames) == 2 and len(leaves.frames) == 1


async def test_frames_stay_in_their_room(hub):
    here, there = Recorder(1), Recorder(2)
    await hub.join("a", here, [room_group(7)])
    await hub.join("b", there, [room_group(8)])
    await hub.dispatch(frame(7, 1))
    assert here.frames and not there.frames


async def test_one_failing_socket_does_not_cost_the_others_the_frame(hub):
    broken, fine = Recorder(1, fail=True), Recorder(2)
    await hub.join("a", broken, [room_group(7)])
    await hub.join("b", fine, [room_group(7)])
    await hub.dispatch(frame(7, 1))
    assert fine.frames == ['{"seq":1}']


async def test_except_user_skips_that_persons_sockets(hub):
    ann, bob = Recorder(1), Recorder(2)
    await hub.join("a", ann, [room_group(7)])
    await hub.join("b", bob, [room_group(7)])
    await hub.dispatch(frame(7, 1, except_user=1))
    assert not ann.frames and bob.frames


async def test_user_events_reach_only_that_users_sockets(hub):
    ann, bob = Recorder(1), Recorder(2)
    await hub.join("a", ann, [room_group(7), user_group(1)])
    await hub.join("b", bob, [room_group(7), user_group(2)])
    await hub.dispatch(events.CloseSockets(target=user_group(1), code=4403))
    assert len(ann.closes) == 1 and not bob.closes


def test_split_to_fit_keeps_order_and_budget():
    payloads = [{"id": n, "body": "x" * 100} for n in range(50)]
    chunks = protocol.split_to_fit(payloads, budget=1000)
    assert [p for chunk in chunks for p in chunk] == payloads
    assert all(len(protocol.encode(chunk).encode()) <= 1000 for chunk in chunks)
    assert protocol.split_to_fit([]) == [[]]


@pytest.fixture
def announcements(monkeypatch, settings, transactional_db):
    """Presence frames the hub publishes, read from a list the test changes."""
    settings.JABBER_PRESENCE_BROADCAST_INTERVAL = 0.05
    state = {"online": [], "sent": [], "arrived": asyncio.Event()}

    async def publish_async(*sent):
        for event in sent:
            names = [user["username"] for user in json.loads(event.text)["online"]]
            state["sent"].append((event.room, names))
        state["arrived"].set()

    monkeypatch.setattr(events, "publish_async", publish_async)
    monkeypatch.setattr(presence, "online", lambda room_id: list(state["online"]))
    return state


@pytest.fixture
async def announcer():
    announcer = PresenceAnnouncer(asyncio.get_running_loop())
    yield announcer
    announcer.cancel()


async def test_presence_goes_out_at_once_then_once_per_interval_with_the_latest_list(
    announcer, announcements
):
    announcements["online"] = [{"username": "ann"}]
    await announcer.announce(7)
    assert announcements["sent"] == [(7, ["ann"])], "the first change is announced at once"

    announcements["arrived"].clear()
    for name in ["bob", "cy", "dee"]:
        announcements["online"].append({"username": name})
        await announcer.announce(7)
    assert len(announcements["sent"]) == 1, "changes inside the interval wait for its end"
    await asyncio.wait_for(announcements["arrived"].wait(), 5)
    assert announcements["sent"] == [(7, ["ann"]), (7, ["ann", "bob", "cy", "dee"])]


async def test_presence_throttle_is_per_room(announcer, announcements):
    await announcer.announce(7, [{"username": "ann"}])
    await announcer.announce(8, [{"username": "bob"}])
    assert announcements["sent"] == [(7, ["ann"]), (8, ["bob"])]


@pytest.mark.parametrize("char", ["x", '"', "\\", "\x01", "é", "你", "🎉", "\u2028"])
def test_split_to_fit_bound_is_never_below_the_encoded_size(char):
    payload = {
        "id": 2**63 - 1,
        "seq": 2**63 - 1,
        "room": "r" * 64,
        "user": {"id": 2**63 - 1, "username": "u" * 150},
        "body": char * 4000,
        "created": "2026-11-24T10:00:00.000Z",
        "edited": "2026-11-24T10:00:00.000Z",
        "client_id": "\x01" * 64,
    }
    encoded = len(protocol.encode(payload).encode("utf-8")) + 1
    assert encoded <= len(payload["body"]) * 6 + 2048
    budget = encoded * 3
    assert [len(chunk) for chunk in protocol.split_to_fit([payload] * 7, budget=budget)] == [
        3, 3, 1,
    ]  # fmt: skip
