"""OIP quality beyond one ratio, layers without a ReLU, quality per epoch (issue 28, items 2-4)."""

import json

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.engines.oip import OIPResult, OIPSettings, prepare, search
from cnnlive.engines.oip.quality import QUERIES, REFERENCES, QualityTable

from .engines_helpers import digits, trained_cnn


def _pooled(sub, x):
    return np.concatenate([np.asarray(sub(x[i:i + 200], training=False), np.float64)
                           for i in range(0, len(x), 200)]).mean(axis=(1, 2))


def _table(ratio, informativeness, reproducibility=(np.nan,) * 3, oip_mean=(1.0,) * 3, data_mean=(0.0,) * 3):
    n = len(ratio)
    return QualityTable({"map": np.arange(n), "ratio": np.array(ratio, float),
                         "informativeness": np.array(informativeness, float), "natural": np.full(n, 0.9),
                         "similarity": np.full(n, 0.5), "reproducibility": np.array(reproducibility, float),
                         "oip_mean": np.array(oip_mean, float), "data_mean": np.array(data_mean, float)},
                        seeds=3, pairs=4, source="<b>test</b> & co")


@pytest.mark.slow
def test_the_quality_table_measures_informativeness_on_held_out_data():
    import keras

    from cnnlive.imaging import standardize

    model, data = trained_cnn(), digits()
    x = standardize(data.x_test)
    acts = _pooled(keras.Model(model.inputs[0], model.get_layer("Conv2D_3").output), x)
    live = [int(m) for m in np.argsort(-acts.mean(0))[:6]]  # maps the digits drive (a trained model has dead ones)
    spec = prepare(model, "Conv2D_3", live, OIPSettings(steps=120))
    spec.data = data.x_test
    r = search(spec)
    q = r.quality
    assert isinstance(q, QualityTable) and q.shape == (6,) and q.maps == live
    assert np.array_equal(np.asarray(q), q["ratio"]) and float(q[1]) == q["ratio"][1]  # the ratio, as before
    # brute force, the definition: strongest vs weakest of the odd half, cosine to the OIP's features
    # (spatial means of the layer below, Max_Pool_2, standardized over the data)
    below = keras.Model(model.inputs[0], model.get_layer("Max_Pool_2").output)
    feats = _pooled(below, x)
    mu, sd = feats.mean(0), feats.std(0) + 1e-6
    f, ref = (feats - mu) / sd, (_pooled(below, r.images) - mu) / sd
    odd = np.arange(1, len(x), 2)
    for i, m in enumerate(q.maps):
        order = odd[np.argsort(-acts[odd, m], kind="stable")]
        cos = (f @ ref[i]) / (np.linalg.norm(f, axis=1) * np.linalg.norm(ref[i]))
        s, w = cos[order[:QUERIES]], cos[order[-QUERIES:]]
        assert q["informativeness"][i] == pytest.approx((s[:, None] > w[None, :]).mean(), abs=1e-6)
    # natural exemplars (top 9 of the even half) predict live maps well above chance; their OIPs too
    assert np.mean(q["natural"]) > 0.75 and np.mean(q["informativeness"]) > 0.55, repr(q)
    assert np.all((q["reproducibility"] >= 0) & (q["reproducibility"] <= 1)) and q.seeds == 3
    assert q.pairs == QUERIES ** 2 and REFERENCES == 9


