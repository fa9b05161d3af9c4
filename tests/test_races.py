"""The small races of issue 24, each made deterministic: the reader is
interrupted exactly where the writer could change what it reads."""

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from cnnlive import jobs
from cnnlive.engines.oip import OIPResult, OIPTimeline
from cnnlive.engines.oip.timeline import Timeline
from cnnlive.jobs import JobState
from cnnlive.protocol import validate
from cnnlive.surfaces import panel_queries


def _result(cls=OIPResult, **extra):
    return cls(np.zeros((2, 4, 4, 1), np.float32), np.array([1.0, 3.0]), [0, 1], [(3.0,)] * 2,
               np.zeros((0, 2)), np.zeros((1, 2, 4, 4, 1), np.float32), {"epoch": 1}, **extra)


class DroppedAfterOneRead(OIPResult):
    """A result whose timeline is dropped (as OIPTimeline.add does past its
    cap) right after the first time it is read."""

    @property
    def timeline(self):
        timeline, self.__dict__["_t"] = self.__dict__.get("_t"), None
        return timeline

    @timeline.setter
    def timeline(self, value):
        self.__dict__["_t"] = value


def test_a_snapshot_reads_the_timeline_once():
    t = Timeline(cap=1 << 30)
    for step in range(3):
        t.add(f"step {step}", np.full((2, 4, 4, 1), step, np.float32), value=float(step))
    label, grid, value = _result(DroppedAfterOneRead, timeline=t).snapshot(1)
    assert label == "step 1" and value == 1.0
    assert _result(DroppedAfterOneRead, timeline=t).snapshot_count == 3
    assert _result(DroppedAfterOneRead, timeline=t).snapshot_newest == "step 2"
    job = SimpleNamespace(id=7, kind="oip", result=_result(DroppedAfterOneRead, timeline=t))
    with pytest.raises(LookupError, match="dropped under the size cap"):  # the panel's clear reply
        panel_queries.frame_message(job, 2, "q")  # counted before the drop, read after it
    job.result = _result(timeline=t)
    msg, buffers = panel_queries.frame_message(job, 2, "q")
    validate(msg, "KernelMessage")
    assert msg["index"] == 2 and msg["count"] == 3 and len(buffers) == 1


class ThinnedWhileRead(OIPTimeline):
    """An every-epoch timeline that is thinned (as add() does past its cap)
    the moment its length is read."""

    def __len__(self):
        n = super().__len__()
        if n > 2 and not getattr(self, "_thinned", False):
            self._thinned = True
            self[:] = [self[0], self[-1]]
        return n


def test_an_every_epoch_snapshot_reads_the_list_once():
    epochs = ThinnedWhileRead(cap=1 << 30)
    for e in range(3):
        epochs.append(_result())
    try:
        label, grid, value = epochs.snapshot(2)
    except IndexError as exc:  # consistent: the range it names is the one it checked
        assert "snapshot index 2 is out of range 0..1" in str(exc)
    else:
        assert label.startswith("epoch")


async def _laps(ctx):
    while not await ctx.checkpoint():
        import asyncio

        await asyncio.sleep(0.005)


def test_elapsed_reads_both_pause_fields_under_the_lock():
    """resume() moves the pause from _paused_since into _paused_s; a reader
    between the two writes must not count the pause twice (elapsed dipping)."""
    import time

    job = jobs.start(_laps, name="paused")
    try:
        while job.elapsed < 0.5:  # work time first, so a pause counted twice shows
            time.sleep(0.01)
        job.pause()
        time.sleep(0.3)  # a pause of 0.3 s, excluded from elapsed
        entered, go = threading.Event(), threading.Event()

        class HeldBetweenTheWrites(type(job)):
            @property
            def _paused_s(self):
                return self.__dict__["_paused_s"]

            @_paused_s.setter
            def _paused_s(self, value):
                self.__dict__["_paused_s"] = value
                if threading.current_thread().name == "resumer":
                    entered.set()
                    go.wait(5)

        job.__class__ = HeldBetweenTheWrites
        before = job.elapsed
        resumer = threading.Thread(target=job.resume, name="resumer")
        resumer.start()
        assert entered.wait(5)  # _paused_s written, _paused_since not yet cleared
        seen = []
        reader = threading.Thread(target=lambda: seen.append(job.elapsed), name="reader")
        reader.start()
        reader.join(0.2)
        go.set()
        resumer.join(5), reader.join(5)
        assert seen and seen[0] >= before - 0.02, (seen, before)  # never the pause subtracted twice
    finally:
        job.stop(), job.wait(30)


def test_state_listeners_run_after_the_job_lock_is_released():
    job = jobs.start(_laps, name="listened")
    held = []

    def listener(channel):
        if channel == "status":
            # another thread must be able to take the job's lock now (a listener that asks the job)
            t = threading.Thread(target=lambda: held.append(job._ctl.acquire(timeout=2) and job._ctl.release()))
            t.start(), t.join(5)
            held.append(job.state)

    unsubscribe = job.channels.subscribe(listener)
    try:
        job.pause()
        job.resume()
        job.stop()
        assert job.wait(30) is JobState.STOPPED
    finally:
        unsubscribe()
    locks = [h for h in held if not isinstance(h, JobState)]
    assert locks and all(h is None for h in locks), held  # acquire() succeeded (release() returns None)


def test_widget_controls_subscribe_once_and_not_to_a_removed_job():
    from cnnlive.surfaces.widgets import Controls

    c = Controls({}, refresh_s=0.01)
    job = jobs.start(_laps, name="watched")
    try:
        barrier = threading.Barrier(2, timeout=0.5)
        real = job.channels.subscribe

        def racing_subscribe(fn):  # both threads past the "already watched?" check at once
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass
            return real(fn)

        job.channels.subscribe = racing_subscribe
        c._on_job_event("removed", job)  # start from an unwatched job
        threads = [threading.Thread(target=c._watch, args=(job,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        assert len(job.channels._listeners) == 1
        job.stop(), job.wait(30)
        jobs.remove(job)  # removed: the listener goes
        assert job.channels._listeners == []
        c._watch(job)  # a late "started" (or the panel's first listing) for a removed job
        assert job.channels._listeners == [] and job.id not in c._watched
    finally:
        c.close()
