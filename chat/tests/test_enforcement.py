"""Enforcement that cannot be lost (SPEC §15): every rule re-checked where it bites."""

import threading
from types import SimpleNamespace
from unittest.mock import patch

import pytest
from channels.db import database_sync_to_async
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client, RequestFactory

from chat import services
from chat.admin import RoomAdmin
from chat.models import Ban, Message, Room
from chat.realtime.runtime import get_runtime
from chat.services import messages as messages_service
from chat.tests.factories import MessageFactory
from jabber import clock
from presence import services as presence
from tests.support.unit import login_session, open_socket

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def ban_silently(user, room=None) -> Ban:
    """A ban stored without its closing event: as if the channel layer dropped it."""
    return await db(Ban.objects.create)(user=user, room=room, reason="spam")


async def assert_banned_and_closed(socket) -> None:
    frames, code = await socket.receive_close()
    assert code == 4403
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "banned", frames


# Bans checked in every refusable action -------------------------------------


async def test_a_send_from_a_banned_user_is_refused_though_the_ban_event_was_lost(ann, lobby):
    socket, _ = await open_socket(ann, "lobby")
    await ban_silently(ann, lobby)
    await socket.send({"type": "message", "body": "still here", "client_id": "c1"})
    await assert_banned_and_closed(socket)
    assert not await db(Message.objects.exists)()


async def test_an_edit_from_a_banned_user_is_refused(ann, lobby):
    mine = await db(MessageFactory)(room=lobby, user=ann, body="before")
    socket, _ = await open_socket(ann, "lobby")
    await ban_silently(ann, None)
    await socket.send({"type": "edit", "id": mine.id, "body": "after"})
    await assert_banned_and_closed(socket)
    await db(mine.refresh_from_db)()
    assert mine.body == "before"


async def test_a_delete_from_a_banned_user_is_refused(ann, lobby):
    mine = await db(MessageFactory)(room=lobby, user=ann)
    socket, _ = await open_socket(ann, "lobby")
    await ban_silently(ann, lobby)
    await socket.send({"type": "delete", "id": mine.id})
    await assert_banned_and_closed(socket)
    await db(mine.refresh_from_db)()
    assert mine.deleted is None


async def test_history_for_a_banned_user_is_refused(ann, lobby):
    await db(MessageFactory)(room=lobby, user=ann)
    socket, _ = await open_socket(ann, "lobby")
    await ban_silently(ann, lobby)
    await socket.send({"type": "history", "before": 10**9})
    await assert_banned_and_closed(socket)


async def test_a_ping_rechecks_the_ban(ann, lobby):
    socket, _ = await open_socket(ann, "lobby")
    await ban_silently(ann, lobby)
    await socket.send({"type": "ping"})
    await assert_banned_and_closed(socket)


async def test_a_ping_closes_the_socket_of_a_deactivated_account(ann, lobby):
    socket, _ = await open_socket(ann, "lobby")
    # An update() sends no signal: the closing event never happens.
    await db(get_user_model().objects.filter(pk=ann.pk).update)(is_active=False)
    await socket.send({"type": "ping"})
    _, code = await socket.receive_close()
    assert code == 4401


async def test_a_ping_closes_the_socket_of_a_session_that_no_longer_exists(ann, lobby):
    session_key = await db(login_session)(ann)
    socket, _ = await open_socket(ann, "lobby", session_key=session_key)
    await db(Session.objects.filter(session_key=session_key).delete)()
    await socket.send({"type": "ping"})
    _, code = await socket.receive_close()
    assert code == 4401


async def test_a_ban_saved_between_admission_and_subscription_still_closes_the_socket(
    ann, lobby, monkeypatch
):
    admit_many = services.admit_many

    def admit_then_ban(requests):
        outcomes = admit_many(requests)
        # Published while the socket is in no group yet: no socket can hear it.
        services.ban_user(actor=None, user=ann, room=lobby, reason="spam")
        return outcomes

    monkeypatch.setattr(services, "admit_many", admit_then_ban)
    socket, first = await open_socket(ann, "lobby")
    assert first["type"] == "error" and first["code"] == "banned", first
    _, code = await socket.receive_close()
    assert code == 4403


