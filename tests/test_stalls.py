import asyncio

from tests.support import stalls


async def test_a_stall_report_finds_the_running_loop_and_names_where_each_task_waits(capsys):
    async def waiting_for_a_reply_that_never_comes():
        await asyncio.Event().wait()

    task = asyncio.ensure_future(waiting_for_a_reply_that_never_comes())
    await asyncio.sleep(0)

    # The timer thread's view: the main thread is inside this test's loop.
    loop = await asyncio.to_thread(stalls.running_loop_of_main_thread)
    assert loop is asyncio.get_running_loop()
    stalls.print_pending_tasks(loop)
    task.cancel()

    report = capsys.readouterr().err
    assert "waiting_for_a_reply_that_never_comes" in report
    assert "cancel requests: 0" in report
    assert "in waiting_for_a_reply_that_never_comes" in report  # its stack, not only its name


def test_no_loop_is_found_when_the_main_thread_runs_none():
    assert stalls.running_loop_of_main_thread() is None
