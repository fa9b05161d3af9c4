"""The renderer thread and the frame-push choice, without TensorFlow: views
are tiny Agg figures fed by real (async) jobs. Synchronised with events."""

import asyncio
import logging
import os
import threading
import time

import pytest

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import cnnlive as cl
from cnnlive.jobs import JobState
from cnnlive.views import compat
from cnnlive.views.live import Renderer
from cnnlive.views.view import View


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


class _Watch:
    """A watch over plain channels (what a view reads of a job)."""

    def __init__(self):
        from cnnlive.events import Channels

        self.id, self.name, self.kind, self.channels = 1, "probe", "train", Channels()
        self.state, self.done, self.progress_fraction, self.elapsed, self.result = JobState.RUNNING, False, 0.5, 1.0, None


def test_axes_redrawn_in_part_give_the_pixels_of_a_full_frame():
    import matplotlib.pyplot as plt
    import numpy as np

    from cnnlive.views.dashboard import TrainingDashboard

    watch = _Watch()
    view = TrainingDashboard(watch)
    view.resources.every = float("inf")  # one resource sample: both frames show the same numbers
    full_draws = []
    draw_full = view.push.draw_full
    view.push.draw_full = lambda canvas: (full_draws.append(1), draw_full(canvas))
    step = 0
    for frame in range(12):
        for _ in range(5):  # loss and speed leave their axes now and then: limits grow
            step += 1
            watch.channels.publish("metrics", {"loss": 0.5 + frame ** 2, "accuracy": step / 100, "lr": 1e-3,
                                               "samples_per_s": 100.0 * 1.6 ** frame, "epoch": 0.0,
                                               "epochs": 3, "step": step, "scope": "batch"})
        view.render()
    assert len(full_draws) <= 2, "limit changes redraw only the axes that moved"
    assert view.limits["x"] == 1.0  # the data's span (under one epoch), not the planned 3 epochs
    limits = dict(view.limits)
    for frame in range(3):  # values inside the limits: only the changed areas are drawn again
        step += 1
        watch.channels.publish("metrics", {"loss": 1.0 + frame, "accuracy": 0.5, "lr": 1e-3, "samples_per_s": 500.0,
                                           "epoch": 0.0, "epochs": 3, "step": step, "scope": "batch"})
        view.render()
    assert len(view._areas) >= 5  # the metric axes and the status strip blit on their own
    watch.state = JobState.PAUSED  # a new status line, drawn into its own strip
    view.render()
    assert view.limits == limits and "paused" in view.status.get_text()
    partial, before = np.asarray(view.canvas.get_renderer().buffer_rgba()).copy(), len(full_draws)
    view._background = None  # the same state, drawn in full
    view.render()
    full = np.asarray(view.canvas.get_renderer().buffer_rgba())
    assert len(full_draws) == before + 1
    assert np.array_equal(partial, full)
    view.fig.set_size_inches(8, 5)  # a resized figure: the cached pixels are stale, the next frame is full
    view.render()
    assert len(full_draws) == before + 2
    assert np.asarray(view.canvas.get_renderer().buffer_rgba()).shape[:2] == (500, 800)
    plt.close(view.fig)


def test_smoothing_is_the_moving_average_recurrence():
    import numpy as np

    from cnnlive.views.layout import _smooth

    values = list(np.random.default_rng(0).normal(size=700) + np.linspace(3, 0, 700))
    alpha, expected, y = 2 / 21, [], values[0]
    for v in values:
        y = alpha * v + (1 - alpha) * y
        expected.append(y)
    assert np.allclose(_smooth(values), expected, atol=1e-5)
    assert list(_smooth([2.0])) == [2.0]


def test_ipympl_frames_reach_a_front_end_that_has_not_answered_yet():
    """A figure shown while the kernel is busy (Run All, ``wait()`` in the
    next cell) gets no "initialized" from its front end until the cell ends:
    frames still go out, one binary message each, without ipympl's
    re-encoding of the whole figure for the saved picture on every frame;
    that picture is refreshed on full frames."""
    import base64
    import io

    from ipympl.backend_nbagg import _Backend_ipympl
    from PIL import Image

    fig = Figure(figsize=(2, 2))
    _Backend_ipympl.new_figure_manager_given_figure(9901, fig)
    canvas = fig.canvas
    sent = []
    canvas.send = lambda content, buffers=None: sent.append((content, buffers))  # the comm to the browser

    class Line(View):
        def __init__(self, job, fig):
            self.line, = fig.add_subplot().plot([], [])
            super().__init__(job, fig)

        def update(self):
            self.line.set_data(range(self.frames + 2), range(self.frames + 2))
            return True

    view = Line(_finished_job(), fig)
    if view.push.kind != "ipympl-binary":
        pytest.skip("ipympl outside the checked versions: frames use public API only")
    assert canvas.syncing_data_url  # no front end has answered
    canvas.send_binary = lambda data: pytest.fail("ipympl's send_binary re-encodes the whole figure now")
    for _ in range(3):
        view.render()
    frames = [b for c, b in sent if "binary" in str(c)]
    assert len(frames) == 3 and all(bytes(b[0]).startswith(b"\x89PNG") for b in frames)
    header, data = canvas._data_url.split(",", 1)
    assert header == "data:image/png;base64"
    assert Image.open(io.BytesIO(base64.b64decode(data))).size == canvas.get_width_height(physical=True)
    plt_close(fig)


