"""Moderation from the admin, seen live on sockets (SPEC §5); edit and delete (docs/protocol.md)."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.test import Client

from accounts.tests.factories import ModeratorFactory, UserFactory
from chat.models import Message, Mute, Room
from chat.tests.factories import MessageFactory, RoomFactory
from jabber import clock
from tests.support.unit import open_socket

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def admin_client(user) -> Client:
    client = Client()
    await sync_to_async(client.force_login)(user)
    return client


async def admin_post(user, path: str, data: dict):
    client = await admin_client(user)
    response = await sync_to_async(client.post)(path, data)
    assert response.status_code in (200, 302), response.content[:500]
    return response


# Deleting messages -----------------------------------------------------------


async def test_admin_delete_reaches_live_clients_and_hides_the_message_everywhere(
    ann, bob, mod, lobby
):
    message = await db(MessageFactory)(room=lobby, user=bob, body="spam spam")
    a, hello = await open_socket(ann, "lobby")
    assert [m["id"] for m in hello["messages"]] == [message.id]
    await admin_post(
        mod,
        "/admin/chat/message/",
        {"action": "hide_messages", "_selected_action": [message.id]},
    )
    assert await a.receive_type("message_deleted") == {"type": "message_deleted", "id": message.id}
    await a.send({"type": "history"})
    assert (await a.receive_type("history"))["messages"] == []
    again, hello = await open_socket(ann, "lobby")
    assert hello["messages"] == []
    page = await sync_to_async((await admin_client(ann)).get)("/chat/lobby/")
    assert b"spam spam" not in page.content
    stored = await db(Message.objects.get)(pk=message.pk)
    assert stored.deleted is not None and stored.deleted_by_id == mod.id
    entry = await db(LogEntry.objects.filter(user=mod, object_id=str(message.pk)).exists)()
    assert entry
    await a.close()
    await again.close()


async def test_admin_offers_no_hard_delete(mod, lobby):
    await db(MessageFactory)(room=lobby)
    client = await admin_client(mod)
    page = await sync_to_async(client.get)("/admin/chat/message/")
    assert b"hide_messages" in page.content
    assert b"delete_selected" not in page.content


async def test_delete_own_message_is_broadcast(ann, bob):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    await a.send({"type": "message", "body": "oops"})
    sent = await a.receive_type("message")
    await a.send({"type": "delete", "id": sent["id"]})
    assert (await b.receive_type("message_deleted"))["id"] == sent["id"]
    assert (await a.receive_type("message_deleted"))["id"] == sent["id"]
    await a.close()
    await b.close()


async def test_deleting_someone_elses_message_is_forbidden(ann, bob, lobby):
    message = await db(MessageFactory)(room=lobby, user=bob)
    a, _ = await open_socket(ann, "lobby")
    await a.send({"type": "delete", "id": message.id})
    assert (await a.receive_type("error"))["code"] == "forbidden"
    assert (await db(Message.objects.get)(pk=message.pk)).deleted is None
    await a.close()


async def test_moderator_may_delete_anyones_message_over_the_socket(mod, bob, lobby):
    message = await db(MessageFactory)(room=lobby, user=bob)
    m, _ = await open_socket(mod, "lobby")
    await m.send({"type": "delete", "id": message.id})
    assert (await m.receive_type("message_deleted"))["id"] == message.id
    await m.close()


async def test_deleting_a_message_of_another_room_is_not_found(ann):
    other = await db(RoomFactory)(name="other")
    message = await db(MessageFactory)(room=other, user=ann)
    a, _ = await open_socket(ann, "lobby")
    await a.send({"type": "delete", "id": message.id})
    assert (await a.receive_type("error"))["code"] == "not_found"
    await a.send({"type": "delete", "id": 999999})
    assert (await a.receive_type("error"))["code"] == "not_found"
    await a.close()


# Editing ---------------------------------------------------------------------


async def test_edit_own_message_broadcasts_the_whole_message(ann, bob):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    await a.send({"type": "message", "body": "teh typo"})
    sent = await b.receive_type("message")
    await a.send({"type": "edit", "id": sent["id"], "body": "the typo"})
    edited = (await b.receive_type("message_edited"))["message"]
    assert edited["id"] == sent["id"] and edited["seq"] == sent["seq"]
    assert edited["body"] == "the typo" and edited["edited"] is not None
    await a.close()
    await b.close()


async def test_editing_someone_elses_message_is_forbidden_even_for_moderators(mod, bob, lobby):
    message = await db(MessageFactory)(room=lobby, user=bob, body="mine")
    m, _ = await open_socket(mod, "lobby")
    await m.send({"type": "edit", "id": message.id, "body": "yours now"})
    assert (await m.receive_type("error"))["code"] == "forbidden"
    assert (await db(Message.objects.get)(pk=message.pk)).body == "mine"
    await m.close()


@pytest.mark.parametrize(("body", "code"), [("  ", "empty"), ("x" * 4001, "too_long")])
async def test_edits_obey_the_same_validation_as_sends(ann, lobby, body, code):
    message = await db(MessageFactory)(room=lobby, user=ann, body="before")
    a, _ = await open_socket(ann, "lobby")
    await a.send({"type": "edit", "id": message.id, "body": body})
    assert (await a.receive_type("error"))["code"] == code
    assert (await db(Message.objects.get)(pk=message.pk)).body == "before"
    await a.close()


# Bans ------------------------------------------------------------------------


async def test_admin_ban_closes_live_sockets_with_4403_and_refuses_reconnects(
    ann, bob, mod, lobby, fake_clock
):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    expires = clock.utcnow() + timedelta(hours=1)
    await admin_post(
        mod,
        "/admin/chat/ban/add/",
        {
            "user": ann.id,
            "room": lobby.id,
            "expires_0": expires.strftime("%Y-%m-%d"),
            "expires_1": expires.strftime("%H:%M:%S"),
            "reason": "flooding",
        },
    )
    frames, code = await a.receive_close()
    assert code == 4403
    assert frames[-1]["code"] == "banned" and "flooding" in frames[-1]["detail"]
    await b.receive_type("presence", online=[{"id": bob.id, "username": "bob"}])

    again, hello = await open_socket(ann, "lobby")
    assert again.accepted and hello["type"] == "error" and hello["code"] == "banned"
    _, code = await again.receive_close()
    assert code == 4403
    page = await sync_to_async((await admin_client(ann)).get)("/chat/lobby/")
    assert page.status_code == 403

    fake_clock.advance(3601)
    later, hello = await open_socket(ann, "lobby")
    assert hello["type"] == "hello"
    await later.close()
    await b.close()
    assert await db(LogEntry.objects.filter(user=mod).exists)()


async def test_ban_in_one_room_leaves_other_rooms_open(ann, mod, lobby):
    elsewhere, _ = await open_socket(ann, "elsewhere")
    here, _ = await open_socket(ann, "lobby")
    from chat import services

    await db(services.ban_user)(actor=mod, user=ann, room=lobby, reason="")
    _, code = await here.receive_close()
    assert code == 4403
    assert (await elsewhere.roundtrip())["type"] == "pong"
    await elsewhere.close()


async def test_ban_from_every_room_closes_every_socket(ann, mod):
    first, _ = await open_socket(ann, "lobby")
    second, _ = await open_socket(ann, "elsewhere")
    from chat import services

    await db(services.ban_user)(actor=mod, user=ann, room=None, reason="spam bot")
    assert (await first.receive_close())[1] == 4403
    assert (await second.receive_close())[1] == 4403
    _, hello = await open_socket(ann, "third-room")
    assert hello["code"] == "banned"


# Mutes, locks, slow mode -----------------------------------------------------


async def test_muted_user_reads_but_cannot_send(ann, bob, mod, lobby):
    a, _ = await open_socket(ann, "lobby")
    await admin_post(
        mod, "/admin/chat/mute/add/", {"user": ann.id, "room": lobby.id, "reason": "cool off"}
    )
    await a.send({"type": "message", "body": "can I talk?", "client_id": "c-1"})
    error = await a.receive_type("error")
    assert error["code"] == "muted" and error["client_id"] == "c-1"
    b, _ = await open_socket(bob, "lobby")
    await b.send({"type": "message", "body": "ann can read this"})
    await a.receive_type("message", body="ann can read this")
    assert await db(Message.objects.count)() == 1
    assert await db(Mute.objects.filter(created_by=mod).exists)()
    await a.close()
    await b.close()


async def test_locked_room_refuses_sends_until_unlocked(ann, mod, lobby):
    a, _ = await open_socket(ann, "lobby")
    await admin_post(
        mod, "/admin/chat/room/", {"action": "lock_rooms", "_selected_action": [lobby.id]}
    )
    await a.send({"type": "message", "body": "hello?"})
    assert (await a.receive_type("error"))["code"] == "room_locked"
    await admin_post(
        mod, "/admin/chat/room/", {"action": "unlock_rooms", "_selected_action": [lobby.id]}
    )
    await a.send({"type": "message", "body": "hello!"})
    assert (await a.receive_type("message"))["body"] == "hello!"
    await a.close()


async def test_slow_mode_limits_each_user_and_exempts_moderators(ann, bob, mod, lobby, fake_clock):
    await db(Room.objects.filter(pk=lobby.pk).update)(slow_mode_seconds=30)
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    m, _ = await open_socket(mod, "lobby")
    await a.send({"type": "message", "body": "first"})
    await a.receive_type("message")
    fake_clock.advance(10)
    await a.send({"type": "message", "body": "too soon"})
    error = await a.receive_type("error")
    assert error["code"] == "rate_limited" and 19 <= error["retry_after"] <= 20
    await b.send({"type": "message", "body": "bob is his own clock"})
    await b.receive_type("message", body="bob is his own clock")
    for n in range(2):
        await m.send({"type": "message", "body": f"mod {n}"})
        await m.receive_type("message", body=f"mod {n}")
    fake_clock.advance(20)
    await a.send({"type": "message", "body": "patient"})
    await a.receive_type("message", body="patient")
    for socket in (a, b, m):
        await socket.close()


async def test_room_title_and_topic_are_edited_in_the_admin_and_shown(ann, mod, lobby):
    await admin_post(
        mod,
        f"/admin/chat/room/{lobby.id}/change/",
        {"title": "The Lobby", "topic": "Say hi", "slow_mode_seconds": 0},
    )
    page = await sync_to_async((await admin_client(ann)).get)("/chat/lobby/")
    assert b"The Lobby" in page.content and b"Say hi" in page.content


# The Moderators group --------------------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_moderators_group_holds_exactly_the_moderation_permissions():
    # Made by the data migration (a non-transactional test sees migrated data).
    group = Group.objects.get(name="Moderators")
    codenames = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert codenames == {
        ("chat", "moderate_room"),
        ("chat", "view_room"),
        ("chat", "change_room"),
        ("chat", "view_message"),
        ("chat", "change_message"),
        ("chat", "view_ban"),
        ("chat", "add_ban"),
        ("chat", "change_ban"),
        ("chat", "delete_ban"),
        ("chat", "view_mute"),
        ("chat", "add_mute"),
        ("chat", "change_mute"),
        ("chat", "delete_mute"),
        ("chat", "view_report"),
        ("chat", "change_report"),
        ("presence", "view_connection"),
        ("auth", "view_user"),
    }


@pytest.mark.django_db
def test_the_room_list_shows_and_filters_each_rooms_kind(mod, ann, bob):
    from chat.tests.factories import private_room

    RoomFactory(name="open")
    private_room(ann, bob, name="hideout")
    client = Client()
    client.force_login(mod)
    listing = client.get("/admin/chat/room/")
    assert [(room.name, room.kind) for room in listing.context["cl"].result_list] == [
        ("hideout", "private"),
        ("open", "public"),
    ]
    assert b'<td class="field-kind">Private: members only</td>' in listing.content
    private = client.get("/admin/chat/room/", {"kind__exact": "private"})
    assert [room.name for room in private.context["cl"].result_list] == ["hideout"]


def test_staff_outside_the_group_cannot_moderate():
    from chat import services

    staff = UserFactory(is_staff=True)
    moderator = ModeratorFactory()
    assert not services.is_moderator(staff)
    assert services.is_moderator(moderator)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/chat/ban/").status_code == 403
    client.force_login(moderator)
    assert client.get("/admin/chat/ban/").status_code == 200
    # They may look users up (the ban form's autocomplete), not change them.
    assert client.get("/admin/auth/user/").status_code == 200
    assert client.get("/admin/auth/user/add/").status_code == 403
