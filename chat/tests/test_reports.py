"""Reports (SPEC §12): `report` answered `reported`, live `report` frames to the room's moderators,
settled from the admin through the services, the reporter told the outcome."""

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib.admin.models import LogEntry
from django.test import Client

from accounts.tests.factories import UserFactory
from chat.models import Ban, Membership, Message, Mute, Report
from chat.tests.factories import MembershipFactory, MessageFactory, RoomFactory, private_room
from tests.support.unit import open_socket

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
def carol():
    return UserFactory(username="carol")


async def report(socket, message_id, reason="spam", request_id="r1") -> dict:
    await socket.send(
        {"type": "report", "id": message_id, "reason": reason, "request_id": request_id}
    )
    while True:
        # The answer to this request, past any presence broadcast.
        frame = await socket.receive()
        if frame.get("request_id") == request_id:
            return frame


async def frame_types_so_far(socket) -> list[str]:
    """The types of the frames a socket has been sent and not yet read."""
    types = []
    while not await socket.nothing_more():
        types.append((await socket.receive())["type"])
    return types


async def test_a_report_is_answered_reported_and_stored(ann, bob, lobby):
    message = await db(MessageFactory)(room=lobby, user=bob, body="buy now")
    socket, _ = await open_socket(ann, "lobby")
    answer = await report(socket, message.id, "  spam link  ")
    assert answer == {"type": "reported", "id": message.id, "request_id": "r1"}
    stored = await db(Report.objects.get)()
    assert (stored.reporter_id, stored.message_id) == (ann.id, message.id)
    assert stored.reason == "spam link"
    await socket.close()


async def test_a_repeat_changes_nothing_and_is_answered_the_same(ann, bob, lobby):
    message = await db(MessageFactory)(room=lobby, user=bob)
    socket, _ = await open_socket(ann, "lobby")
    first = await report(socket, message.id, "spam")
    second = await report(socket, message.id, "a different reason")
    assert first == second
    assert await db(Report.objects.count)() == 1
    assert (await db(Report.objects.get)()).reason == "spam"
    await socket.close()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "report", "id": 1},
        {"type": "report", "id": 1, "reason": ""},
        {"type": "report", "id": 1, "reason": "   "},
        {"type": "report", "id": 1, "reason": "x" * 501},
        {"type": "report", "id": 1, "reason": 5},
        {"type": "report", "id": "1", "reason": "spam"},
        {"type": "report", "id": True, "reason": "spam"},
        {"type": "report", "reason": "spam"},
    ],
)
async def test_malformed_reports_are_bad_requests(ann, lobby, frame):
    await db(MessageFactory)(room=lobby, user=ann)
    socket, _ = await open_socket(ann, "lobby")
    await socket.send(frame)
    assert (await socket.receive_type("error"))["code"] == "bad_request"
    assert not await db(Report.objects.exists)()
    await socket.close()


async def test_a_report_of_a_message_elsewhere_or_deleted_is_not_found(ann, bob, lobby):
    elsewhere = await db(MessageFactory)(room=await db(RoomFactory)(name="other"), user=bob)
    deleted = await db(MessageFactory)(room=lobby, user=bob)
    await db(Message.objects.filter(pk=deleted.pk).update)(deleted=deleted.created)
    socket, _ = await open_socket(ann, "lobby")
    for message_id in (elsewhere.id, deleted.id, 10**12):
        answer = await report(socket, message_id)
        assert answer["type"] == "error" and answer["code"] == "not_found"
    assert not await db(Report.objects.exists)()
    await socket.close()