def plt_close(fig):
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_ipympl_diff_frames_carry_every_change_since_the_last_whole_frame():
    """A diff frame holds the pixels that changed within the drawn areas
    since the last whole frame, in every area, and nothing else, cut after
    the last change: a frame the front end drops is repaired by the next
    one. No frame when no pixel changed; every few seconds a whole frame;
    the boxes reach back one whole frame more, in case it was lost."""
    import io

    import numpy as np
    from ipympl.backend_nbagg import _Backend_ipympl
    from matplotlib.transforms import Bbox
    from PIL import Image

    fig = Figure(figsize=(3, 2))
    _Backend_ipympl.new_figure_manager_given_figure(9902, fig)
    canvas = fig.canvas
    if not compat._ipympl_checked():
        pytest.skip("ipympl outside the checked versions")
    sent = []
    canvas.send = lambda content, buffers=None: sent.append(buffers)
    canvas.syncing_data_url = False  # the front end said "initialized"
    push = compat.frame_push(canvas)
    FigureCanvasAgg.draw(canvas)
    push.present(canvas, fig, True)
    assert canvas._image_mode == "full"
    assert Image.open(io.BytesIO(bytes(sent[-1][0]))).size == canvas.get_width_height(physical=True)
    h = canvas.get_width_height(physical=True)[1]
    pixels = np.asarray(canvas.get_renderer().buffer_rgba())
    left, right = Bbox([[0, h - 40], [60, h]]), Bbox([[100, h - 40], [160, h]])  # two areas (y grows upwards)
    pixels[10:20, 30:40] = (255, 0, 0, 255)

    def last():
        return np.asarray(Image.open(io.BytesIO(bytes(sent[-1][0]))))

    push.present(canvas, fig, False, [left, right])
    diff = last()
    assert canvas._image_mode == "diff" and diff.shape == (20, 40, 4)
    assert (diff[10:20, 30:40] == (255, 0, 0, 255)).all() and diff[:10].max() == 0 and diff[:, :30].max() == 0
    pixels[5:8, 120:125] = (0, 0, 255, 255)  # a change in the other area: the first one's comes again
    push.present(canvas, fig, False, [right])
    diff = last()
    assert diff.shape == (20, 125, 4)
    assert (diff[10:20, 30:40] == (255, 0, 0, 255)).all() and (diff[5:8, 120:125] == (0, 0, 255, 255)).all()
    assert diff[:, 40:120].max() == 0 and diff[:5].max() == 0
    pixels[30:35, 0:5] = (0, 255, 0, 255)  # outside the drawn areas: not looked at
    frames = len(sent)
    push.present(canvas, fig, False, [right])
    assert len(sent) == frames  # nothing changed where it drew: no frame
    push._full_at -= compat.FULL_FRAME_EVERY  # time for a whole frame again
    push.present(canvas, fig, False, [right])
    assert canvas._image_mode == "full" and (last()[30:35, 0:5] == (0, 255, 0, 255)).all()
    pixels[1:3, 1:3] = (9, 9, 9, 255)
    push.present(canvas, fig, False, [left, right])  # the boxes reach back one whole frame (it may be lost)
    assert canvas._image_mode == "diff" and last().shape == (20, 125, 4) and (last()[1:3, 1:3] == (9, 9, 9, 255)).all()
    push._full_at -= compat.FULL_FRAME_EVERY
    push.present(canvas, fig, False, [right])
    pixels[4:6, 4:6] = (7, 7, 7, 255)
    push.present(canvas, fig, False, [left])
    assert canvas._image_mode == "diff" and last().shape == (6, 6, 4)  # older changes are in both whole frames
    assert (last()[1:3, 1:3] == (9, 9, 9, 255)).all() and (last()[4:6, 4:6] == (7, 7, 7, 255)).all()
    plt_close(fig)