async def test_a_ban_saved_while_the_hello_is_built_still_closes_the_socket(
    ann, lobby, monkeypatch
):
    open_sockets = services.open_sockets

    def open_then_ban(requests):
        outcomes = open_sockets(requests)
        # The socket is subscribed but not yet accepted when this event arrives.
        services.ban_user(actor=None, user=ann, room=lobby, reason="spam")
        return outcomes

    monkeypatch.setattr(services, "open_sockets", open_then_ban)
    socket, first = await open_socket(ann, "lobby")
    assert first is not None, "the socket was refused at the handshake"
    frames, code = await socket.receive_close()
    assert code == 4403
    assert [first, *frames][-1]["code"] == "banned"
    assert "hello" not in [frame["type"] for frame in [first, *frames]]


# The login session's stored expiry ------------------------------------------


async def test_a_socket_closes_when_its_stored_session_expires(ann, lobby):
    session_key = await db(login_session)(ann)
    expires = clock.utcnow().replace(microsecond=0)
    await db(Session.objects.filter(session_key=session_key).update)(
        expire_date=expires.fromtimestamp(clock.now() + 1.5, tz=expires.tzinfo)
    )
    socket, hello = await open_socket(ann, "lobby", session_key=session_key)
    assert hello["type"] == "hello"
    _, code = await socket.receive_close(timeout=10)
    assert code == 4401


# Silent sockets are closed (4408) -------------------------------------------


async def test_a_socket_silent_for_the_presence_timeout_is_closed_with_4408(
    ann, lobby, settings, fake_clock
):
    settings.JABBER_PRESENCE_PRUNE_INTERVAL = 0.05
    socket, _ = await open_socket(ann, "lobby")
    fake_clock.advance(settings.JABBER_PRESENCE_TIMEOUT + 1)
    _, code = await socket.receive_close()
    assert code == 4408


async def test_a_socket_that_sends_frames_is_not_idle(ann, lobby, settings, fake_clock):
    socket, _ = await open_socket(ann, "lobby")
    fake_clock.advance(settings.JABBER_PRESENCE_TIMEOUT - 5)
    await socket.roundtrip()
    fake_clock.advance(10)
    await get_runtime().close_idle_sockets()
    assert (await socket.roundtrip())["type"] == "pong"
    await socket.close()


# The per-socket frame budget -------------------------------------------------


async def test_frames_over_the_budget_get_rate_limited_then_close_4429(
    ann, lobby, settings, fake_clock
):
    socket, _ = await open_socket(ann, "lobby")
    for _ in range(settings.JABBER_FRAME_BURST):
        await socket.send("{}")
        assert (await socket.receive_type("error"))["code"] == "bad_request"
    await socket.send({"type": "ping"})
    refused = await socket.receive_type("error")
    assert refused["code"] == "rate_limited" and refused["retry_after"] > 0
    await socket.send({"type": "ping"})
    _, code = await socket.receive_close()
    assert code == 4429


async def test_the_frame_budget_refills(ann, lobby, settings, fake_clock):
    socket, _ = await open_socket(ann, "lobby")
    for _ in range(settings.JABBER_FRAME_BURST):
        await socket.send("{}")
        await socket.receive_type("error")
    fake_clock.advance(1)
    assert (await socket.roundtrip())["type"] == "pong"
    await socket.close()


# Resumes -------------------------------------------------------------------------


async def test_a_resume_id_of_non_ascii_digits_is_refused_cleanly(ann, lobby):
    socket, hello = await open_socket(ann, path="/ws/chat/lobby/?after=%C2%B2")
    assert hello is None and not socket.accepted


# Admin edits and numbering -------------------------------------------------------


def save_in_admin(room, **changes) -> None:
    """What the admin's change form does with a room it loaded earlier."""
    for name, value in changes.items():
        setattr(room, name, value)
    form = SimpleNamespace(changed_data=list(changes))
    RoomAdmin(Room, admin.site).save_model(RequestFactory().post("/"), room, form, change=True)


def test_saving_a_room_loaded_before_a_send_keeps_the_numbering(ann, lobby):
    stale = Room.objects.get(pk=lobby.pk)
    services.send_message(user=ann, room=lobby, body="one", client_id="c1")
    save_in_admin(stale, title="Renamed")
    result = services.send_message(user=ann, room=lobby, body="two", client_id="c2")
    assert result.created and result.message.seq == 2
    lobby.refresh_from_db()
    assert (lobby.title, lobby.last_seq) == ("Renamed", 2)


