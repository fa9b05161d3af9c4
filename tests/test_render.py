"""The renderer thread and the frame-push choice, without TensorFlow: views
are tiny Agg figures fed by real (async) jobs. Synchronised with events."""

import asyncio
import logging
import threading
import time

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import cnnlive as cl
from cnnlive.jobs import JobState
from cnnlive.views import compat
from cnnlive.views.live import Renderer, View


class Probe(View):
    """A one-line figure; ``broken`` raises on every update."""

    def __init__(self, job, broken=False):
        fig = Figure(figsize=(2, 2))
        FigureCanvasAgg(fig)
        self.line, = fig.add_subplot().plot([], [])
        super().__init__(job, fig)
        self.broken, self.drawn, self.updates = broken, threading.Event(), 0

    def update(self):
        if self.broken:
            raise RuntimeError("this figure is broken")
        self.updates += 1
        self.line.set_data(range(self.updates), range(self.updates))
        self.drawn.set()
        return True


async def _done(ctx):
    return 1


async def _ticker(ctx):
    i = 0
    while not ctx.stopping.is_set():
        ctx.publish("metrics", {"loss": 1.0 / (i + 1)})
        i += 1
        await asyncio.sleep(0.01)


def _finished_job():
    job = cl.jobs.start(_done, name="done")
    assert job.wait(30) is JobState.COMPLETED
    return job


def test_view_added_while_the_render_thread_exits_is_drawn():
    r = Renderer(fps=50)
    exiting, proceed = threading.Event(), threading.Event()

    def hold_exit():
        exiting.set()
        proceed.wait(30)

    r._exiting = hold_exit
    first = Probe(_finished_job())
    r.add(first)
    assert exiting.wait(30), "the render thread never ran out of views"
    old = threading.enumerate()
    assert any(t.name == "cnnlive-render" and t.is_alive() for t in old)  # still inside its exit path
    second = Probe(_finished_job())
    r._exiting = lambda: None
    r.add(second)
    proceed.set()
    assert first.drawn.is_set()
    assert second.drawn.wait(30), "a view added while the renderer exited was never drawn"


def test_broken_figure_is_reported_once_and_others_go_on(caplog):
    job = cl.jobs.start(_ticker, name="ticker")
    try:
        r = Renderer(fps=50)
        broken, good = Probe(job, broken=True), Probe(job)
        with caplog.at_level(logging.ERROR, logger="cnnlive"):
            r.add(broken)
            r.add(good)
            deadline = time.monotonic() + 60
            while good.updates < 5 and time.monotonic() < deadline:
                good.drawn.wait(1)
                good.drawn.clear()
        assert good.updates >= 5, "one broken figure stopped the others"
        assert broken not in r.views and good in r.views
        records = [rec for rec in caplog.records if rec.name == "cnnlive"]
        assert len(records) == 1 and "stopped" in records[0].getMessage()
        assert records[0].exc_info[0] is RuntimeError
        assert job.log().count("live figure stopped: RuntimeError: this figure is broken") == 1
        assert job.state is JobState.RUNNING
    finally:
        job.stop()
        assert job.wait(30) is JobState.STOPPED


def test_finished_job_gets_a_last_frame_with_every_artist():
    job = _finished_job()
    view = Probe(job)
    view.animate(view.line)
    r = Renderer(fps=50)
    r.add(view)
    assert view.drawn.wait(30)
    deadline = time.monotonic() + 30
    while view in r.views and time.monotonic() < deadline:
        time.sleep(0.02)
    assert view not in r.views
    assert not view.line.get_animated()  # a later redraw by the backend keeps the line


def test_frame_push_is_chosen_once_per_figure():
    fig = Figure()
    FigureCanvasAgg(fig)
    assert compat.frame_push(fig.canvas).kind == "agg"
    from ipympl.backend_nbagg import Canvas

    widget_fig = Figure()
    Canvas(widget_fig)
    kind = compat.frame_push(widget_fig.canvas).kind
    assert kind == ("ipympl-binary" if compat._ipympl_checked() else "ipympl-refresh")
    view = Probe(_finished_job())
    assert view.push.kind == "agg"
