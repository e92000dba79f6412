"""Group commit: the database calls a process has waiting go to the database together.

Every socket's send, and every handshake's database work, waits for the single
database thread anyway; while one batch is there, the next requests queue here
and are then handed over in one call (`services.send_messages`,
`services.admit_many`, `services.open_sockets`), which does its queries once
per batch instead of once per request. An idle process hands each request over
at once, alone; a busy one (a burst of messages, a reconnect storm) pays per
batch.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from channels.db import database_sync_to_async

from chat.services import ChatError, settle

logger = logging.getLogger(__name__)

MAX_BATCH = 200


class Batcher:
    """One queue of one event loop, in front of a batch function.

    ``handle(requests)`` runs on the database thread and returns one outcome per
    request, in order; a ChatError outcome is raised to that request's caller only.
    """

    def __init__(self, handle: Callable[[Sequence[Any]], list[Any]], name: str) -> None:
        self.handle = handle
        self.name = name
        self.waiting: list[tuple[Any, asyncio.Future]] = []
        self._worker: asyncio.Task | None = None

    async def submit(self, request: Any) -> Any:
        """The outcome of one request, batched with whatever else is waiting."""
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((request, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._hand_over(), name=f"jabber-{self.name}")
        return settle(await future)

    async def _hand_over(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
            try:
                outcomes = await database_sync_to_async(self.handle)([r for r, _ in batch])
            except Exception as error:
                logger.exception("%s: a batch of %d failed", self.name, len(batch))
                outcomes = [error] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                # A socket that closed meanwhile cancelled its wait; what was done stands.
                if future.done():
                    continue
                if isinstance(outcome, Exception) and not isinstance(outcome, ChatError):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
