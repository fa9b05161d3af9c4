"""How jobs end: the stop guarantee, one vocabulary (state + ended_by), halt
from our own flag, and the races around the start of the work (events and
barriers, no sleeps)."""

import asyncio
import threading
import time

import pytest

import cnnlive
from cnnlive import jobs
from cnnlive.jobs import Job, JobState
from cnnlive.jobs import ending as job_module
from cnnlive.jobs.lock import ControlLock
from cnnlive.jobs.state import ENDINGS, STATE_OF_ENDING


async def deaf_sprinter(ctx, laps=100000):
    """The seeds' plain sprinter: awaits, never looks at ctx (except keep)."""
    for i in range(laps):
        ctx.keep({"laps": i + 1})
        await asyncio.sleep(0.005)
    return {"laps": laps}


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.002)


def kept(job):
    wait_for(lambda: job.result is not None)


def test_deaf_coroutine_ends_stop_forced_after_grace_and_keeps_partial():
    job = jobs.start(deaf_sprinter, stop_timeout=0.2)
    kept(job)
    t0 = time.monotonic()
    job.stop()
    assert job.wait(10) is JobState.STOPPED
    took = time.monotonic() - t0
    assert job.ended_by == "stop-forced"
    assert "forced" in job.channels.latest("status")["note"]
    assert job.result["laps"] >= 1  # the kept partial result survives
    assert 0.15 <= took < 5


def test_grace_comes_from_config_by_default(monkeypatch):
    monkeypatch.setattr(cnnlive.config, "stop_timeout", 0.1)
    job = jobs.start(deaf_sprinter)
    assert job.stop_timeout == 0.1
    kept(job)
    job.stop()
    assert job.wait(10) is JobState.STOPPED and job.ended_by == "stop-forced"


def test_default_grace_is_five_seconds():
    assert cnnlive.config.stop_timeout == 5.0
    job = Job(1, "x", "custom", deaf_sprinter)
    assert job.stop_timeout == 5.0


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "3", True])
def test_bad_stop_timeout_is_refused_at_call_time(bad):
    before = len(jobs.list())
    with pytest.raises(ValueError, match="stop_timeout must be a finite number of seconds >= 0"):
        jobs.start(deaf_sprinter, stop_timeout=bad)
    assert len(jobs.list()) == before


def test_cooperative_work_within_grace_ends_stop_not_forced():
    async def coop(ctx):
        while not await ctx.checkpoint():
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)  # tidying up within the grace
        return "tidy"

    job = jobs.start(coop, stop_timeout=5)
    wait_for(lambda: job.state is JobState.RUNNING)
    job.stop()
    assert job.wait(10) is JobState.STOPPED
    assert job.ended_by == "stop" and job.result == "tidy"


def test_end_request_goes_stop_then_stop_forced():
    seen = []

    async def listener(ctx):
        seen.append(ctx.end_request)
        try:
            while True:
                if ctx.end_request == "stop" and "stop" not in seen:
                    seen.append("stop")
                await asyncio.sleep(0.005)
        except asyncio.CancelledError:
            seen.append(ctx.end_request)
            raise

    job = jobs.start(listener, stop_timeout=0.1)
    wait_for(lambda: seen)
    job.stop()
    assert job.wait(10) is JobState.STOPPED
    assert seen == [None, "stop", "stop-forced"]


def test_sync_poll_after_forced_stop_raises_and_ends():
    """Sync code that polls (like a Keras batch loop) but ignores the stop
    answer ends once the grace is over."""
    async def ignores_answer(ctx):
        await asyncio.sleep(0)
        n = 0
        while True:
            time.sleep(0.002)
            ctx.poll()
            n += 1
            ctx.keep(n)

    job = jobs.start(ignores_answer, stop_timeout=0.1)
    kept(job)
    job.stop()
    assert job.wait(10) is JobState.STOPPED
    assert job.ended_by == "stop-forced" and job.result >= 1


def test_sync_code_that_never_yields_is_reported_and_ends_when_it_returns():
    gate = threading.Event()

    async def blocking(ctx):
        gate.wait(30)
        return "returned"

    job = jobs.start(blocking, stop_timeout=0.05)
    wait_for(lambda: job.state is JobState.RUNNING)
    job.stop()
    wait_for(lambda: "never yields" in (job.channels.latest("status") or {}).get("note", ""))
    assert job.state is JobState.STOPPING
    assert "cannot be interrupted" in job.log()
    gate.set()
    assert job.wait(10) is JobState.STOPPED
    assert job.ended_by == "stop" and job.result == "returned"


def test_halt_of_sync_polling_work_is_halt_not_error():
    async def polling(ctx):
        await asyncio.sleep(0)
        i = 0
        while True:
            time.sleep(0.001)
            ctx.poll()
            i += 1
            ctx.keep(i)

    job = jobs.start(polling)
    kept(job)
    job.halt()
    assert job.wait(10) is JobState.STOPPED
    assert job.ended_by == "halt" and job.error is None and job.result >= 1


