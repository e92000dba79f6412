"""The process's long-lived tasks stop when cancelled, even when a library swallows the request.

Seen as a test teardown hanging for good on PostgreSQL + Redis: the loop's closing
cancelled the hub while redis-py sent a command through Python 3.11's
``asyncio.wait_for``, which can return instead of raising (CPython gh-86296), and
channels-redis went on sending BZPOPMIN after BZPOPMIN.
"""

import asyncio

from chat.realtime import cancellation
from chat.realtime.hub import Hub
from chat.realtime.runtime import Runtime

STOPPED_WITHIN = 15.0  # seconds: STOP_ATTEMPTS x STOP_WAIT, and then some


async def _command_sent() -> None:
    return None


class RedisLikeLayer:
    """Receives as channels-redis does: one blocking pop after another until a message comes,
    each command sent through ``asyncio.wait_for`` (as redis-py does with a socket timeout)."""

    async def receive(self, channel: str) -> dict:
        while True:
            await asyncio.wait_for(_command_sent(), 30)
            await asyncio.sleep(0.02)  # the pop's reply, after its timeout: nothing


class SwallowingLayer:
    """Loses the first cancellation it meets, then goes on popping (what the race above does)."""

    def __init__(self) -> None:
        self.receiving = asyncio.Event()
        self.swallowed = 0

    async def receive(self, channel: str) -> dict:
        self.receiving.set()
        while True:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                if self.swallowed:
                    raise
                self.swallowed += 1


async def _stops(task: asyncio.Task) -> bool:
    done, _ = await asyncio.wait({task}, timeout=STOPPED_WITHIN)
    return task in done and task.cancelled()


async def test_the_hub_stops_although_its_layer_swallowed_the_first_cancellation():
    layer = SwallowingLayer()
    hub = asyncio.create_task(Hub(layer, "specific.x!1").run())
    await asyncio.wait_for(layer.receiving.wait(), 3)
    hub.cancel()
    assert await _stops(hub)
    assert layer.swallowed == 1


async def test_the_hub_stops_whenever_it_is_cancelled_while_sending_a_command():
    # Cancelled after 0, 1, 2, ... turns of the loop: some land where wait_for swallows it.
    for turns in range(8):
        hub = asyncio.create_task(Hub(RedisLikeLayer(), "specific.x!1").run())
        for _ in range(turns):
            await asyncio.sleep(0)
        hub.cancel()
        assert await _stops(hub), f"cancelled after {turns} turns"


async def test_the_pruner_stops_although_a_round_swallowed_its_cancellation(settings):
    settings.JABBER_PRESENCE_PRUNE_INTERVAL = 0
    runtime = Runtime(asyncio.get_running_loop())
    rounds = []

    async def a_round_that_swallows() -> None:
        rounds.append(1)
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            pass  # a publish whose wait_for returned instead

    runtime.close_idle_sockets = a_round_that_swallows
    pruner = asyncio.create_task(runtime._prune())
    while not rounds:
        await asyncio.sleep(0.01)
    pruner.cancel()
    assert await _stops(pruner)


async def test_a_cancelled_caller_cancels_the_awaited_task_until_it_stops(monkeypatch):
    cancels = []

    async def stubborn() -> None:
        for _ in range(3):
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancels.append(1)
        await asyncio.sleep(3600)

    monkeypatch.setattr(cancellation, "STOP_WAIT", 0.01)
    caller = asyncio.create_task(cancellation.cancellable(stubborn()))
    await asyncio.sleep(0.05)
    caller.cancel()
    assert await _stops(caller)
    assert len(cancels) == 3  # three lost, the fourth stopped it


async def test_the_awaited_result_and_errors_come_back_unchanged():
    async def answer() -> int:
        return 42

    async def fails() -> None:
        raise ConnectionError("layer down")

    assert await cancellation.cancellable(answer()) == 42
    try:
        await cancellation.cancellable(fails())
    except ConnectionError as error:
        assert str(error) == "layer down"
    else:
        raise AssertionError("the error was lost")
