"""Job engine: every state transition, every bad input, output separation."""

import asyncio
import io
import sys
import threading
import time

import pytest

import cnnlive
from cnnlive import jobs
from cnnlive.jobs import JobRunningError, JobState, UnknownJobError


async def ticker(ctx, n=1000, period=0.01, result_log=None):
    done = 0
    for i in range(n):
        ctx.progress(i + 1, n)
        done = i + 1
        ctx.keep({"done": done})
        if await ctx.checkpoint():
            return {"done": done, "stopped": True}
        await asyncio.sleep(period)
    return {"done": done, "stopped": False}


def wait_kept(job, timeout=10):
    """Wait until the work has kept a first partial result."""
    deadline = time.time() + timeout
    while job.result is None and time.time() < deadline:
        time.sleep(0.005)
    assert job.result is not None


def wait_running(job, timeout=5):
    deadline = time.time() + timeout
    while job.state is JobState.PENDING and time.time() < deadline:
        time.sleep(0.005)
    assert job.state is not JobState.PENDING


def test_completes_with_result_and_progress():
    job = jobs.start(ticker, 5, 0.001, name="short")
    assert job.wait(5) is JobState.COMPLETED
    assert job.result == {"done": 5, "stopped": False}
    assert job.progress_fraction == 1.0
    assert job.ended_by == "completed" and job.error is None


def test_stop_is_graceful_and_keeps_result():
    job = jobs.start(ticker)
    wait_running(job)
    wait_kept(job)
    assert "stop requested" in job.stop()
    assert job.state in (JobState.STOPPING, JobState.STOPPED)
    assert job.wait(5) is JobState.STOPPED
    assert job.result["stopped"] is True and job.result["done"] >= 1
    assert job.ended_by == "stop"


def test_stop_twice_and_after_finish_are_harmless():
    job = jobs.start(ticker)
    wait_running(job)
    job.stop()
    assert "already requested" in job.stop()
    job.wait(5)
    assert "already stopped" in job.stop()
    assert "nothing to cancel" in job.cancel()
    assert "nothing to halt" in job.halt()
    assert job.state is JobState.STOPPED


def test_cancel_ends_tasks_and_keeps_partial_result():
    job = jobs.start(ticker)
    wait_running(job)
    wait_kept(job)
    job.cancel()
    assert job.wait(5) is JobState.CANCELLED
    assert job.result["done"] >= 1  # kept with ctx.keep
    assert job.ended_by == "cancel"


def test_halt_stops_the_loop():
    job = jobs.start(ticker)
    wait_running(job)
    wait_kept(job)
    job.halt()
    assert job.wait(5) is JobState.STOPPED
    assert job.ended_by == "halt"
    assert job.result["done"] >= 1


def test_stop_before_start_is_honoured():
    async def work(ctx):
        return "saw stop" if ctx.stopping.is_set() else "ran"

    job = jobs.Job(1, "early", "custom", work)  # a job whose thread has not started yet
    assert job.state is JobState.PENDING
    assert "stop requested" in job.stop()
    t = threading.Thread(target=job._run)
    t.start()
    t.join(5)
    assert job.state is JobState.STOPPED
    assert job.result == "saw stop"


def test_failure_keeps_traceback_and_others_keep_running():
    async def broken(ctx):
        await asyncio.sleep(0.01)
        raise ZeroDivisionError("boom")

    other = jobs.start(ticker)
    wait_running(other)
    bad = jobs.start(broken)
    assert bad.wait(5) is JobState.FAILED
    assert "ZeroDivisionError: boom" in bad.error
    assert "Traceback" in bad.error
    assert other.state is JobState.RUNNING
    other.stop()
    assert other.wait(5) is JobState.STOPPED


def test_non_coroutine_function_is_a_type_error():
    def plain(ctx):
        return 1

    with pytest.raises(TypeError, match="'plain' is not a coroutine function"):
        jobs.start(plain)


def test_unknown_job_id_lists_known_ids():
    job = jobs.start(ticker, 1, 0.0)
    job.wait(5)
    with pytest.raises(UnknownJobError, match=rf"unknown job id 99999; known ids: .*\b{job.id}\b"):
        jobs.get(99999)
    with pytest.raises(UnknownJobError):
        jobs.stop(99999)


