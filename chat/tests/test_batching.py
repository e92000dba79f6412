"""Group commit: sends waiting together are stored together, each with its own outcome."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chat import services
from chat.models import Message
from chat.realtime.batching import Batcher
from chat.services import ChatError, SendRequest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def batches(monkeypatch):
    """The size of every batch handed to the database."""
    sizes: list[int] = []
    store = services.send_messages

    def recording(requests):
        sizes.append(len(requests))
        return store(requests)

    monkeypatch.setattr(services, "send_messages", recording)
    return sizes


async def test_sends_waiting_together_are_stored_in_one_batch_in_order(ann, bob, lobby, batches):
    sender = Batcher(services.send_messages, "sends")
    requests = [SendRequest(ann if n % 2 else bob, lobby, f"m{n}", f"c-{n}") for n in range(20)]
    results = await asyncio.gather(*(sender.submit(request) for request in requests))
    # gather starts every send before the first batch runs, so all 20 wait together.
    assert batches == [20]
    assert [r.message.seq for r in results] == list(range(1, 21))
    stored = await sync_to_async(list)(
        Message.objects.order_by("seq").values_list("body", flat=True)
    )
    assert stored == [f"m{n}" for n in range(20)]


async def test_a_refused_send_raises_for_its_sender_only(ann, bob, lobby, batches):
    sender = Batcher(services.send_messages, "sends")
    outcomes = await asyncio.gather(
        sender.submit(SendRequest(ann, lobby, "fine")),
        sender.submit(SendRequest(bob, lobby, " ", "c-blank")),
        return_exceptions=True,
    )
    assert outcomes[0].created and outcomes[0].message.seq == 1
    assert isinstance(outcomes[1], ChatError) and outcomes[1].code == "empty"
    assert batches == [2]


async def test_an_idle_sender_stores_each_send_at_once(ann, lobby, batches):
    sender = Batcher(services.send_messages, "sends")
    for n in range(3):
        await sender.submit(SendRequest(ann, lobby, f"m{n}"))
    assert batches == [1, 1, 1]
