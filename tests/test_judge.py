"""OIP quality against data, exemplars and receptive fields (issue 17, part 4)."""

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.imaging import standardize
from cnnlive.engines.oip.judge import exemplars, oip_quality
from cnnlive.engines.oip import OIPSettings, prepare, search
from cnnlive.engines.oip.receptive import receptive_field

from .engines_helpers import digits, trained_cnn

pytestmark = pytest.mark.slow


def _map_means(model, layer, x):
    import keras

    sub = keras.Model(model.inputs[0], model.get_layer(layer).output)
    return np.concatenate([np.asarray(sub(x[i:i + 500], training=False)) for i in range(0, len(x), 500)]).mean(axis=(1, 2))


def _live_maps(model, data, n):
    """The first ``n`` maps of Conv2D_3 that some test digit drives (a trained
    model has a few dead maps; which ones depends on the run)."""
    best = _map_means(model, "Conv2D_3", standardize(data.x_test)).max(axis=0)
    return [int(m) for m in np.flatnonzero(best > 0)[:n]]


def test_quality_is_oip_activation_over_best_data_activation():
    model, data = trained_cnn(), digits()
    maps = _live_maps(model, data, 6)
    job = cl.oip(model, layer="Conv2D_3", maps=maps, steps=200, data=data)
    assert job.wait(300).value == "completed", job.error
    r = job.result
    assert r.quality.shape == (6,) and r.maps == maps
    best = _map_means(model, "Conv2D_3", standardize(data.x_test))[:, maps].max(axis=0)  # brute force
    own = _map_means(model, "Conv2D_3", r.images)[np.arange(6), maps]
    assert np.allclose(r.data_best, best, rtol=1e-4) and np.all(best > 0)
    assert np.allclose(r.quality, own / best, rtol=1e-3)
    i = int(np.argmax(r.quality))
    assert r.quality[i] > 1, r.quality  # a trained map whose OIP works beats every test digit
    assert np.isclose(_map_means(model, "Conv2D_3", standardize(data.x_test[r.data_best_index[i]][None]))[0, maps[i]],
                      best[i], rtol=1e-4)


def test_quality_of_a_map_no_data_image_drives_is_inf_or_nan():
    import keras

    from cnnlive.engines.oip import OIPResult

    inp = keras.Input((4, 4, 1))
    model = keras.Model(inp, keras.layers.Conv2D(2, 1, activation="relu", name="c")(inp))
    model.get_layer("c").set_weights([np.array([[[[1.0, -1.0]]]], np.float32), np.zeros(2, np.float32)])
    spec = prepare(model, "c", [0, 1], OIPSettings(steps=1, wavelengths=(3,)))
    spec.input_standardization = "none"  # raw pixels, so the data below stay non-positive
    images = np.stack([np.ones((4, 4, 1)), np.ones((4, 4, 1)), np.zeros((4, 4, 1))]).astype(np.float32)
    r = OIPResult(images, np.zeros(3), [0, 1, 0], [(3.0,)] * 3, np.zeros((0, 3)),
                  images[None], {})
    data = -np.random.default_rng(0).random((5, 4, 4, 1)).astype(np.float32)  # map 0 = relu(x): silent on them
    oip_quality(spec, r, data)
    assert np.isinf(r.quality[0]) and r.quality[1] == 0.0 and np.isnan(r.quality[2])
    assert r.data_best[0] == 0
    assert r.data_best[1] == pytest.approx(float((-data).mean(axis=(1, 2, 3)).max()), rel=1e-5)
    fig = cl.oip_grid(r)
    assert "q ∞" in fig.axes[0].get_title() and "q nan" in fig.axes[2].get_title()