def test_halt_of_awaiting_work_and_of_work_stopping_its_own_loop():
    job = jobs.start(deaf_sprinter)
    kept(job)
    job.halt()
    assert job.wait(10) is JobState.STOPPED and job.ended_by == "halt"

    async def self_halting(ctx):
        ctx.keep("before")
        asyncio.get_running_loop().stop()
        await asyncio.sleep(10)

    own = jobs.start(self_halting)
    assert own.wait(10) is JobState.STOPPED
    assert own.ended_by == "halt" and own.result == "before"


def test_work_that_swallows_cancel_still_ends(monkeypatch):
    monkeypatch.setattr(job_module, "ESCALATE_S", 0.1)

    async def stubborn(ctx):
        ctx.keep("partial")
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue

    job = jobs.start(stubborn)
    kept(job)
    job.cancel()
    assert job.wait(15) is JobState.CANCELLED
    assert job.ended_by == "cancel" and job.result == "partial"


def test_every_ending_word_maps_to_one_final_state():
    assert set(ENDINGS) == set(STATE_OF_ENDING)
    outcomes = {}

    async def fails(ctx):
        raise ValueError("nope")

    async def quick(ctx):
        return 1

    for name, fn, how in [("completed", quick, None), ("error", fails, None), ("cancel", deaf_sprinter, "cancel"),
                          ("halt", deaf_sprinter, "halt"), ("stop-forced", deaf_sprinter, "stop")]:
        j = jobs.start(fn, stop_timeout=0.05)
        if how:
            kept(j)
            getattr(j, how)()
        j.wait(10)
        outcomes[name] = (j.ended_by, j.state)
    for word, (ended_by, state) in outcomes.items():
        assert ended_by == word and state is STATE_OF_ENDING[word]


# -- races at the start of the work ------------------------------------------


class SpyLock(ControlLock):
    """The job's control lock, telling when another thread has to wait for it."""

    def __init__(self, on_contended):
        super().__init__()
        self._on_contended = on_contended

    def __enter__(self):
        if not self.acquire(blocking=False):
            self._on_contended()
            self.acquire()
        return self


@pytest.mark.parametrize("how", ["cancel", "halt"])
def test_request_landing_while_the_work_task_is_created_is_not_lost(how):
    """cancel()/halt() called between the job's flag check and the creation
    of its work task: the request must take effect (it used to be ignored,
    the work ran to the end and the job still said cancelled)."""
    creating, go, request_returned = threading.Event(), threading.Event(), threading.Event()
    finished_body = []

    async def body(ctx):
        while not request_returned.is_set():
            await asyncio.sleep(0.001)
        for _ in range(3):  # the queued request lands within these iterations
            await asyncio.sleep(0)
        finished_body.append(True)
        return "ran to the end"

    def create(ctx):  # runs while the job creates its work task
        creating.set()
        assert go.wait(10)
        return body(ctx)

    job = Job(1, "race", "custom", create)
    job._ctl = SpyLock(on_contended=go.set)  # with the fix, the request waits for task creation
    runner = threading.Thread(target=job._run)
    runner.start()
    assert creating.wait(10)

    def request():
        getattr(job, how)()
        request_returned.set()
        go.set()

    requester = threading.Thread(target=request)
    requester.start()
    runner.join(10)
    requester.join(10)
    assert not runner.is_alive()
    assert not finished_body, "the request was lost: the work ran to the end"
    assert job.ended_by == how
    assert job.state is STATE_OF_ENDING[how]


@pytest.mark.parametrize("how", ["cancel", "halt"])
def test_request_before_the_thread_starts_means_the_work_never_runs(how):
    ran = []

    async def work(ctx):
        ran.append(1)

    job = Job(1, "early", "custom", work)
    getattr(job, how)()
    t = threading.Thread(target=job._run)
    t.start()
    t.join(10)
    assert not ran and job.ended_by == how and job.state is STATE_OF_ENDING[how]


def test_stop_racing_the_start_never_leaves_state_running():
    """stop() right after start: the job is stopping or stopped, never
    'running' with a stop on record."""
    for _ in range(20):
        job = jobs.start(deaf_sprinter, stop_timeout=0.05)
        job.stop()
        wait_for(lambda: job.state is not JobState.PENDING)
        assert job.state in (JobState.STOPPING, JobState.STOPPED)
        assert job.wait(10) is JobState.STOPPED


def test_failure_creating_the_work_fails_the_job():
    def bad_factory(ctx, a):
        raise TypeError("bad_factory() takes 2 arguments")

    job = Job(1, "bad", "custom", bad_factory)
    t = threading.Thread(target=job._run)
    t.start()
    t.join(10)
    assert job.state is JobState.FAILED and job.ended_by == "error" and "TypeError" in job.error
