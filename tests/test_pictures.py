"""The seeds' pictures: OIP evolution and dream views (live and static),
exports (GIF, stage sheet), resource graphs, the seeds' L2 placement."""

import time

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
from PIL import Image

import cnnlive as cl
from cnnlive.jobs import JobState
from cnnlive.views.analysis import DreamView, OIPView
from cnnlive.views.grids import dream_figure, oip_evolution_figure
from cnnlive.views.factory import make_view
from cnnlive.views.live import Renderer
from cnnlive.views.resources import ResourceGraphs, ResourceHistory

from .engines_helpers import trained_cnn

pytestmark = pytest.mark.slow


def _rendered_until_done(view):
    r = Renderer(fps=20)
    r.add(view)
    assert view.job.wait(300) is JobState.COMPLETED
    deadline = time.monotonic() + 60
    while view in r.views and time.monotonic() < deadline:
        time.sleep(0.05)
    assert view not in r.views and view.frames >= 1


def test_oip_view_shows_snapshots_and_objective_and_exports(runs_dir, tmp_path):
    job = cl.oip(trained_cnn(), layer="Conv2D_3", maps=[1, 2, 3], steps=60, snapshots=4)
    view = make_view(job)
    assert isinstance(view, OIPView)
    _rendered_until_done(view)
    res = job.result
    s = len(res.evolution)
    evo = view.im_evo.get_array()
    assert evo.shape == (3 * 28 + 2, s * 28 + s - 1)  # one row per pattern, one column per snapshot
    assert len(view.curves) == 3
    x, y = view.curves[0].get_data()
    assert len(y) == len(res.curves) and x[-1] == res.steps_done
    np.testing.assert_allclose(y, res.curves[:, 0])
    fig = oip_evolution_figure(res)
    assert sum(1 for a in fig.axes if a.images) == 3 * s and len(fig.axes[-1].lines) == 3
    gif = Image.open(res.save_gif(str(tmp_path / "evolution.gif")))
    assert gif.n_frames == len(res.timeline) > s  # the GIF is the whole kept timeline, finer than the snapshots


def test_dream_view_shows_original_stages_result_and_sheet(runs_dir, tmp_path):
    job = cl.dream(trained_cnn(), layer="Conv2D_2", maps=3, iterations=2, steps=5, levels=1, size=112)
    view = make_view(job)
    assert isinstance(view, DreamView)
    _rendered_until_done(view)
    res = job.result
    assert res.original is not None and res.original.shape == res.image.shape
    assert len(res.stages) == 4 and view.ax_now.get_title() == res.stages[-1][0]
    assert view.ims["orig"].get_array().shape == res.original.shape[:2]
    assert view.ims["stages"].get_array().shape[1] > 4 * (112 // 4)
    fig = dream_figure(res.original, res.stages)
    assert [a.get_title() for a in fig.axes if a.images] == ["original"] + [label for label, _ in res.stages]
    sheet = Image.open(res.save_stages(str(tmp_path / "stages.png"), cols=5, side=64))
    assert sheet.size == (5 * 68 + 4, 84 + 4)


def test_resource_graphs_keep_a_short_history():
    from matplotlib.figure import Figure

    hist = ResourceHistory(keep=5, every=0.0)
    graphs = ResourceGraphs(Figure(), (0, 0, 1, 0.2), hist)
    x = np.ones(10_000_000)  # some RAM and CPU to see
    for _ in range(8):
        graphs.update()
        x = x * 1.0001
    assert len(hist.t) == 5 and len(graphs.lines[1].get_ydata()) == 5
    assert min(hist.ram) > 50 and graphs.axes[1].get_ylim()[1] >= max(hist.ram)
    assert "CPU" in hist.text() and "RAM" in hist.text()


def test_dashboard_has_live_resource_graphs(runs_dir):
    job = cl.train(cl.models.simple_cnn(), "digits", epochs=1, batch_size=64, save=False)
    view = make_view(job)
    _rendered_until_done(view)
    titles = [a.get_title() for a in view.fig.axes]
    assert {"kernel CPU %", "kernel RAM MB"} <= set(titles)
    assert any(t.startswith("GPU memory MB") for t in titles)
    assert len(view.graphs.lines[1].get_ydata()) >= 1


def test_seeds_regularize_dense_layers_only_unless_asked():
    m = cl.models.simple_cnn(regularizer="l2")
    assert m.get_layer("Conv2D_1").kernel_regularizer is None
    assert m.get_layer("Dense_1").kernel_regularizer is not None
    assert m.get_layer("Output").kernel_regularizer is not None
    m2 = cl.models.simple_cnn(regularizer="l1", reg_factor=0.01, regularize_conv=True)
    assert all(m2.get_layer(f"Conv2D_{i}").kernel_regularizer is not None for i in (1, 2, 3))
    with pytest.raises(ValueError, match="regularize_conv=True needs a regularizer; valid: l2, l1"):
        cl.models.simple_cnn(regularize_conv=True)