def test_a_unique_optimum_comes_back_from_every_seed():
    import keras

    inp = keras.Input((6, 6, 1))
    model = keras.Model(inp, keras.layers.Conv2D(2, 1, use_bias=False, name="c")(inp))
    model.get_layer("c").set_weights([np.array([[[[1.0, -1.0]]]], np.float32)])  # linear: no ReLU
    spec = prepare(model, "c", [0, 1], OIPSettings(steps=300, step_size=0.05, wavelengths=(3,), input_standardization="none"))
    spec.data = np.random.default_rng(0).random((40, 6, 6, 1)).astype(np.float32)
    q = search(spec).quality
    # the brightest image (map 0) and the darkest (map 1) are the only optima: every seed finds them
    assert np.allclose(q["reproducibility"], 1.0) and np.allclose(q["similarity"], 1.0, atol=1e-6), repr(q)
    assert not q.below_mean.any() and np.all(q["oip_mean"] > q["data_mean"])
    spec1 = prepare(model, "c", [0], OIPSettings(steps=5, wavelengths=(3,), input_standardization="none"))
    spec1.data, spec1.quality_seeds = spec.data, 1
    assert np.isnan(search(spec1).quality["reproducibility"]).all()  # one seed: nothing to compare
    before = len(cl.jobs.list())
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="quality_seeds must be a positive integer"):
            cl.oip(model, "c", maps=0, steps=5, wavelengths=(3,), data=spec.data, quality_seeds=bad)
    assert len(cl.jobs.list()) == before  # no job started


def test_table_views_escape_text_and_list_what_fails():
    q = _table([2.0, 0.5, 3.0], [0.9, 0.9, 0.4], reproducibility=[1.0, 1.0, 1.0],
               oip_mean=[1.0, 1.0, -0.2], data_mean=[0.0, 0.0, 0.1])
    assert q.failed(0) == [] and q.failed(1) == ["ratio"] and q.failed(2) == ["below data mean", "informativeness"]
    assert list(q.fails) == [False, True, True]
    page = q._repr_html_()
    assert "<table>" in page and "&lt;b&gt;test&lt;/b&gt; &amp; co" in page and "<b>test" not in page
    assert page.count('style="color:#d62728"') == 2 and "below data mean" in repr(q)
    with pytest.raises(KeyError, match="unknown quality measure 'nope'.*informativeness"):
        q["nope"]
    # code written against the ratio array keeps working (the example notebooks print quality.round(2))
    assert list(q.round(1)) == [2.0, 0.5, 3.0] and list(q >= 1) == [True, False, True] and q.max() == 3.0
    with pytest.raises(AttributeError):
        q.no_such_method
    summary = q.summary()
    assert summary["ratio"] == 2.0 and summary["passing"] == pytest.approx(1 / 3)


def test_grid_and_exemplars_mark_maps_failing_any_measure():
    import matplotlib.colors as mcolors

    images = np.random.default_rng(1).random((3, 8, 8, 1)).astype(np.float32)
    r = OIPResult(images, np.ones(3), [0, 1, 2], [(3.0,)] * 3, np.zeros((0, 3)), images[None], {"layer": "c"})
    r.quality = _table([2.0, 2.0, 0.5], [0.9, 0.5, 0.9], oip_mean=[1.0, 1.0, -1.0], data_mean=[0.0, 0.0, 0.0])
    fig = cl.oip_grid(r)
    red = mcolors.to_rgba("#d62728")
    marked = [mcolors.to_rgba(ax.title.get_color()) == red for ax in fig.axes[:3]]
    assert marked == [False, True, True]  # map 1 beats the data but is not informative
    assert "inf 0.50 / nat 0.90" in fig.axes[1].get_title() and "below data mean" in fig.axes[2].get_title()
    assert "fails a quality measure (2 of 3; 1 do not beat the data)" in fig._suptitle.get_text()

    from cnnlive.views.judge import exemplar_figure

    class Ex:
        maps, layer, labels = [1, 0], "c", None
        images = np.zeros((2, 2, 8, 8, 1), np.float32)
        crops, boxes, activations = images, np.zeros((2, 2, 4), int), np.ones((2, 2))

    fig = exemplar_figure(Ex(), r)
    assert "inf 0.50 / nat 0.90" in fig.axes[0].get_title() and "inf 0.90 / nat 0.90" in fig.axes[3].get_title()