def test_fast_png_decodes_to_the_same_pixels():
    import io

    import numpy as np
    from PIL import Image

    from cnnlive.views.frames import fast_png

    rgba = np.random.default_rng(1).integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    rgba[5:20] = 0  # a diff frame is mostly transparent
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(fast_png(rgba)))), rgba)


def test_live_frames_do_not_ask_the_backend_for_a_second_full_draw():
    """In interactive mode pyplot calls ``draw_idle`` whenever a figure
    changes; a view draws its own changes, so its frames must not trigger a
    backend draw (a full frame each, plus a full frame of ours after it)."""
    import matplotlib

    from cnnlive.views.dashboard import TrainingDashboard

    was = matplotlib.is_interactive()
    matplotlib.interactive(True)
    try:
        watch = _Watch()
        view = TrainingDashboard(watch)
        idle = []
        view.canvas.draw_idle = lambda *a, **k: idle.append(1)
        for frame in range(6):  # limits move: some axes are redrawn
            watch.channels.publish("metrics", {"loss": 1.0 + 3 ** frame, "step": frame, "scope": "batch"})
            view.render()
        assert view.frames == 6 and not idle
        view.slots[0].set_title("a user's change")  # anything else still reaches the backend
        assert idle
    finally:
        matplotlib.interactive(was)


def test_sparse_png_keeps_the_rects_and_nothing_else():
    """Diff frames are built from stored pixels and cached runs of zeros;
    any rects (overlapping, at the edges, outside, none) decode to exactly
    those pixels on a transparent ground, with a valid zlib checksum."""
    import io
    import zlib

    import numpy as np
    from PIL import Image

    from cnnlive.views.frames import sparse_png

    rng = np.random.default_rng(2)
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(1, 50, 2))
        rgba = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        rects = []
        for _ in range(int(rng.integers(0, 5))):
            r0, c0 = int(rng.integers(-3, h)), int(rng.integers(-3, w))
            rects.append((r0, r0 + int(rng.integers(0, 30)), c0, c0 + int(rng.integers(0, 30))))
        kept = [(max(0, a), min(h, b), max(0, c), min(w, d)) for a, b, c, d in rects]
        kept = [k for k in kept if k[0] < k[1] and k[2] < k[3]] or [(0, 1, 0, 1)]  # nothing: the top-left pixel
        expected = np.zeros_like(rgba)
        for a, b, c, d in kept:
            expected[a:b, c:d] = rgba[a:b, c:d]
        png = sparse_png(rgba, rects)
        got = np.asarray(Image.open(io.BytesIO(png)))
        height, width = max(k[1] for k in kept), max(k[3] for k in kept)
        assert got.shape == (height, width, 4)
        assert np.array_equal(got, expected[:height, :width])
        zlib.decompress(png[png.index(b"IDAT") + 4: png.rindex(b"IEND") - 8])  # checks the Adler-32 sum
    wide = rng.integers(0, 256, (2, 40000, 4), dtype=np.uint8)  # rows longer than one stored block holds
    got = np.asarray(Image.open(io.BytesIO(sparse_png(wide, [(0, 2, 3, 39999)]))))
    assert np.array_equal(got[:, 3:], wide[:, 3:39999]) and got[:, :3].max() == 0


