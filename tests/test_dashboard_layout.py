"""The live dashboard fits its output area: no empty grid slots, labels that
never overlap, an x axis that follows the data (fast, Agg)."""

import matplotlib

matplotlib.use("Agg")
import itertools

import pytest

import cnnlive as cl
from cnnlive.views.dashboard import TrainingDashboard
from cnnlive.views.layout import figure_inches, x_limit

from .test_render import _Watch


def _feed(watch, metrics, extra, epochs=3, planned=200):
    step = 0
    for ep in range(epochs):
        for _ in range(10):
            step += 1
            m = {n: 1.0 / (1 + 0.05 * step) for n in metrics}
            if extra:
                m.update(lr=1e-3, samples_per_s=900.0 + step)
            watch.channels.publish("metrics", dict(m, epoch=float(ep), epochs=planned, step=step, scope="batch"))
        e = {n: 0.5 for n in metrics} | {f"val_{n}": 0.6 for n in metrics}
        watch.channels.publish("metrics", dict(e, epoch=float(ep), epochs=planned, step=ep + 1, scope="epoch"))


def _boxes(view):
    view.fig.canvas.draw()
    r = view.fig.canvas.get_renderer()
    return [(ax, ax.get_tightbbox(r)) for ax in view.fig.axes if ax.get_visible()]


@pytest.mark.parametrize("n, extra", itertools.product([1, 2, 3, 4], [False, True]))
def test_dashboard_has_no_empty_slot_and_no_overlap(n, extra):
    watch = _Watch()
    view = TrainingDashboard(watch)
    _feed(watch, ["loss", "accuracy", "top3", "auc"][:n], extra)
    with view.lock:
        view.update()
    width_px = view.fig.get_size_inches()[0] * view.fig.dpi
    assert width_px <= cl.config.figure_width
    shown = [ax for ax in view.slots if ax.get_visible()]
    assert len(shown) == n + 2 * extra
    rows: dict[float, list] = {}
    for ax in shown:
        rows.setdefault(round(ax.get_position().y0, 6), []).append(ax)
    for axes in rows.values():  # every row spans the figure's width: no empty slot at its end
        assert max(ax.get_position().x1 for ax in axes) > 0.95
        assert min(ax.get_position().x0 for ax in axes) < 0.12
    boxes = _boxes(view)  # titles, tick labels and x labels included
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        assert not ba.overlaps(bb), (a.get_title(), b.get_title())
    fig_box = view.fig.bbox
    for _, box in boxes:
        assert box.x0 >= -1 and box.x1 <= fig_box.x1 + 1, "nothing cut off at the right edge"


def test_x_axis_follows_the_data_not_the_planned_epochs():
    watch = _Watch()
    view = TrainingDashboard(watch)
    _feed(watch, ["loss"], False, epochs=3, planned=200)
    with view.lock:
        view.update()
    lo, hi = view.slots[0].get_xlim()
    assert lo == 0 and 3.0 <= hi <= 4.0  # the curves fill most of the axes at epoch 3 of 200
    assert x_limit(2.6, 3.0) == 3.0 and x_limit(170.0, 190.0) == 190.0 and x_limit(0.4) == 1.0


def test_size_argument_and_setting():
    assert figure_inches((6, 4)) == (6.0, 4.0)
    with pytest.raises(ValueError, match="width, height"):
        figure_inches((6, -1))
    old = cl.config.figure_width
    try:
        cl.config.figure_width = 800
        assert figure_inches(None)[0] == 8.0
    finally:
        cl.config.figure_width = old


def test_compare_view_has_no_empty_slot():
    from cnnlive.views.compare import CompareView

    view = CompareView([_Watch()], ["loss", "accuracy", "top3", "auc", "mse"])
    assert len(view.fig.axes) == 5 and all(ax.get_visible() for ax in view.fig.axes)
    assert view.fig.get_size_inches()[0] * view.fig.dpi <= cl.config.figure_width
    view.fig.canvas.draw()
    r = view.fig.canvas.get_renderer()
    for a, b in itertools.combinations(view.fig.axes, 2):
        assert not a.get_tightbbox(r).overlaps(b.get_tightbbox(r))