def _bn_model():
    """conv (no ReLU) -> BatchNorm with the digits' statistics; map 1 has a negative
    scale (it starts far below its data mean on the search's noise), map 3 is constant."""
    import keras

    data = digits()
    inp = keras.Input((28, 28, 1))
    conv = keras.layers.Conv2D(4, 5, strides=2, name="conv")
    model = keras.Model(inp, keras.layers.BatchNormalization(name="bn")(conv(inp)))
    kernel = np.abs(np.random.default_rng(3).normal(size=(5, 5, 1, 4))).astype(np.float32) / 5
    kernel[..., 3] = 0.0
    conv.set_weights([kernel, np.zeros(4, np.float32)])
    z = np.asarray(conv(data.x_train)).reshape(-1, 4)
    model.get_layer("bn").set_weights([np.array([1.0, -1.0, 1.0, 1.0], np.float32), np.zeros(4, np.float32),
                                       z.mean(0).astype(np.float32), z.var(0).astype(np.float32)])
    return model, data


@pytest.mark.slow
def test_batchnorm_maps_rise_above_their_data_mean_or_are_reported_below_it():
    model, data = _bn_model()
    job = cl.oip(model, "bn", maps=[0, 1, 2, 3], steps=80, input_standardization="none", data=data)
    assert job.wait(300).value == "completed", job.error
    q = job.result.quality
    assert np.all(q["oip_mean"][:3] > q["data_mean"][:3]) and np.all(q["oip_mean"][:3] > 0), repr(q)
    assert list(q.below_mean) == [False, False, False, True]  # the constant map cannot rise: no pattern
    assert q.failed(3)[0] == "below data mean" and "below data mean" in cl.oip_grid(job).axes[3].get_title()
    assert "maps [3] end at or below their data mean (no pattern)" in job.log()


@pytest.mark.slow
def test_every_epoch_quality_is_an_epoch_series_saved_with_the_run_and_compared(tmp_path):
    from cnnlive.surfaces.panel_queries import compare_message

    data = digits().take(400, 100)
    watches = []
    for name in ("a", "b"):
        train = cl.train(cl.models.simple_cnn(), data, epochs=2, save=False)
        watch = cl.oip(train, layer="Conv2D_3", maps=[1, 2], steps=20, every="epoch", data=data,
                       run_dir=str(tmp_path / f"q{name}-1"))
        assert train.wait(300).value == "completed" and watch.wait(300).value == "completed", watch.error
        watches.append(watch)
    hist = watches[0].channels.history("epoch")
    epochs = [r.provenance["epoch"] for r in watches[0].result if r.provenance["epoch"] >= 1]
    from cnnlive.events.channels import STEP

    assert hist[STEP] == epochs and len(hist["oip_informativeness"]) == len(epochs)  # x positions: reserved key
    last = watches[0].result[-1].quality.summary()
    assert hist["oip_informativeness"][-1] == pytest.approx(last["informativeness"])
    saved = json.loads((tmp_path / "qa-1" / "history.json").read_text())
    assert len(saved["epoch"]["oip_ratio"]) == epochs[-1]
    assert saved["epoch"]["oip_passing"][-1] == pytest.approx(last["passing"])
    table = cl.runs(str(tmp_path), kind="oip")
    assert {r.folder: r.kind for r in table} == {"qa-1": "oip", "qb-1": "oip"}
    view = cl.compare("qa-1", "qb-1", watches[1], metrics=["oip_informativeness", "oip_ratio"],
                      folder=str(tmp_path))
    drawn = [line for line in view.axes["oip_informativeness"].lines if len(line.get_ydata())]
    assert len(drawn) == 3  # two saved runs and a job, one line each
    expected = [np.nan if v is None else v for v in saved["epoch"]["oip_informativeness"]]  # skipped epochs: missing
    assert list(drawn[0].get_ydata()) == pytest.approx(expected, nan_ok=True)
    message = compare_message(str(tmp_path), ["qa-1", "qb-1"], None)
    assert [len(r["history"]["oip_reproducibility"]) for r in message["runs"]] == [epochs[-1], 2]


