"""User metrics named like cnnlive's series (issue 23, item 3): ``lr``,
``epoch``, ``batch_time``, ``step`` and ``scope`` keep their names and values
in the channels, the dashboard, the panel card, ``result.history``,
history.json, the runs table and ``cl.compare``; cnnlive's own series move to
``cnnlive_*`` and its step/scope travel under reserved keys."""

import json

import pytest

import cnnlive as cl
from cnnlive.events import SCOPE, STEP, Channels, metric_items, point

from .engines_helpers import digits

USER = {"lr": 0.5, "epoch": 7.0, "batch_time": 3.0, "step": 11.0, "scope": 2.0}


# -- the channels: one rule for every publisher ------------------------------------
def test_a_point_keeps_metrics_named_step_and_scope():
    c = Channels()
    c.publish("metrics", point({"loss": 1.0, "step": 11.0, "scope": 2.0}, 0, "batch"))
    c.publish("metrics", point({"loss": 0.5, "step": 12.0, "scope": 3.0}, 1, "batch"))
    c.publish("metrics", point({"loss": 0.7, "step": 13.0}, 1, "epoch"))
    batch, epoch = c.history("batch"), c.history("epoch")
    assert batch == {STEP: [0.0, 1.0], "loss": [1.0, 0.5], "step": [11.0, 12.0], "scope": [2.0, 3.0]}
    assert epoch == {STEP: [1.0], "loss": [0.7], "step": [13.0]}
    assert c.names("batch") == ["loss", "step", "scope"] and c.last("step") == 12.0
    assert metric_items(c.latest("metrics")) == {"loss": 0.7, "step": 13.0}


def test_a_dict_without_the_envelope_reads_as_before():
    c = Channels()
    c.publish("metrics", {"loss": 1.0, "step": 4})
    c.publish("metrics", {"loss": 0.6, "val_loss": 0.8, "scope": "epoch", "step": 1})
    assert c.history("batch") == {STEP: [4.0], "loss": [1.0]}
    assert c.history("epoch") == {STEP: [1.0], "loss": [0.6], "val_loss": [0.8]}
    assert metric_items({"loss": 1.0, "step": 4, "scope": "epoch"}) == {"loss": 1.0}
    assert metric_items(point({"loss": 1.0}, 3, "epoch")) == {"loss": 1.0}


def test_the_helper_process_copy_keeps_them():
    original, copy = Channels(), Channels()
    marks: dict = {}
    for i in range(5):
        original.publish("metrics", point({"loss": 1.0 / (i + 1), "step": 100.0 + i, "scope": -1.0}, i))
        copy.apply(original.changes(marks))
    assert copy.history("batch") == original.history("batch")
    assert copy.history("batch")["step"] == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert metric_items(copy.latest("metrics")) == {"loss": 0.2, "step": 104.0, "scope": -1.0}


# -- a real fit and a real cl.train ----------------------------------------------
def mine(lr: float = 2e-3):
    import keras

    class Mine(keras.Model):
        def train_step(self, data):
            return {**super().train_step(data), **USER}

    inp = keras.Input((28, 28, 1))
    m = Mine(inp, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inp)))
    m.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy")
    return m


def xy(n=96):
    ds = digits()
    return ds.x_train[:n], ds.labels_train[:n]


@pytest.mark.slow
def test_own_fit_channels_card_and_dashboard_keep_user_names():
    from cnnlive.views.dashboard import TrainingDashboard
    from cnnlive.views.panel_transport import card

    cb = cl.LiveCallback(name="names")
    fit = mine().fit(*xy(), epochs=2, batch_size=32, verbose=0, callbacks=[cb])
    r, channels = cb.result, cb.job.channels
    for key, value in USER.items():
        assert fit.history[key] == [value, value]
        assert r.history[key] == [value, value] and r.batch_history[key] == [value] * 6
        assert channels.history("batch")[key] == [value] * 6, key
        assert channels.history("epoch")[key] == [value, value], key
    assert channels.history("batch")[STEP] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert channels.history("epoch")[STEP] == [1.0, 2.0]
    assert channels.history("batch")["cnnlive_epoch"] == [0.0] * 3 + [1.0] * 3
    assert channels.history("epoch")["cnnlive_lr"] == pytest.approx([2e-3, 2e-3])
    assert "cnnlive_batch_time" in channels.history("batch") and "cnnlive_step" not in channels.history("batch")

    shown = card(cb.job.watch())  # the last point is epoch 2's row
    for key, value in USER.items():
        assert shown["metrics"][key] == value, key
    assert shown["metrics"]["cnnlive_lr"] == pytest.approx(2e-3)
    assert "cnnlive_batch_time" in shown["metrics"]  # cnnlive's twin is on the card, so the panel tells them apart
    assert "cnnlive_epoch" not in shown["metrics"] and shown["epoch"]["current"] == 2  # cnnlive's epoch, not 7 + 1
    assert not {STEP, SCOPE} & set(shown["metrics"])

    view = TrainingDashboard(cb.job)
    view.update()
    assert view.panels[0] == "loss" and set(view.panels[1:4]) <= set(USER) and len(view.panels) == 6
    assert view.panels[4:] == ["cnnlive_lr", "speed"]
    for key in view.panels[1:4]:
        assert list(view.lines[f"b_{key}"].get_data()[1]) == [USER[key]] * 6
        assert list(view.lines[f"e_{key}"].get_data()[0]) == [1.0, 2.0]  # epoch points at their epochs
    from cnnlive.views.dashboard import metric_names

    names = metric_names(channels.history("batch"), channels.history("epoch"))
    assert names[0] == "loss" and sorted(names[1:]) == sorted(USER)  # the dashboard draws the first four


@pytest.mark.slow
def test_saved_run_table_and_compare_keep_user_names(runs_dir):
    x, y = xy()
    job = cl.train(mine(), (x, y), epochs=2, batch_size=32, validation_data=(x[:32], y[:32]), name="named")
    assert job.wait(120).value == "completed", job.error
    saved = json.load(open(f"{job.run_dir}/history.json"))
    for key, value in USER.items():
        assert saved["epoch"][key] == [value, value] and saved["batch"][key] == [value] * 6, key
    assert saved["epoch"]["cnnlive_lr"] == pytest.approx([2e-3, 2e-3])
    assert saved["batch"]["cnnlive_epoch"] == [0.0] * 3 + [1.0] * 3

    table = cl.runs(str(runs_dir))
    (run,) = list(table)
    assert run.epochs == 2 and run.best[0] == "val_loss"
    from cnnlive.engines.runs import metric_names

    assert {"loss", "lr", "epoch", "batch_time", "step", "scope", "cnnlive_lr"} <= set(metric_names(run.history))

    names = ["lr", "epoch", "batch_time", "step", "scope"]
    view = cl.compare(job.run_dir, metrics=names)  # the saved run
    assert view.metrics == names
    for key in names:
        assert list(view.lines[(0, key, key)].get_ydata()) == [USER[key]] * 2, key
    live = cl.compare(job, metrics=names + ["cnnlive_lr"])  # the job's channels
    for key in names:
        x_, y_ = live.lines[(0, key, key)].get_data()
        assert list(x_) == [1.0, 2.0] and list(y_) == [USER[key]] * 2, key
    assert list(live.lines[(0, "cnnlive_lr", "cnnlive_lr")].get_ydata()) == pytest.approx([2e-3] * 2)
    default = cl.compare(job.run_dir)
    assert default.metrics == ["loss"]
    with pytest.raises(ValueError, match="unknown metric 'nope'; available: "):
        cl.compare(job, metrics=["nope"])