def test_a_room_whose_counter_was_moved_back_still_numbers_new_messages(ann, lobby):
    for number in range(2):
        services.send_message(user=ann, room=lobby, body=f"m{number}", client_id=f"c{number}")
    Room.objects.filter(pk=lobby.pk).update(last_seq=0)
    result = services.send_message(user=ann, room=lobby, body="after", client_id="c9")
    assert result.created and result.message.seq == 3


def test_a_seq_clash_is_never_taken_for_a_resend(ann, bob, lobby):
    services.send_message(user=bob, room=lobby, body="bob's")
    services.send_message(user=ann, room=lobby, body="ann's", client_id="mine")
    stored = Message.objects.get(client_id="mine")
    number = messages_service._number
    calls = []

    def clash_once(stored_now, now):
        # The first try is numbered onto seq 1, taken: a clash on (room, seq).
        calls.append(stored_now)
        if len(calls) == 1:
            for message in stored_now:
                message.seq = 1
            return
        number(stored_now, now)

    with patch.object(messages_service, "_number", clash_once):
        result = services.send_message(user=ann, room=lobby, body="new")
    assert result.created and result.message.body == "new" and result.message.seq == 3
    assert Message.objects.filter(client_id="mine").get() == stored


def test_concurrent_sends_and_admin_saves_never_break_a_room(ann, bob, mod, lobby, settings):
    """Run on PostgreSQL too (make test-prod): there a full save wrote last_seq back."""
    settings.JABBER_RATE_BURST = 1000
    senders, sends_each, saves = [ann, bob], 25, 20
    failures: list[BaseException] = []

    def send_all(user) -> None:
        try:
            for number in range(sends_each):
                services.send_message(
                    user=user, room=lobby, body=f"{number}", client_id=f"{user.pk}-{number}"
                )
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    def save_all() -> None:
        client = Client()
        client.force_login(mod)
        try:
            for number in range(saves):
                response = client.post(
                    f"/admin/chat/room/{lobby.pk}/change/",
                    {"title": f"title {number}", "topic": "", "slow_mode_seconds": "0"},
                )
                assert response.status_code == 302, response.content[:300]
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send_all, args=(user,)) for user in senders]
    threads.append(threading.Thread(target=save_all))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    total = len(senders) * sends_each
    seqs = sorted(Message.objects.filter(room=lobby).values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    lobby.refresh_from_db()
    assert (lobby.last_seq, lobby.title) == (total, f"title {saves - 1}")


# Moderators, the socket cap, slow mode --------------------------------------------


async def test_a_demoted_moderator_loses_the_powers_on_an_open_socket(mod, bob, lobby):
    await db(Room.objects.filter(pk=lobby.pk).update)(locked=True)
    socket, _ = await open_socket(mod, "lobby")
    await socket.send({"type": "message", "body": "as moderator"})
    await socket.receive_type("message", body="as moderator")
    await db(get_user_model().objects.filter(pk=mod.pk).update)(is_staff=False)
    await socket.send({"type": "message", "body": "no longer"})
    assert (await socket.receive_type("error"))["code"] == "room_locked"
    theirs = await db(MessageFactory)(room=lobby, user=bob)
    await socket.send({"type": "delete", "id": theirs.id})
    assert (await socket.receive_type("error"))["code"] == "forbidden"
    await socket.close()


def test_handshakes_admitted_together_never_open_more_sockets_than_the_cap(ann, lobby, settings):
    settings.JABBER_MAX_SOCKETS_PER_USER = 2
    # Two batches admitted before any of them stored its presence row.
    admitted = services.admit_many([(ann, "lobby")] * 2) + services.admit_many([(ann, "lobby")] * 2)
    assert all(isinstance(outcome, services.Admission) for outcome in admitted)
    requests = [services.OpenRequest(f"h#{n}", ann, lobby, None, "h") for n in range(4)]
    outcomes = services.open_sockets(requests)
    refused = [o for o in outcomes if isinstance(o, services.ChatError)]
    assert len(refused) == 2 and {o.code for o in refused} == {"forbidden"}
    assert presence.open_socket_counts({ann.pk}) == {ann.pk: 2}


async def test_slow_mode_applies_to_edits(ann, lobby, fake_clock):
    await db(Room.objects.filter(pk=lobby.pk).update)(slow_mode_seconds=30)
    socket, _ = await open_socket(ann, "lobby")
    await socket.send({"type": "message", "body": "first"})
    sent = await socket.receive_type("message")
    fake_clock.advance(5)
    await socket.send({"type": "edit", "id": sent["id"], "body": "rewritten"})
    assert (await socket.receive_type("error"))["code"] == "rate_limited"
    fake_clock.advance(30)
    await socket.send({"type": "edit", "id": sent["id"], "body": "rewritten"})
    await socket.receive_type("message_edited")
    fake_clock.advance(5)
    await socket.send({"type": "edit", "id": sent["id"], "body": "and again"})
    assert (await socket.receive_type("error"))["code"] == "rate_limited"
    await socket.close()


# Room creation ---------------------------------------------------------------------


async def test_a_handshake_refused_at_the_socket_cap_creates_no_room(ann, lobby, settings):
    settings.JABBER_MAX_SOCKETS_PER_USER = 1
    first, _ = await open_socket(ann, "lobby")
    refused, hello = await open_socket(ann, "never-made")
    assert hello is None and not refused.accepted
    assert not await db(Room.objects.filter(name="never-made").exists)()
    await first.close()


async def test_a_user_banned_everywhere_creates_no_room_by_socket_or_page(ann):
    await ban_silently(ann, None)
    socket, first = await open_socket(ann, "never-made")
    assert first["code"] == "banned"
    assert (await socket.receive_close())[1] == 4403
    client = Client()
    await db(client.force_login)(ann)
    page = await db(client.get)("/chat/also-never-made/")
    assert page.status_code == 403
    assert not await db(Room.objects.exists)()


def test_visiting_new_rooms_is_limited_per_user(ann, lobby, settings):
    settings.JABBER_ROOM_CREATE_RATE = 2
    client = Client()
    client.force_login(ann)
    assert [client.get(f"/chat/new-{n}/").status_code for n in range(3)] == [200, 200, 429]
    assert not Room.objects.filter(name="new-2").exists()
    assert client.get("/chat/lobby/").status_code == 200  # rooms that exist stay open


async def test_a_handshake_over_the_room_creation_limit_is_refused(ann, settings):
    settings.JABBER_ROOM_CREATE_RATE = 1
    made, _ = await open_socket(ann, "first-new")
    socket, first = await open_socket(ann, "second-new")
    assert first["code"] == "rate_limited" and first["retry_after"] > 0
    assert (await socket.receive_close())[1] == 4429
    assert not await db(Room.objects.filter(name="second-new").exists)()
    await made.close()


# The admin with many rooms -----------------------------------------------------------


@pytest.fixture
def many_rooms(db) -> list[Room]:
    return Room.objects.bulk_create(Room(name=f"many-{n:03}") for n in range(300))


def test_the_ban_form_searches_rooms_and_users_instead_of_listing_them(mod, many_rooms):
    client = Client()
    client.force_login(mod)
    page = client.get("/admin/chat/ban/add/").content.decode()
    assert "many-299" not in page
    assert 'data-field-name="room"' in page and "admin-autocomplete" in page


def test_message_and_ban_lists_filter_by_a_typed_room_name(ann, mod, many_rooms):
    MessageFactory(room=many_rooms[5], user=ann, body="in five")
    MessageFactory(room=many_rooms[6], user=ann, body="in six")
    Ban.objects.create(user=ann, room=many_rooms[6])
    client = Client()
    client.force_login(mod)
    listing = client.get("/admin/chat/message/").content.decode()
    assert "many-299" not in listing and 'name="room_name"' in listing
    filtered = client.get("/admin/chat/message/", {"room_name": "many-005"}).content.decode()
    assert "in five" in filtered and "in six" not in filtered
    bans = client.get("/admin/chat/ban/", {"room_name": "many-005"}).content.decode()
    assert "0 bans" in bans or "0 results" in bans