def test_the_ascent_sums_a_linear_objective_before_its_gradient_and_ascends_the_same():
    """Speed (item 5): relu(z) and the pre-activation share go through one
    objective; the gradient is the one of the two objectives summed."""
    import tensorflow as tf

    from cnnlive.engines.oip.ascent import Ascent

    model = cl.models.simple_cnn()
    o = cl.objectives
    x = tf.random.stateless_normal((3, 28, 28, 1), (1, 2))
    maps, nodes = tf.constant([0, 5, 9]), tf.constant([[1, 1], [0, 2], [2, 0]])
    for objective in (o.Map(), o.Node(), o.Map() + 0.5 * o.Layer() - 0.25 * o.Node()):
        assert objective.linear
        ascent = Ascent(model, "Conv2D_3", objective)
        c = ascent.compiled._conv
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            score, ascend = ascent._objective(x, maps, nodes)
            z = tf.nn.conv2d(ascent.compiled.sub_in(x), c.kernel, 1, c.padding.upper()) + c.bias
            two = objective(tf.nn.relu(z), maps, nodes) + 0.01 * objective(z, maps, nodes)
        assert np.allclose(ascend, two, rtol=1e-5, atol=1e-6)
        assert np.allclose(tape.gradient(ascend, x), tape.gradient(two, x), rtol=1e-4, atol=1e-7)
        assert np.allclose(score, objective(tf.nn.relu(z), maps, nodes), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_exemplars_carry_their_own_informativeness_beside_each_map():
    from cnnlive.engines.oip.quality import natural_informativeness

    model, data = trained_cnn(), digits()
    ex = cl.exemplars(model, data, "Conv2D_3", maps=[3, 9], k=3)
    assert ex.informativeness.shape == (2,) and np.all((ex.informativeness >= 0) & (ex.informativeness <= 1))
    from cnnlive.engines.oip.judge import map_statistics

    means, _ = map_statistics(model, "Conv2D_3", [9], data.x_test)
    assert ex.informativeness[1] == pytest.approx(natural_informativeness(model, "Conv2D_3", [9], data.x_test,
                                                                          means)[0])
    titles = [ax.get_title() for ax in ex.figure.axes]
    assert f"map 3 · inf (exemplars) {ex.informativeness[0]:.2f}" in titles[0]
    assert f"map 9 · inf (exemplars) {ex.informativeness[1]:.2f}" in titles[3]


def test_the_table_computes_like_the_ratio_array_it_replaces():
    q = _table([2.0, 1.0, 0.5], [0.9, 0.9, 0.9])
    ratio = np.array([2.0, 1.0, 0.5])
    assert list(q == 1) == [False, True, False] and list(q != 1) == [True, False, True]
    assert np.array_equal(q * 2, ratio * 2) and np.array_equal(1 / q, 1 / ratio)
    assert np.array_equal(q - 1, ratio - 1) and np.array_equal(-q, -ratio) and np.array_equal(q + q, 2 * ratio)
    assert list(q >= 1) == [True, True, False] and list(1 < q) == [True, False, False]
    assert np.array_equal(np.log(q), np.log(ratio)) and type(q * 2) is np.ndarray
    part = q.select([0, 2])
    assert isinstance(part, QualityTable) and part.maps == [0, 2] and list(part) == [2.0, 0.5]
    assert list(part["informativeness"]) == [0.9, 0.9] and part.seeds == 3 and part.source == q.source


def test_a_sweep_split_keeps_the_quality_table_of_each_wavelength_set():
    from cnnlive.engines.oip import by_wavelengths

    images = np.random.default_rng(2).random((4, 8, 8, 1)).astype(np.float32)
    waves = [(14.0,), (3.0,), (14.0,), (3.0,)]
    r = OIPResult(images, np.ones(4), [0, 0, 1, 1], waves, np.zeros((0, 4)), images[None], {"layer": "c"})
    r.quality = _table([2.0, 0.5, 3.0, 0.7], [0.9, 0.4, 0.8, 0.6], reproducibility=[1.0, 0.2, 1.0, 0.3],
                       oip_mean=[1.0] * 4, data_mean=[0.0] * 4)
    parts = by_wavelengths(r)
    coarse, fine = parts[(14.0,)].quality, parts[(3.0,)].quality
    assert isinstance(coarse, QualityTable) and coarse.maps == [0, 2] and list(coarse) == [2.0, 3.0]
    assert list(fine["informativeness"]) == [0.4, 0.6] and list(fine["reproducibility"]) == [0.2, 0.3]
    assert list(fine.fails) == [True, True] and not coarse.fails.any()


class _Recorder:
    """A job's reporter as the search sees it: records progress and images; ``stop(calls)`` says when
    a graceful stop is requested (then every later poll is True, as with a job)."""

    run_dir, end_request = None, None

    def __init__(self, stop=lambda calls: False):
        self.calls, self.images, self.logs, self.stop, self.stopped = [], 0, [], stop, False

    def publish(self, channel, value):
        self.images += channel == "images"
        if channel == "log":
            self.logs.append(value)

    def progress(self, done, total=None):
        self.calls.append((done, total))

    def keep(self, result):
        pass

    def poll(self):
        self.stopped = self.stopped or self.stop(self.calls)
        return self.stopped


def _linear_spec(steps=200):
    import keras

    inp = keras.Input((6, 6, 1))
    model = keras.Model(inp, keras.layers.Conv2D(2, 1, use_bias=False, name="c")(inp))
    model.get_layer("c").set_weights([np.array([[[[1.0, -1.0]]]], np.float32)])
    spec = prepare(model, "c", [0, 1], OIPSettings(steps=steps, step_size=0.05, wavelengths=(3,),
                                                    input_standardization="none"))
    spec.data = np.random.default_rng(0).random((40, 6, 6, 1)).astype(np.float32)
    return spec


def test_progress_spans_the_extra_seeds_whose_search_runs_long_chunks_without_grids():
    spec, rec = _linear_spec(), _Recorder()
    q = search(spec, rec).quality
    done = [d for d, _ in rec.calls]
    assert {t for _, t in rec.calls} == {600.0}  # 200 steps x 3 seeds
    assert done == sorted(done) and done[-1] == 600  # the bar fills only when the extra search ends
    main, extra = done[:20], done[20:]
    assert main == list(range(10, 210, 10)) and rec.images == 20  # a live grid per chunk of the search only
    assert extra and all(b - a >= 2 * 50 for a, b in zip([200] + extra, extra))  # long chunks, 2 seeds each
    assert np.isfinite(q["reproducibility"]).all() and q.note == ""


def test_after_a_stop_diversity_and_reproducibility_stay_unmeasured_with_a_note():
    import asyncio

    from cnnlive.engines.oip.work import oip_work

    spec = _linear_spec()
    during_search = _Recorder(lambda calls: len(calls) >= 3)  # Stop in the search itself
    q = search(spec, during_search).quality
    assert len(during_search.calls) == 3  # no extra search after the stop
    assert np.isnan(q["similarity"]).all() and np.isnan(q["reproducibility"]).all()
    assert "reproducibility" not in q.failed(0) and "not measured" in q.note and "not measured" in repr(q)
    assert "stopped" in q._repr_html_()
    during_extra = _Recorder(lambda calls: calls[-1][0] > 200)  # Stop in the extra seeds' search
    q = search(spec, during_extra).quality
    assert during_extra.calls[-1][0] < 600 and np.isnan(q["reproducibility"]).all() and "not measured" in q.note
    rec = _Recorder(lambda calls: len(calls) >= 3)
    asyncio.run(oip_work(rec, spec))
    assert any("diversity and reproducibility not measured" in line for line in rec.logs), rec.logs


@pytest.mark.slow
def test_a_stopped_oip_job_reports_reproducibility_unmeasured_not_failing(runs_dir):
    import time

    spec = _linear_spec()
    job = cl.oip(spec.model, "c", maps=[0, 1], steps=100_000, step_size=0.05, wavelengths=(3,),
                 input_standardization="none", data=spec.data)
    deadline = time.monotonic() + 120
    while job.progress[0] < 20 and not job.done and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.progress[1] == 300_000  # 100 000 steps x 3 seeds
    job.stop()
    job.wait(120)
    q = job.result.quality
    assert job.result.steps_done < 100_000 and np.isnan(q["reproducibility"]).all(), repr(q)
    assert not any("reproducibility" in q.failed(i) for i in range(len(q))) and "not measured" in q.note
    assert "diversity and reproducibility not measured" in job.log()