def test_grid_marks_exactly_the_maps_that_do_not_beat_the_data():
    import matplotlib.colors as mcolors

    model, data = trained_cnn(), digits()
    spec = prepare(model, "Conv2D_3", _live_maps(model, data, 4), OIPSettings(steps=200, seed=2))
    r = search(spec)
    r.images[1] = 0.0  # a flat image cannot beat the digits on a live map
    oip_quality(spec, r, data.x_test)
    assert r.quality[1] < 1 and np.nanmax(r.quality) > 1, r.quality
    fig = cl.oip_grid(r)
    red = mcolors.to_rgba("#d62728")
    marked = [mcolors.to_rgba(ax.title.get_color()) == red for ax in fig.axes[:4]]
    assert marked == [not q >= 1 for q in r.quality]
    framed = [ax.axison and mcolors.to_rgba(ax.spines["top"].get_edgecolor()) == red for ax in fig.axes[:4]]
    assert framed == marked
    assert f"does not beat the data ({sum(marked)} of 4)" in fig._suptitle.get_text()
    i = int(np.nanargmax(r.quality))
    assert f"q {r.quality[i]:.2f}" in fig.axes[i].get_title()


def test_exemplars_are_the_top_k_by_mean_activation():
    model, data = trained_cnn(), digits()
    ex = cl.exemplars(model, data, "Conv2D_2", maps=[1, 4, 30], k=5, plot=False)
    assert ex.images.shape == (3, 5, 28, 28, 1) and ex.crops.shape[:2] == (3, 5)
    means = _map_means(model, "Conv2D_2", data.x_test)
    for row, m in enumerate([1, 4, 30]):
        top = np.argsort(-means[:, m], kind="stable")[:5]
        assert list(ex.indices[row]) == list(top)
        assert np.allclose(ex.activations[row], means[top, m], rtol=1e-4)
        assert np.array_equal(ex.images[row], data.x_test[top])
        assert list(ex.labels[row]) == list(data.labels_test[top])


def test_crops_have_the_receptive_field_size_and_come_from_the_peak():
    import keras

    model, data = trained_cnn(), digits()
    # simple_cnn: conv3 -> pool2 -> conv3 -> pool2 -> conv3: 3, 4, 8, 10, 18 pixels
    for layer, size in [("Conv2D_1", 3), ("Max_Pool_1", 4), ("Conv2D_2", 8), ("Max_Pool_2", 10), ("Conv2D_3", 18)]:
        assert receptive_field(model, layer).size == (size, size)
    ex = cl.exemplars(model, data, "Conv2D_3", maps=[2, 9], k=3, plot=False)
    assert ex.crops.shape == (2, 3, 18, 18, 1) and ex.field_size == (18, 18)
    sub = keras.Model(model.inputs[0], model.get_layer("Conv2D_3").output)
    act = np.asarray(sub(ex.images[0], training=False))[..., 2]  # (3, 3, 3)
    for j in range(3):
        r, c = np.unravel_index(act[j].argmax(), act[j].shape)
        assert tuple(ex.peaks[0, j]) == (r, c)
        top, left = 4 * r, 4 * c  # valid convs: position i sees input rows 4i .. 4i+17
        assert tuple(ex.boxes[0, j]) == (top, left, top + 18, left + 18)
        assert np.array_equal(ex.crops[0, j], ex.images[0, j, top:top + 18, left:left + 18])