def test_remove_needs_a_finished_job():
    job = jobs.start(ticker)
    wait_running(job)
    with pytest.raises(JobRunningError, match="stop or cancel it before removing"):
        jobs.remove(job.id)
    job.cancel()
    job.wait(5)
    jobs.remove(job.id)
    assert job not in jobs.list()


def test_same_function_twice_gives_independent_jobs():
    a = jobs.start(ticker, name="twin")
    b = jobs.start(ticker, name="twin")
    assert a.id != b.id
    wait_running(a), wait_running(b)
    a.stop()
    assert a.wait(5) is JobState.STOPPED
    wait_kept(b)
    ticks = b.result["done"]
    deadline = time.time() + 10
    while b.result["done"] < ticks + 3 and time.time() < deadline:  # b keeps ticking after a stopped
        time.sleep(0.005)
    assert b.state is JobState.RUNNING  # stopping one twin leaves the other alone
    b.cancel()
    assert b.wait(5) is JobState.CANCELLED
    assert a._loop is not b._loop and a._stop is not b._stop


def test_job_that_never_awaits_reports_waiting_for_safe_point():
    gate = threading.Event()

    async def blocking(ctx):
        gate.wait(5)  # sync work that never yields
        return "finished its step"

    job = jobs.start(blocking)
    wait_running(job)
    job.stop()
    assert job.state is JobState.STOPPING
    assert "safe point" in job.channels.latest("status")["note"]
    gate.set()
    assert job.wait(5) is JobState.STOPPED
    assert job.result == "finished its step"


def test_sync_poll_runs_nested_loop_and_sees_cancel():
    """Sync code inside a job (like a Keras callback) lets the job's other
    tasks run via the nested loop and notices cancel."""
    ticks = []

    async def side(ctx):
        while True:
            ticks.append(1)
            await asyncio.sleep(0)

    async def work(ctx):
        asyncio.get_running_loop().create_task(side(ctx))
        await asyncio.sleep(0)
        for _ in range(100000):
            time.sleep(0.001)
            ctx.poll()  # raises CancelledError after cancel
        return "never"

    job = jobs.start(work)
    wait_running(job)
    deadline = time.time() + 10
    while len(ticks) <= 5 and time.time() < deadline:
        time.sleep(0.005)
    assert len(ticks) > 5, "nested run_until_complete let the side task run"
    job.cancel()
    assert job.wait(5) is JobState.CANCELLED


def test_print_in_job_goes_to_its_log_not_the_cell():
    captured = io.StringIO()
    real = sys.stdout

    async def chatty(ctx):
        print("hello from the job")
        print("second line", file=sys.stderr)
        return 1

    sys.stdout = captured
    try:
        job = jobs.start(chatty)
        job.wait(5)
        print("foreground")
    finally:
        sys.stdout = real
    assert "hello from the job" in job.log()
    assert "second line" in job.log()
    assert "hello from the job" not in captured.getvalue()
    assert "foreground" in captured.getvalue()


def test_status_table_lists_jobs(capsys):
    job = jobs.start(ticker, 2, 0.0, name="tabled")
    job.wait(5)
    text = jobs.status()
    assert "tabled" in text and "completed" in text and "progress" in text
    assert capsys.readouterr().out == ""  # shown once, as the cell's value, not printed as well
    assert repr(text) == str(text) and "<td>tabled</td>" in text._repr_html_()


def test_stop_all_stops_every_running_job():
    a, b = jobs.start(ticker), jobs.start(ticker)
    wait_running(a), wait_running(b)
    stopped = jobs.stop_all(timeout=5)
    assert {a, b} <= set(stopped)
    assert a.state is JobState.STOPPED and b.state is JobState.STOPPED


def test_stop_timeout_cancels_work_that_ignores_stop():
    async def stubborn(ctx):
        while True:
            await asyncio.sleep(0.01)

    job = jobs.manager().start(stubborn, stop_timeout=0.1)
    wait_running(job)
    job.stop()
    assert job.wait(5) is JobState.STOPPED
    assert job.ended_by == "stop-forced"


def test_shutdown_joins_threads():
    mgr = jobs.JobManager()
    js = [mgr.start(ticker) for _ in range(3)]
    for j in js:
        wait_running(j)
    mgr.shutdown(timeout=5)
    assert all(j.done for j in js)
    assert not any(j.thread.is_alive() for j in js)


def test_import_is_light():
    import subprocess

    code = "import cnnlive, sys; assert 'tensorflow' not in sys.modules and 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
