import time

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

import cnnlive as cl
from cnnlive.jobs import JobState
from cnnlive.views.analysis import ImageView
from cnnlive.views.dashboard import TrainingDashboard
from cnnlive.views.live import Renderer

from .engines_helpers import digits, trained_cnn

pytestmark = pytest.mark.slow


def test_views_never_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys, matplotlib; matplotlib.use('Agg'); import cnnlive.views.live, cnnlive.views.grids, "
            "cnnlive.views.analysis, cnnlive.views.compat, cnnlive.views.resources, "
            "cnnlive.views.panel_transport; assert 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dashboard_updates_in_place_at_capped_rate(runs_dir, tmp_path):
    model = cl.models.simple_cnn()
    job = cl.train(model, digits(), epochs=3, batch_size=32)
    view = TrainingDashboard(job)
    r = Renderer(fps=5)
    fig_id = id(view.fig)
    r.add(view)
    t0 = time.monotonic()
    assert job.wait(120) is JobState.COMPLETED
    deadline = time.time() + 5
    while view in r.views and time.time() < deadline:
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    assert view not in r.views  # finished jobs stop rendering
    assert 1 <= view.frames <= 5 * elapsed + 2
    assert id(view.fig) == fig_id
    xs, ys = view.lines["b_loss"].get_data()
    assert len(ys) == len(job.result.batch_history["loss"])
    assert len(view.lines["v_accuracy"].get_data()[1]) == 3
    paths = job.save_plots(str(tmp_path))
    assert paths and all(p.endswith(".png") for p in paths)


def test_closed_figure_stops_rendering_quietly(runs_dir):
    import matplotlib.pyplot as plt

    job = cl.oip(trained_cnn(), layer="Conv2D_3", maps=[1, 2], steps=100000)
    view = ImageView(job)
    r = Renderer(fps=20)
    r.add(view)
    time.sleep(0.3)
    plt.close(view.fig)
    view.closed = True  # Agg has no window events; what close_event sets
    deadline = time.time() + 10
    while view in r.views and time.time() < deadline:
        time.sleep(0.05)
    assert view not in r.views
    assert job.state is JobState.RUNNING
    job.stop()
    assert job.wait(30) is JobState.STOPPED


def test_activation_grid_and_bad_input():
    import warnings

    m = trained_cnn()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no Keras input-structure warning in the user's cell
        fig = cl.activation_grid(m, digits().x_test[0], layer="Conv2D_1")
    (ax,) = [a for a in fig.axes if a.images]
    grid = ax.images[0].get_array()
    assert grid.shape == (4 * 26, 8 * 26)  # 32 maps, 8 per row, top-down
    assert ax.images[0].get_cmap().name == "magma"
    lines = ax.get_xgridlines() + ax.get_ygridlines()
    assert len(lines) == 7 + 3 and all(g.get_visible() and g.get_linewidth() == 0.5 for g in lines)  # thin lines
    # one common scale: the values are the activations themselves, weak maps stay dark
    weakest = int(np.argmin(grid.reshape(4, 26, 8, 26).max(axis=(1, 3)).ravel()))
    strongest = int(np.argmax(grid.reshape(4, 26, 8, 26).max(axis=(1, 3)).ravel()))
    tiles = grid.reshape(4, 26, 8, 26).transpose(0, 2, 1, 3).reshape(32, 26, 26)
    assert tiles[weakest].max() < tiles[strongest].max()
    per_map = cl.activation_grid(m, digits().x_test[0], layer="Conv2D_1", scale="per_map")
    tiles = per_map.axes[0].images[0].get_array().reshape(4, 26, 8, 26).transpose(0, 2, 1, 3).reshape(32, 26, 26)
    assert all(t.max() in (0.0, 1.0) for t in tiles)
    with pytest.raises(ValueError, match="unknown scale 'per-map'; valid: common, per_map"):
        cl.activation_grid(m, digits().x_test[0], layer="Conv2D_1", scale="per-map")
    with pytest.raises(ValueError, match="conv/pool layers: Conv2D_1, Max_Pool_1"):
        cl.activation_grid(m, digits().x_test[0], layer="Dense_1")
    with pytest.raises(ValueError, match=r"image has shape \(32, 32, 3\) but the model takes \(28, 28, 1\)"):
        cl.activation_grid(m, np.zeros((32, 32, 3)), layer="Conv2D_1")
