"""Group commit: the sends a process has waiting go to the database together.

A socket's send waits for the database thread anyway; while one batch is being
stored, the next ones queue here and are then stored in one transaction
(`services.send_messages`). An idle process stores each send at once, alone; a
busy one pays for one transaction, and one trip to the database thread, per
batch instead of per message.
"""

import asyncio
import logging

from channels.db import database_sync_to_async

from chat import services
from chat.services import ChatError, SendRequest, SendResult

logger = logging.getLogger(__name__)

MAX_BATCH = 200


class Sender:
    """The group-commit queue of one event loop (one server process)."""

    def __init__(self) -> None:
        self.waiting: list[tuple[SendRequest, asyncio.Future]] = []
        self._worker: asyncio.Task | None = None

    async def send(self, request: SendRequest) -> SendResult:
        """Store one send (raising its ChatError), batched with whatever else is waiting."""
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((request, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._store_waiting(), name="jabber-sender")
        outcome = await future
        if isinstance(outcome, ChatError):
            raise outcome
        return outcome

    async def _store_waiting(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
            try:
                outcomes = await database_sync_to_async(services.send_messages)(
                    [request for request, _ in batch]
                )
            except Exception as error:
                logger.exception("storing %d messages failed", len(batch))
                outcomes = [error] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                # A socket that closed meanwhile cancelled its wait; its message stands.
                if future.done():
                    continue
                if isinstance(outcome, Exception) and not isinstance(outcome, ChatError):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
