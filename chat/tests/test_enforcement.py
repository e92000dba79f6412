"""Enforcement that cannot be lost (SPEC §15): every rule re-checked where it bites."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session

from chat import services
from chat.models import Ban, Message
from chat.realtime.runtime import get_runtime
from chat.tests.factories import MessageFactory
from jabber import clock
from jabber.testing.unit import login_session, open_socket

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