async def test_room_moderators_and_the_moderators_group_hear_of_a_report_live(ann, bob, carol, mod):
    room = await db(private_room)(ann, bob, carol, name="secret")
    await db(Membership.objects.filter(room=room, user=carol).update)(role="moderator")
    message = await db(MessageFactory)(room=room, user=bob, body="rude")
    owner, _ = await open_socket(ann, "secret")
    moderator, _ = await open_socket(carol, "lobby")  # a room moderator, in another room
    site, _ = await open_socket(mod, "elsewhere")
    reporter_other, _ = await open_socket(bob, "lobby")
    reporter, _ = await open_socket(bob, "secret")
    assert (await report(reporter, message.id, "rude"))["type"] == "reported"
    for socket in (owner, moderator, site):
        frame = await socket.receive_type("report")
        assert frame["room"] == "secret" and frame["reason"] == "rude"
        assert frame["message"]["id"] == message.id and frame["reporter"]["username"] == "bob"
    assert "report" not in await frame_types_so_far(reporter_other)
    for socket in (owner, moderator, site, reporter_other, reporter):
        await socket.close()


async def test_a_plain_member_and_staff_outside_the_group_hear_nothing(ann, bob, lobby):
    staff = await db(UserFactory)(username="staff", is_staff=True)
    message = await db(MessageFactory)(room=lobby, user=bob)
    await db(MembershipFactory)(user=staff, room=lobby)
    watcher, _ = await open_socket(staff, "lobby")
    socket, _ = await open_socket(ann, "lobby")
    await report(socket, message.id)
    assert "report" not in await frame_types_so_far(watcher)
    await socket.close()
    await watcher.close()


# Settling reports from the admin -------------------------------------------------------


async def admin_action(user, action: str, reports: list[Report]):
    client = Client()
    await sync_to_async(client.force_login)(user)
    response = await sync_to_async(client.post)(
        "/admin/chat/report/",
        {"action": action, "_selected_action": [r.pk for r in reports]},
    )
    assert response.status_code == 302, response.content[:500]


@pytest.mark.parametrize(
    ("action", "outcome"),
    [
        ("delete_messages", "deleted"),
        ("mute_authors", "muted"),
        ("ban_authors", "banned"),
        ("dismiss", "dismissed"),
    ],
)
async def test_admin_actions_settle_reports_and_tell_the_reporter(
    ann, bob, mod, lobby, action, outcome
):
    message = await db(MessageFactory)(room=lobby, user=bob)
    stored = await db(Report.objects.create)(message=message, reporter=ann, reason="spam")
    socket, _ = await open_socket(ann, "lobby")
    await admin_action(mod, action, [stored])
    told = await socket.receive_type("report_resolved")
    assert told == {"type": "report_resolved", "id": message.id, "outcome": outcome}
    await db(stored.refresh_from_db)()
    assert stored.outcome == outcome and stored.resolved_by_id == mod.id
    deleted = await db(Message.objects.filter(pk=message.pk, deleted__isnull=False).exists)()
    assert deleted == (outcome == "deleted")
    muted = await db(Mute.objects.filter(user=bob, room=lobby).exists)()
    banned = await db(Ban.objects.filter(user=bob, room=lobby).exists)()
    assert (muted, banned) == (outcome == "muted", outcome == "banned")
    assert await db(LogEntry.objects.filter(user=mod, object_id=str(stored.pk)).exists)()
    await socket.close()


async def test_settled_reports_are_not_settled_again(ann, bob, mod, lobby):
    message = await db(MessageFactory)(room=lobby, user=bob)
    stored = await db(Report.objects.create)(message=message, reporter=ann, reason="spam")
    await admin_action(mod, "dismiss", [stored])
    await admin_action(mod, "ban_authors", [stored])
    assert not await db(Ban.objects.exists)()
    await db(stored.refresh_from_db)()
    assert stored.outcome == "dismissed"


async def test_several_reports_of_one_message_ban_its_author_once(ann, bob, carol, mod, lobby):
    message = await db(MessageFactory)(room=lobby, user=bob)
    first = await db(Report.objects.create)(message=message, reporter=ann, reason="spam")
    second = await db(Report.objects.create)(message=message, reporter=carol, reason="rude")
    await admin_action(mod, "ban_authors", [first, second])
    assert await db(Ban.objects.count)() == 1


async def test_staff_outside_the_group_cannot_see_reports(bob):
    staff = await db(UserFactory)(username="staff", is_staff=True)
    client = Client()
    await sync_to_async(client.force_login)(staff)
    assert (await sync_to_async(client.get)("/admin/chat/report/")).status_code == 403