def test_receptive_field_matches_the_gradient_support():
    """Same padding, strides, dilation, zero padding, average pooling and Add:
    the input pixels a position depends on (non-zero gradient) are its field."""
    import keras
    import tensorflow as tf

    inp = keras.Input((23, 21, 1))
    a = keras.layers.Conv2D(2, 5, strides=2, padding="same", name="c1")(inp)
    b = keras.layers.ZeroPadding2D(((1, 0), (2, 1)), name="zp")(a)
    c = keras.layers.Conv2D(2, 3, dilation_rate=2, padding="same", name="c2")(b)
    d = keras.layers.AveragePooling2D(2, name="ap")(c)
    e = keras.layers.Conv2D(2, 3, padding="valid", name="c3")(d)
    f = keras.layers.Add(name="add")([e, keras.layers.Conv2D(2, 1, padding="valid", name="skip")(e)])
    model = keras.Model(inp, f)
    for w in model.weights:
        w.assign(tf.ones_like(w) * 0.1)
    x = tf.ones((1, 23, 21, 1))
    for layer in ("c1", "zp", "c2", "ap", "c3", "add"):
        field = receptive_field(model, layer)
        assert field.exact
        h, w = (int(v) for v in model.get_layer(layer).output.shape[1:3])
        sub = keras.Model(inp, model.get_layer(layer).output)
        for r, col in {(0, 0), (h // 2, w // 2), (h - 1, w - 1)}:
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = sub(x)[0, r, col, 0]
            g = np.abs(tape.gradient(y, x).numpy()[0, ..., 0]) > 0
            rows, cols = np.flatnonzero(g.any(axis=1)), np.flatnonzero(g.any(axis=0))
            top, left, bottom, right = field.box(r, col)
            want = (max(top, 0), max(left, 0), min(bottom, 23) - 1, min(right, 21) - 1)
            if layer == "zp" and not len(rows):
                continue  # a padded position sees nothing
            assert (rows[0], cols[0], rows[-1], cols[-1]) == want, (layer, r, col)


def test_exemplar_figure_sets_exemplars_beside_the_oip():
    model, data = trained_cnn(), digits()
    r = search(prepare(model, "Conv2D_3", [5, 6], OIPSettings(steps=20)))
    ex = cl.exemplars(model, data, "Conv2D_3", maps=[6, 5], k=4, oip=r)
    axes = ex.figure.axes
    assert len(axes) == 2 * 5
    assert axes[0].get_title().startswith("OIP map 6") and axes[5].get_title().startswith("OIP map 5")
    assert np.allclose(axes[0].images[0].get_array().shape, (28, 28))
    assert len(axes[1].patches) == 1  # the receptive field frame
    crops = cl.exemplars(model, data, "Conv2D_3", maps=6, k=2, oip=r, show="crops")
    assert crops.figure.axes[1].images[0].get_array().shape == (18, 18)


def test_bad_input_names_the_valid_choices():
    model, data = trained_cnn(), digits()
    with pytest.raises(ValueError, match=r"shape \(8, 8, 1\).*takes \(28, 28, 1\)"):
        cl.exemplars(model, np.zeros((5, 8, 8, 1)), "Conv2D_3", maps=0, plot=False)
    with pytest.raises(ValueError, match="unknown layer 'Conv9'.*Conv2D_1"):
        cl.exemplars(model, data, "Conv9", maps=0, plot=False)
    with pytest.raises(ValueError, match=r"out of range.*0\.\.127"):
        cl.exemplars(model, data, "Conv2D_3", maps=[1, 128], plot=False)
    for k in (0, -2, 2.5):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            cl.exemplars(model, data, "Conv2D_3", maps=0, k=k, plot=False)
    with pytest.raises(ValueError, match=r"only 3 images; choose k in 1\.\.3"):
        cl.exemplars(model, data.x_test[:3], "Conv2D_3", maps=0, k=4, plot=False)
    before = len(cl.jobs.list())
    with pytest.raises(ValueError, match=r"shape \(8, 8, 1\).*takes \(28, 28, 1\)"):
        cl.oip(model, "Conv2D_3", maps=0, steps=5, data=np.zeros((4, 8, 8, 1)))
    assert len(cl.jobs.list()) == before  # no job started


def test_an_oip_job_with_data_says_which_maps_do_not_beat_it():
    model, data = trained_cnn(), digits()
    job = cl.oip(model, layer="Conv2D_3", maps=[3, 7], steps=1, data=data)  # one step: still noise
    assert job.wait(120).value == "completed", job.error
    weak = [m for m, q in zip(job.result.maps, job.result.quality) if not q >= 1]
    caption = job.channels.latest("images")["caption"]
    assert weak and f"{len(weak)} of 2 OIPs do not beat the data (maps {weak})" in caption
    assert "quality:" in job.log()
