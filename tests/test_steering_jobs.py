"""Pause, resume and stop/cancel of a paused job in the job layer (no TensorFlow)."""

import asyncio
import time

import pytest

import cnnlive.jobs as jobs
from cnnlive.jobs import JobState, JobStateError

DEADLINE = 60.0


async def counting(ctx, box, sync=False):
    """Counts safe points; async checkpoints or sync polls."""
    box["n"] = 0
    while True:
        box["n"] += 1
        if sync:
            if ctx.poll():
                return box["n"]
        elif await ctx.checkpoint():
            return box["n"]


def paused_job(sync=False):
    box = {}
    job = jobs.start(counting, box, sync, name="count", stop_timeout=30)
    deadline = time.time() + DEADLINE
    while box.get("n", 0) < 3:
        assert time.time() < deadline and not job.done
        time.sleep(0.005)
    assert "paused" in job.pause()
    assert job._gate.holding.wait(DEADLINE), "the work never reached its pause"
    assert job.state is JobState.PAUSED  # paused once the work rests at the gate
    return job, box


@pytest.mark.parametrize("sync", [False, True])
def test_pause_holds_the_work_and_freezes_elapsed_until_resume(sync):
    job, box = paused_job(sync)
    n, elapsed = box["n"], job.elapsed
    time.sleep(0.1)  # time passes while paused (a duration, not a synchronisation)
    assert box["n"] == n  # no safe point passed
    assert job.elapsed == pytest.approx(elapsed, abs=1e-6)
    assert job.pause() == f"job {job.id}: already paused"
    assert "resumed" in job.resume()
    assert job.state is JobState.RUNNING
    deadline = time.time() + DEADLINE
    while box["n"] <= n + 5:
        assert time.time() < deadline
        time.sleep(0.005)
    assert job.resume() == f"job {job.id}: not paused"
    job.stop()
    assert job.wait(DEADLINE) is JobState.STOPPED and job.ended_by == "stop"
    assert job.elapsed < (job.finished - job.started) - 0.09  # the pause is not counted


@pytest.mark.parametrize("sync", [False, True])
def test_pause_then_stop_ends_the_job_gracefully(sync):
    job, box = paused_job(sync)
    n = box["n"]
    job.stop()
    assert job.wait(DEADLINE) is JobState.STOPPED
    assert job.ended_by == "stop" and job.result == n  # the work returned at its next safe point


@pytest.mark.parametrize("sync", [False, True])
def test_pause_then_cancel_ends_the_job(sync):
    job, _ = paused_job(sync)
    job.cancel()
    assert job.wait(DEADLINE) is JobState.CANCELLED and job.ended_by == "cancel"


def test_pause_then_halt_ends_the_job():
    job, _ = paused_job(sync=True)
    job.halt()
    assert job.wait(DEADLINE) in (JobState.STOPPED, JobState.CANCELLED)
    assert job.done


def test_pause_of_a_finished_or_stopping_job_is_a_clear_error():
    job, _ = paused_job()
    job.stop()
    job.wait(DEADLINE)
    with pytest.raises(JobStateError, match="already stopped: only a running job can be paused"):
        job.pause()
    with pytest.raises(JobStateError, match="already stopped"):
        job.resume()
    with pytest.raises(JobStateError, match="already stopped"):
        jobs.pause(job.id)

    box = {}
    job2 = jobs.start(counting, box, name="count2", stop_timeout=0.5)
    job2.stop()
    if not job2.done:
        with pytest.raises(JobStateError):
            job2.pause()
    job2.wait(DEADLINE)


def test_steering_requests_that_need_a_training_job_name_what_is_valid():
    job, _ = paused_job()
    try:
        with pytest.raises(ValueError, match="valid: None .*'epoch'"):
            job.stop(after="batch")
        with pytest.raises(JobStateError, match="needs a training job .*train or fit.* is a custom job"):
            job.stop(after="epoch")
        with pytest.raises(JobStateError, match="needs a training job"):
            job.adjust(learning_rate=0.1)
        assert job.state is JobState.PAUSED and job.steering.pending_learning_rate is None
        assert job.steering.stop_after is None
    finally:
        job.cancel()
        job.wait(DEADLINE)



def test_a_pause_longer_than_the_stop_grace_still_ends_in_a_graceful_stop():
    box = {}
    job = jobs.start(counting, box, True, name="short-grace", stop_timeout=0.2)
    deadline = time.time() + DEADLINE
    while box.get("n", 0) < 3:
        assert time.time() < deadline and not job.done
        time.sleep(0.005)
    job.pause()
    assert job._gate.holding.wait(DEADLINE)
    time.sleep(0.5)  # paused for longer than the grace (a duration, not a synchronisation)
    job.stop()  # wakes the work: the grace starts now and the safe point is reached at once
    assert job.wait(DEADLINE) is JobState.STOPPED
    assert job.ended_by == "stop"


def test_status_table_and_module_helpers_show_the_pause():
    job, _ = paused_job()
    try:
        row = next(r for r in jobs.manager().rows() if r["id"] == job.id)
        assert row["state"] == "paused"
        assert jobs.resume(job.id) == f"job {job.id}: resumed"
        assert jobs.pause(job.id).startswith(f"job {job.id}: paused")
    finally:
        jobs.cancel(job.id)
        job.wait(DEADLINE)
