"""Say what an event loop is waiting on when a test phase stalls.

pytest-timeout prints the stack of every thread, but a stalled asyncio test shows
only the loop's thread idling in ``select``: the stuck coroutine is a task, not a
thread. When a phase outlives ``STALL_SECONDS``, this prints each pending task's
stack, from inside the loop the main thread is running (a teardown that hangs while
pytest-asyncio cancels the test's tasks is the case it was written for).
"""

import asyncio
import io
import sys
import threading
from collections.abc import Iterator

STALL_SECONDS = 60.0


def running_loop_of_main_thread() -> asyncio.AbstractEventLoop | None:
    """The loop whose ``run_forever`` is on the main thread's stack, if any."""
    frame = sys._current_frames().get(threading.main_thread().ident)
    for _ in range(500):
        if frame is None:
            return None
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, asyncio.AbstractEventLoop) and candidate.is_running():
            return candidate
        frame = frame.f_back
    return None


def print_pending_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Print every pending task of ``loop`` with its stack (runs in the loop)."""
    out = io.StringIO()
    tasks = asyncio.all_tasks(loop)
    out.write(f"\n---- stalled: {len(tasks)} pending task(s) on {loop!r}\n")
    for task in tasks:
        out.write(f"-- {task!r} (cancel requests: {task.cancelling()})\n")
        task.print_stack(limit=30, file=out)
    sys.stderr.write(out.getvalue())
    sys.stderr.flush()


def _report_stall() -> None:
    loop = running_loop_of_main_thread()
    if loop is not None:
        loop.call_soon_threadsafe(print_pending_tasks, loop)


def watching_for_stalls() -> Iterator[None]:
    """Wrap one test phase (``yield from``): report its tasks if it stalls."""
    timer = threading.Timer(STALL_SECONDS, _report_stall)
    timer.daemon = True
    timer.start()
    try:
        return (yield)
    finally:
        timer.cancel()