def test_a_front_end_that_drops_frames_still_shows_the_figure():
    """Play ipympl's front end for a live dashboard (a whole frame replaces
    the picture, a diff is drawn over it, transparent pixels keep what is
    there) and drop every third diff frame and a whole frame, as its view
    does with an image still loading: after every frame that arrives it
    shows exactly the figure's pixels."""
    import io

    import numpy as np
    import matplotlib.pyplot as plt
    from PIL import Image

    if not compat._ipympl_checked():
        pytest.skip("ipympl outside the checked versions")
    watch = _Watch()
    view, sent = _front_end_view(watch)
    screen, arrived, dropped = None, 0, 0
    rng = np.random.default_rng(3)
    step = 0
    for frame in range(40):
        for _ in range(7):
            step += 1
            watch.channels.publish("metrics", {"loss": 2.0 / (1 + step / 50) + 0.3 * rng.random(),
                                               "accuracy": min(1.0, step / 300), "samples_per_s": 900 + 50 * rng.random(),
                                               "epoch": float(step // 40), "epochs": 8, "step": step, "scope": "batch"})
        if frame in (25, 31):
            view.push._full_at -= compat.FULL_FRAME_EVERY  # a whole frame now (the first one is lost)
        before = len(sent)
        view.render()
        if len(sent) == before:
            continue
        mode, png = sent[-1]
        picture = np.asarray(Image.open(io.BytesIO(png))).copy()
        if (mode == "diff" and frame % 3 == 0) or frame == 25:
            dropped += 1
            continue
        if mode == "full":
            screen = picture
        else:
            h, w = picture.shape[:2]
            opaque = picture[..., 3] == 255
            assert ((picture[..., 3] == 0) | opaque).all()
            screen[:h, :w][opaque] = picture[opaque]
        arrived += 1
        assert np.array_equal(screen, np.asarray(view.canvas.get_renderer().buffer_rgba())), f"frame {frame}"
    assert arrived > 20 and dropped > 5
    plt.close(view.fig)


def _front_end_view(watch):
    """A live dashboard on an ipympl canvas whose frames land in a list (no comm)."""
    import matplotlib.pyplot as plt
    from ipympl.backend_nbagg import _Backend_ipympl

    from cnnlive.views.dashboard import TrainingDashboard

    with plt.rc_context({"backend": "module://ipympl.backend_nbagg"}):
        view = TrainingDashboard(watch)
    if view.push.kind != "ipympl-binary":
        _Backend_ipympl.new_figure_manager_given_figure(9904, view.fig)
        view.canvas = view.fig.canvas
        compat.lock_draws(view.canvas, view.lock)
        view.push = compat.frame_push(view.canvas)
    view.canvas.mpl_connect("draw_event", view._on_draw)
    sent = []
    view.canvas.send = lambda content, buffers=None: sent.append((view.canvas._image_mode, bytes(buffers[0])))
    view.canvas.syncing_data_url = False
    return view, sent


def _shown(sent, screen=None):
    """What ipympl's front end shows after the frames ``sent`` (a whole frame
    replaces the picture; a diff's opaque pixels go over it)."""
    import io

    import numpy as np
    from PIL import Image

    for mode, png in sent:
        picture = np.asarray(Image.open(io.BytesIO(png))).copy()
        if mode == "full":
            screen = picture
        else:
            h, w = picture.shape[:2]
            opaque = picture[..., 3] == 255
            screen[:h, :w][opaque] = picture[opaque]
    return screen


def _feed(watch, rng, first, n):
    for step in range(first, first + n):
        watch.channels.publish("metrics", {"loss": 2.0 / (1 + step / 50) + 0.3 * rng.random(),
                                           "accuracy": min(1.0, step / 300), "samples_per_s": 900 + 50 * rng.random(),
                                           "epoch": float(step // 40), "epochs": 8, "step": step, "scope": "batch"})
        if step % 40 == 39:
            watch.channels.publish("metrics", {"loss": 1.0 / (1 + step / 80), "accuracy": step / 400,
                                               "step": step // 40, "scope": "epoch"})


def _wait_for(condition, seconds=60.0):
    import time

    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


@pytest.mark.skipif(os.name != "posix", reason="the helper's pipe ends are Unix file descriptors")
def test_a_dashboard_drawn_by_the_helper_process_shows_what_the_kernel_would_draw():
    """The helper process draws the live dashboard from the watch's changes;
    the frames the kernel forwards build, on the front end, the same metric
    plots that a dashboard drawn in the kernel shows (the status line and
    the resource strip hold clocks and are left out), also after a resize.
    When the job ends the kernel draws the last frame itself."""
    import numpy as np

    from cnnlive.views import offload
    from cnnlive.views.dashboard import TrainingDashboard

    if not compat._ipympl_checked():
        pytest.skip("ipympl outside the checked versions")
    watch = _Watch()
    view, sent = _front_end_view(watch)
    helper = offload.helper()
    assert helper is not None
    view.twin = offload.Twin(view, helper)
    rng = np.random.default_rng(5)
    step = 0
    _wait_for(lambda: helper.ready)
    for frame in range(30):
        if frame == 15:
            view.fig.set_size_inches(9, 6, forward=False)  # as ipympl does on the front end's resize
            view.canvas._force_full = True
        _feed(watch, rng, step, 9)
        step += 9
        assert view.step()  # forwards the frame that came back, asks for the next one
        _wait_for(lambda: view.twin.vid in helper._replies)
    view.step()  # the last frame asked for
    assert not view.twin.in_flight
    kernel_drawn = view.frames
    assert view.twin is not None and kernel_drawn >= 25 and len(sent) == kernel_drawn
    assert sent[0][0] == "full" and any(mode == "diff" for mode, _ in sent[1:])

    screen = _shown(sent)
    reference = TrainingDashboard(watch)
    reference.fig.set_size_inches(9, 6, forward=False)
    reference.render()
    expected = np.asarray(reference.canvas.get_renderer().buffer_rgba())
    assert screen.shape == expected.shape == (600, 900, 4)
    plots = int(0.78 * expected.shape[0])  # above the resource strip
    assert np.array_equal(screen[:plots], expected[:plots])

    watch.done = True
    view.step()  # the last frame: drawn in the kernel, whole, with every artist
    assert view.twin is None and sent[-1][0] == "full"
    assert np.array_equal(_shown(sent[-1:])[:plots], np.asarray(view.canvas.get_renderer().buffer_rgba())[:plots])
    import matplotlib.pyplot as plt

    plt.close(view.fig)
    plt.close(reference.fig)


@pytest.mark.skipif(os.name != "posix", reason="the helper's pipe ends are Unix file descriptors")
def test_a_dashboard_goes_on_in_the_kernel_when_the_helper_process_dies(caplog):
    import numpy as np

    from cnnlive.views import offload

    if not compat._ipympl_checked():
        pytest.skip("ipympl outside the checked versions")
    helper = offload.Helper()
    watch = _Watch()
    view, sent = _front_end_view(watch)
    view.twin = offload.Twin(view, helper)
    rng = np.random.default_rng(6)
    _wait_for(lambda: helper.ready)
    _feed(watch, rng, 0, 9)
    view.step()
    _wait_for(lambda: view.step() and view.frames >= 1)
    assert view.twin is not None and view._drawn_elsewhere
    helper.proc.kill()
    helper.proc.wait()
    with caplog.at_level("WARNING", logger="cnnlive"):
        for frame in range(4):
            _feed(watch, rng, 9 + 9 * frame, 9)
            assert view.step()
    assert view.twin is None and view.frames >= 4
    assert "drawing helper process stopped" in caplog.text
    screen = _shown(sent)
    assert np.array_equal(screen, np.asarray(view.canvas.get_renderer().buffer_rgba()))
    import matplotlib.pyplot as plt

    plt.close(view.fig)


@pytest.mark.skipif(os.name != "posix", reason="the helper's pipe ends are Unix file descriptors")
def test_two_dashboards_with_long_histories_both_get_frames_from_the_helper():
    """Requests and answers larger than a pipe's buffer, for two views at
    once, flow both ways (neither end waits on the other's full pipe)."""
    import numpy as np

    from cnnlive.views import offload

    if not compat._ipympl_checked():
        pytest.skip("ipympl outside the checked versions")
    helper = offload.Helper()
    try:
        _wait_for(lambda: helper.ready)
        rng = np.random.default_rng(7)
        views = []
        for _ in range(2):
            watch = _Watch()
            _feed(watch, rng, 0, 3000)  # a first request of ~100 KB per view
            view, sent = _front_end_view(watch)
            view.twin = offload.Twin(view, helper)
            views.append((view, sent))
        for view, _ in views:
            assert view.step()
        for view, sent in views:
            _wait_for(lambda: view.twin.vid in helper._replies)
            view.step()
            assert len(sent) == view.frames == 1 and sent[0][0] == "full"
        assert not helper.failed
    finally:
        helper.close()
        import matplotlib.pyplot as plt

        for view, _ in views:
            plt.close(view.fig)


@pytest.mark.skipif(os.name != "posix", reason="the helper's pipe ends are Unix file descriptors")
def test_a_helper_that_stops_answering_is_given_up_and_the_kernel_draws(monkeypatch, caplog):
    import signal

    import numpy as np

    from cnnlive.views import offload

    if not compat._ipympl_checked():
        pytest.skip("ipympl outside the checked versions")
    monkeypatch.setattr(offload, "ANSWER_DEADLINE", 1.0)
    helper = offload.Helper()
    watch = _Watch()
    view, sent = _front_end_view(watch)
    try:
        view.twin = offload.Twin(view, helper)
        _wait_for(lambda: helper.ready)
        os.kill(helper.proc.pid, signal.SIGSTOP)  # hung: it reads nothing and answers nothing
        rng = np.random.default_rng(8)
        _feed(watch, rng, 0, 9)
        assert view.step() and view.twin.in_flight and not sent
        time.sleep(1.2)
        with caplog.at_level("WARNING", logger="cnnlive"):
            _feed(watch, rng, 9, 9)
            assert view.step()  # past the deadline: drawn here
        assert view.twin is None and helper.failed and view.frames == 1 and sent[-1][0] == "full"
        assert "no answer in 1 s" in caplog.text
        _wait_for(lambda: helper.proc.poll() is not None, 5.0)  # and ended, not left stopped
    finally:
        helper.close()
        import matplotlib.pyplot as plt

        plt.close(view.fig)
