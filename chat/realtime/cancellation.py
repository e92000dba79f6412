"""Stopping the process's long-lived tasks even when a library swallows their cancellation.

Python 3.11's ``asyncio.wait_for`` returns the result instead of raising when its
task is cancelled in the same turn as the awaited work completes (fixed in 3.12,
CPython gh-86296). redis-py wraps the send of every command in ``wait_for`` when a
socket timeout is set, and channels-redis's ``receive`` sends one BZPOPMIN after
another until a message comes: a hub cancelled at that moment would read the
channel layer for ever, and the loop closing under it (a test's, a server's)
would wait on it for ever. The request stays counted on the task
(``Task.cancelling()``), and a task awaited through ``asyncio.wait`` can be
cancelled again.
"""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)

STOP_ATTEMPTS = 10
STOP_WAIT = 1.0  # seconds between cancellations of a task that has not stopped


def stop_if_cancelled() -> None:
    """Raise CancelledError if the running task was asked to stop, whoever caught it since."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def cancellable(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Await `coroutine` in a task of its own: cancelling the caller always raises here,
    after cancelling that task until it stops (``stop``)."""
    task = asyncio.ensure_future(coroutine)
    try:
        await asyncio.wait({task})
    except asyncio.CancelledError:
        await stop(task)
        raise
    return task.result()


async def stop(task: asyncio.Task) -> None:
    """Cancel `task` until it has finished, at most STOP_ATTEMPTS times."""
    for _ in range(STOP_ATTEMPTS):
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=STOP_WAIT)
        if done:
            if not task.cancelled():
                task.exception()  # retrieved: what it ended with no longer matters
            return
    logger.warning("%r did not stop after %d cancellations", task, STOP_ATTEMPTS)
