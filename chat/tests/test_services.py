"""Sending rules, called the way the consumer and the admin call them."""

import threading

import pytest
from django.db import close_old_connections

from accounts.tests.factories import UserFactory
from chat import protocol, selectors, services
from chat.models import Message, Room
from chat.services import ChatError
from chat.tests.factories import RoomFactory


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
