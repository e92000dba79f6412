"""Sending rules, called the way the consumer and the admin call them."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections

from accounts.tests.factories import UserFactory
from chat import protocol, selectors, services
from chat.models import Ban, Message, Room
from chat.services import ChatError
from chat.tests.factories import RoomFactory
from jabber import events
from presence import services as presence


@pytest.mark.django_db(transaction=True)
def test_seq_has_no_holes_or_twins_under_concurrent_senders(settings):
    settings.JABBER_RATE_BURST = 1000
    room = RoomFactory(name="busy")
    users = [UserFactory() for _ in range(4)]
    errors = []

    def sender(user) -> None:
        try:
            for n in range(15):
                services.send_message(user=user, room=room, body=f"{user.username} {n}")
        except Exception as error:  # surfaced below; a thread cannot fail the test itself
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=sender, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    seqs = list(Message.objects.filter(room=room).order_by("id").values_list("seq", flat=True))
    assert seqs == list(range(1, 61))
    assert Room.objects.get(pk=room.pk).last_seq == 60


@pytest.mark.django_db
def test_seq_counts_per_room():
    ann = UserFactory()
    first, second = RoomFactory(), RoomFactory()
    services.send_message(user=ann, room=first, body="a")
    services.send_message(user=ann, room=first, body="b")
    result = services.send_message(user=ann, room=second, body="c")
    assert result.message.seq == 1


@pytest.mark.django_db
def test_body_is_normalised_and_stripped_of_invisible_controls():
    ann = UserFactory()
    room = RoomFactory()
    result = services.send_message(user=ann, room=room, body="\u202eevil\u202c\x00 ok\u200b\n")
    assert result.message.body == "evil ok"


@pytest.mark.django_db
def test_emoji_joiners_survive():
    ann = UserFactory()
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    result = services.send_message(user=ann, room=RoomFactory(), body=family)
    assert result.message.body == family


@pytest.mark.django_db
def test_lone_surrogates_are_a_bad_request():
    with pytest.raises(ChatError) as caught:
        services.send_message(user=UserFactory(), room=RoomFactory(), body="bad \ud800")
    assert caught.value.code == "bad_request"
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_get_or_create_room_rejects_bad_names():
    with pytest.raises(ChatError) as caught:
        services.get_or_create_room("Bad Name")
    assert caught.value.code == "not_found"
    assert services.get_or_create_room("good_name-1").name == "good_name-1"


@pytest.mark.django_db
def test_history_rows_are_the_same_message_objects_as_the_models_give():
    room = RoomFactory()
    ann = UserFactory(username="ann")
    first = services.send_message(user=ann, room=room, body="one", client_id="c-1").message
    services.send_message(user=ann, room=room, body="two")
    services.edit_message(user=ann, room=room, message_id=first.id, body="one, edited")
    models = list(Message.objects.filter(room=room).order_by("id"))

    rows, has_more = selectors.payloads_before(room, None, 50)
    assert rows == [protocol.message_payload(m) for m in models] and not has_more
    assert rows[0]["edited"] is not None and rows[0]["client_id"] == "c-1"
    assert selectors.payloads_after(room, first.id, 50) == ([rows[1]], False)
    assert selectors.payloads_before(room, models[1].id, 1) == ([rows[0]], False)


@pytest.mark.django_db
def test_a_batch_judges_each_send_alone_and_stores_only_the_accepted(
    ann, bob, lobby, django_capture_on_commit_callbacks, monkeypatch
):
    other = RoomFactory(name="other")
    services.send_message(user=ann, room=lobby, body="before", client_id="c-old")
    services.mute_user(actor=None, user=bob, room=other)
    published = []
    monkeypatch.setattr(events, "publish", lambda *sent: published.extend(sent))
    requests = [
        services.SendRequest(ann, lobby, "one", "c-1"),
        services.SendRequest(ann, lobby, "   ", "c-blank"),  # empty
        services.SendRequest(bob, other, "muted", "c-2"),  # muted there
        services.SendRequest(bob, lobby, "two"),
        services.SendRequest(ann, lobby, "again", "c-old"),  # a resend of a stored message
        services.SendRequest(ann, other, "three", "c-3"),
        services.SendRequest(ann, lobby, "one, twice", "c-1"),  # a resend within the batch
    ]
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = services.send_messages(requests)

    errors = [o.code if isinstance(o, ChatError) else None for o in outcomes]
    assert errors == [None, "empty", "muted", None, None, None, None]
    assert outcomes[2].client_id == "c-2", "an error names the send it refuses"
    assert [o.created for o in outcomes if not isinstance(o, ChatError)] == [
        True, True, False, True, False,
    ]  # fmt: skip
    assert outcomes[4].message.body == "before" and outcomes[6].message == outcomes[0].message
    stored = list(Message.objects.order_by("id").values_list("room__name", "seq", "body"))
    assert stored == [
        ("lobby", 1, "before"), ("lobby", 2, "one"), ("lobby", 3, "two"), ("other", 1, "three"),
    ]  # fmt: skip
    assert [(r.name, r.last_seq) for r in Room.objects.order_by("name")] == [
        ("lobby", 3), ("other", 1),
    ]  # fmt: skip
    # Broadcast after commit, once each, in seq order per room.
    frames = [json.loads(e.text) for e in published if isinstance(e, events.RoomFrame)]
    assert [(frame["room"], frame["seq"]) for frame in frames] == [
        ("lobby", 2), ("lobby", 3), ("other", 1),
    ]  # fmt: skip


@pytest.mark.django_db
def test_limits_count_the_sends_before_them_in_the_same_batch(ann, lobby, settings):
    settings.JABBER_RATE_BURST = 2
    slow = RoomFactory(name="slow", slow_mode_seconds=30)
    outcomes = services.send_messages(
        [
            services.SendRequest(ann, slow, "first"),
            services.SendRequest(ann, slow, "too soon"),
            services.SendRequest(ann, lobby, "second"),
            services.SendRequest(ann, lobby, "over the burst"),
        ]
    )
    codes = [o.code if isinstance(o, ChatError) else "ok" for o in outcomes]
    assert codes == ["ok", "rate_limited", "ok", "rate_limited"]
    assert 0 < outcomes[1].retry_after <= 30
    assert Message.objects.count() == 2


@pytest.mark.django_db
def test_admitting_many_counts_sockets_bans_and_joins_across_the_batch(ann, bob, lobby, settings):
    settings.JABBER_MAX_SOCKETS_PER_USER = 2
    settings.JABBER_JOIN_BURST = 3
    services.ban_user(actor=None, user=bob, room=lobby, reason="spam")
    outcomes = services.admit_many(
        [(ann, "lobby"), (bob, "lobby"), (ann, "new-room"), (ann, "lobby"), (bob, "other")]
    )
    assert [type(o).__name__ for o in outcomes] == [
        "Admission", "Admission", "Admission", "ChatError", "Admission",
    ]  # fmt: skip
    assert outcomes[1].ban is not None and outcomes[1].ban.reason == "spam"
    assert outcomes[0].ban is None and outcomes[4].ban is None
    assert outcomes[3].code == "forbidden", "ann's third socket is over the cap of 2"
    assert outcomes[2].room.name == "new-room" and Room.objects.filter(name="new-room").exists()


@pytest.mark.django_db
def test_the_page_and_the_socket_report_the_newest_of_several_bans(ann, lobby):
    older = services.ban_user(actor=None, user=ann, room=None, reason="spam")
    Ban.objects.filter(pk=older.pk).update(created=older.created - timedelta(days=1))
    services.ban_user(actor=None, user=ann, room=lobby, reason="flooding")
    assert selectors.active_ban(ann.pk, lobby).reason == "flooding"
    (admission,) = services.admit_many([(ann, "lobby")])
    assert admission.ban.reason == "flooding"


@pytest.mark.django_db
def test_opening_many_registers_presence_and_says_hello_to_each(ann, bob, lobby):
    first = services.send_message(user=ann, room=lobby, body="one").message
    services.send_message(user=bob, room=lobby, body="two")
    opened = services.open_sockets(
        [
            services.OpenRequest("h#1", ann, lobby, None, "h"),
            services.OpenRequest("h#2", bob, lobby, first.id, "h"),
            services.OpenRequest("h#3", ann, lobby, first.id, "h"),  # ann's second tab
        ]
    )
    assert [o.changed for o in opened] == [True, True, False]
    hellos = [o.frames[0] for o in opened]
    assert [h["you"]["username"] for h in hellos] == ["ann", "bob", "ann"]
    assert all(h["online"] == [{"id": ann.id, "username": "ann"}, {"id": bob.id, "username": "bob"}]
               for h in hellos)  # fmt: skip
    assert [m["body"] for m in hellos[0]["messages"]] == ["one", "two"]
    assert [m["body"] for m in hellos[1]["messages"]] == ["two"] and hellos[1]["has_more"]
    assert hellos[2]["messages"] == hellos[1]["messages"]
    assert presence.open_socket_counts({ann.id, bob.id}) == {ann.id: 2, bob.id: 1}
