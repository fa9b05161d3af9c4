"""``cl.controls()`` is an ipywidgets VBox that refreshes itself from job
notifications, without a polling thread."""

import asyncio
import threading
import time

import ipywidgets as w
import pytest

import cnnlive as cl
from cnnlive.jobs import JobState
from cnnlive.surfaces.widgets import Controls


async def _wait_for_stop(ctx):
    await ctx.stopping.wait()


async def _laps(ctx):
    while not await ctx.checkpoint():
        await asyncio.sleep(0.01)


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
        label, pause, stop, cancel, form = c._rows[job.id]
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


def test_controls_pause_and_resume_a_job():
    c = Controls({}, refresh_s=0.05)
    try:
        job = cl.jobs.start(_laps, name="steered")
        assert _until(lambda: job.id in c._rows and "running" in c._rows[job.id][0].value)
        label, pause, stop, cancel, form = c._rows[job.id]
        pause.click()
        assert _until(lambda: job.state is JobState.PAUSED and pause.description == "Resume")
        assert not stop.disabled and not cancel.disabled  # a paused job can still be stopped
        pause.click()
        assert _until(lambda: job.state is JobState.RUNNING and pause.description == "Pause")
        assert form.children == ()  # no learning rate to adjust on a custom job
        stop.click()
        assert job.wait(30) is JobState.STOPPED
        assert _until(lambda: pause.disabled and stop.disabled)
    finally:
        c.close()


@pytest.mark.slow
def test_training_row_fields_start_empty_with_current_values_as_placeholders(runs_dir):
    from .engines_helpers import digits

    c = Controls({}, refresh_s=0.05)
    job = cl.train(cl.models.simple_cnn(), digits(), epochs=50, batch_size=32, learning_rate=0.002, lr_schedule=None)
    try:
        assert _until(lambda: job.id in c._rows and job.channels.latest("metrics") is not None, 120)
        lr, epochs, apply = c._rows[job.id][4].children
        assert lr.value == "" and epochs.value == ""  # nothing that reads as "learning rate 0"
        assert _until(lambda: lr.placeholder == "0.002" and epochs.placeholder == "50")
        row = next(r for r in c.table.children if r.children[0] is c._rows[job.id][0])
        assert row.layout.flex_flow == "row wrap"  # the form wraps under the buttons in a narrow output area
        widths = [int(x.layout.width.rstrip("px")) for x in (lr, epochs, apply)]
        assert sum(widths) <= 600 - 40
        epochs.value = "many"
        apply.click()
        assert "epochs must be a whole number" in c.message.value and job.steering.epochs is None
        epochs.value = "40"
        apply.click()
        assert "adjusted" in c.message.value and job.steering.epochs == 40 and epochs.value == ""
        assert _until(lambda: epochs.placeholder == "40")
    finally:
        job.stop()
        job.wait(60)
        c.close()
