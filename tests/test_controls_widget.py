"""``cl.controls()`` is an ipywidgets VBox that refreshes itself from job
notifications, without a polling thread."""

import threading
import time

import ipywidgets as w

import cnnlive as cl
from cnnlive.jobs import JobState
from cnnlive.surfaces.widgets import Controls


async def _wait_for_stop(ctx):
    await ctx.stopping.wait()


def _until(predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


def test_controls_is_a_widget_that_follows_jobs_by_itself():
    before = {t.name for t in threading.enumerate()}
    c = Controls({}, refresh_s=0.05)
    try:
        assert isinstance(c, w.VBox) and c.widget is c
        w.Tab(children=[c])  # goes into any ipywidgets layout
        job = cl.jobs.start(_wait_for_stop, name="followed")
        assert _until(lambda: job.id in c._rows and "running" in c._rows[job.id][0].value)
        label, stop, cancel = c._rows[job.id]
        assert not stop.disabled
        job.stop()
        assert job.wait(30) is JobState.STOPPED
        assert _until(lambda: "stopped" in label.value and stop.disabled and cancel.disabled)
        cl.jobs.remove(job.id)
        assert _until(lambda: job.id not in c._rows)
        assert not any("controls" in t.name for t in threading.enumerate() if t.name not in before)
    finally:
        c.close()
    job2 = cl.jobs.start(_wait_for_stop, name="after-close")
    job2.stop()
    job2.wait(30)
    assert job2.id not in c._rows  # a closed panel listens no more
