"""Own fits and loops end the way Keras says (issue 23): endings from what
really happened, requests before the fit, user metrics' names, the reason
of an early end, the optimizers that really train, pause at the gate."""

import threading
import warnings

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.jobs import JobState
from cnnlive.jobs.attached import WATCH_EVERY_S, FitCancelled

from .engines_helpers import digits

pytestmark = pytest.mark.slow


def model(compile_=True):
    import keras

    inp = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    m = keras.Model(inp, keras.layers.Dense(10, activation="softmax")(x), name="small")
    if compile_:
        m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def xy(n=96):
    ds = digits()
    return ds.x_train[:n], ds.labels_train[:n]


def unknown_length(n=96, batch=32):
    """A pipeline of unknown length (as .filter or from_generator give)."""
    import tensorflow as tf

    x, y = xy(n)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True).batch(batch)
    assert int(ds.cardinality()) == -2  # tf.data.UNKNOWN_CARDINALITY
    return ds


def at_batch(n, fn):
    """A callback that calls ``fn`` after global batch ``n`` (1-based)."""
    import keras

    class At(keras.callbacks.Callback):
        seen = 0

        def on_train_batch_end(self, batch, logs=None):
            At.seen += 1
            if At.seen == n:
                fn()

    return At()


class Boom(Exception):
    pass


def test_unknown_length_pipeline_completes_every_epoch():
    cb = cl.LiveCallback(name="unknown")
    history = model().fit(unknown_length(), epochs=3, verbose=0, callbacks=[cb])
    job = cb.job
    assert job.state is JobState.COMPLETED and job.ended_by == "completed", job.error
    assert job.error is None and cb.result.epochs_done == 3
    assert cb.result.history["loss"] == pytest.approx(history.history["loss"])
    assert job.stop() == f"job {job.id} already completed: nothing to stop"


def test_unknown_length_pipeline_stopped_in_epoch_two():
    cb = cl.LiveCallback(name="unknown-stop")
    holder = {}
    stop = at_batch(4, lambda: holder.setdefault("reply", cb.job.stop()))  # 3 batches per epoch: epoch 2
    history = model().fit(unknown_length(), epochs=5, verbose=0, callbacks=[cb, stop])
    job = cb.job
    assert holder["reply"] == f"job {job.id}: stop requested"
    assert job.state is JobState.STOPPED and job.ended_by == "stop", job.error
    assert len(cb.result.batch_history["loss"]) == 4 and len(history.history["loss"]) == 2


def raising(hook, exc):
    import keras

    class Raise(keras.callbacks.Callback):
        pass

    def fn(self, *args, **kwargs):
        raise exc

    setattr(Raise, hook, fn)
    return Raise()


@pytest.mark.parametrize("hook", ["on_epoch_end", "on_train_batch_end", "on_train_begin"])
def test_a_callback_raising_fails_the_job_with_that_error(hook):
    error = Boom(f"raised in {hook}")
    cb = cl.LiveCallback(name=f"raise-{hook}")
    with pytest.raises(Boom) as info:
        model().fit(*xy(), epochs=2, batch_size=32, verbose=0, callbacks=[cb, raising(hook, error)])
    assert info.value is error  # the user's code sees the exception unchanged
    job = cb.job
    assert job.wait(5 * WATCH_EVERY_S) is JobState.FAILED and job.ended_by == "error"
    assert f"Boom: raised in {hook}" in job.channels.latest("status")["note"]
    assert job.exception is error and "Boom" in job.error


def test_the_tensorboard_not_installed_error_fails_the_job():
    from tensorflow.python.summary.tb_summary import TBNotInstalledError

    cb = cl.LiveCallback(name="tb")
    x, y = xy()
    with pytest.raises(TBNotInstalledError):
        model().fit(x, y, epochs=2, batch_size=32, validation_data=(x[:32], y[:32]), verbose=0,
                    callbacks=[cb, raising("on_test_end", TBNotInstalledError("scalar"))])
    assert cb.job.state is JobState.FAILED
    assert "TensorBoard is not installed" in cb.job.channels.latest("status")["note"]


def test_shutdown_names_a_running_own_fit_without_blaming_sync_code(caplog):
    from cnnlive.jobs.manager import JobManager

    jm = JobManager()
    from cnnlive.jobs.attached import AttachedJob

    job = jm.register(lambda i: AttachedJob(i, "mine"))
    job.begin()
    with caplog.at_level("WARNING", logger="cnnlive"):
        assert jm.shutdown(timeout=0.2) == [job]
    text = caplog.text
    assert "sync code" not in text and "own fit" in text and str(job.id) in text
    job.finish(JobState.STOPPED, "stop")


# -- a hand-written loop --------------------------------------------------------
def loop(cb, m, steps=3, epochs=2, fail_at=None):
    """A hand-written loop (as in keras-io's custom training loop guide)."""
    import keras
    import tensorflow as tf

    x, y = xy()
    opt = keras.optimizers.SGD(0.01)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    for epoch in range(epochs):
        cb.on_epoch_begin(epoch)
        for step in range(steps):
            cb.on_train_batch_begin(step)
            with tf.GradientTape() as tape:
                loss = loss_fn(y[step * 32:(step + 1) * 32], m(x[step * 32:(step + 1) * 32], training=True))
            opt.apply_gradients(zip(tape.gradient(loss, m.trainable_weights), m.trainable_weights))
            if fail_at == (epoch, step):
                raise Boom("loss went wrong")
            cb.on_train_batch_end(step, {"loss": float(loss)})
            if cb.stop_training:
                return
        cb.on_epoch_end(epoch, {"loss": float(loss)})


def test_loop_in_a_with_block_completes_and_shows_no_rate():
    m = model(compile_=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        with cl.LiveCallback(name="loop", epochs=2, steps_per_epoch=3) as cb:
            cb.set_model(m)
            loop(cb, m)
    job = cb.job
    assert job.state is JobState.COMPLETED and job.ended_by == "completed" and job.kind == "fit"
    assert len(cb.result.history["loss"]) == 2 and len(cb.result.batch_history["loss"]) == 6
    assert "lr" not in cb.result.batch_history and "lr" not in cb.result.history  # no rate known: none shown
    assert "nan" not in job.log()
    assert job.progress_fraction == 1.0


def test_loop_ending_before_its_epochs_says_where():
    m = model(compile_=False)
    with cl.LiveCallback(name="loop-short", epochs=3, steps_per_epoch=3) as cb:
        cb.set_model(m)
        loop(cb, m, epochs=1)
    assert cb.job.state is JobState.COMPLETED and cb.result.reason == "ended at epoch 1 of 3"
    assert cb.job.progress_fraction == 1.0


def test_loop_in_a_with_block_raising_fails_the_job_and_the_error_propagates():
    m = model(compile_=False)
    with pytest.raises(Boom, match="loss went wrong"):
        with cl.LiveCallback(name="loop-fail") as cb:
            cb.set_model(m)
            loop(cb, m, fail_at=(1, 1))
    job = cb.job
    assert job.state is JobState.FAILED and job.ended_by == "error"
    assert job.channels.latest("status")["note"] == "Boom: loss went wrong"


def test_loop_in_a_with_block_stopped():
    m = model(compile_=False)
    with cl.LiveCallback(name="loop-stop") as cb:
        cb.set_model(m)
        first = {}
        orig = cb.on_train_batch_end

        def end(step, logs=None):
            orig(step, logs)
            if not first:
                first["reply"] = cb.job.stop()

        cb.on_train_batch_end = end
        loop(cb, m)
    assert cb.job.state is JobState.STOPPED and cb.job.ended_by == "stop"
    assert len(cb.result.batch_history["loss"]) == 1


def test_loop_by_hand_raising_fails_the_job_within_a_second():
    m = model(compile_=False)
    cb = cl.LiveCallback(name="by-hand")
    cb.set_model(m)

    def run():
        cb.on_train_begin()
        loop(cb, m, fail_at=(0, 2))
        cb.on_train_end()

    with pytest.raises(Boom):
        run()
    assert cb.job.wait(1.0) is JobState.FAILED and cb.job.ended_by == "error"


def test_loop_by_hand_completes():
    m = model(compile_=False)
    cb = cl.LiveCallback(name="by-hand-ok")
    cb.set_model(m)
    cb.on_train_begin()
    loop(cb, m)
    cb.on_train_end()
    assert cb.job.state is JobState.COMPLETED and len(cb.result.history["loss"]) == 2


# -- requests before the fit starts --------------------------------------------
def test_stop_before_fit_ends_the_next_fit_after_its_first_batch():
    cb = cl.LiveCallback(name="early-stop")
    reply = cb.job.stop()
    assert "has not begun" in reply and "its next fit ends after its first batch" in reply
    history = model().fit(*xy(), epochs=3, batch_size=32, verbose=0, callbacks=[cb])
    assert cb.job.state is JobState.STOPPED and cb.job.ended_by == "stop"
    assert len(cb.result.batch_history["loss"]) == 1
    assert cb.result.history["loss"] == pytest.approx(history.history["loss"]) and len(history.history["loss"]) == 1


def test_cancel_before_fit_cancels_that_fit_at_its_first_batch():
    cb = cl.LiveCallback(name="early-cancel")
    job = cb.job
    reply = job.cancel()
    assert "has not begun" in reply and "raises FitCancelled" in reply
    assert job.state is JobState.PENDING
    with pytest.raises(FitCancelled):
        model().fit(*xy(), epochs=3, batch_size=32, verbose=0, callbacks=[cb])
    assert cb.job is job and job.state is JobState.CANCELLED and job.ended_by == "cancel"
    assert cb.result.batch_history.get("loss", []) == []


# -- user metrics keep their names ----------------------------------------------
def test_user_metrics_named_like_cnnlive_series_keep_their_values(runs_dir):
    import keras

    class Mine(keras.Model):
        def train_step(self, data):
            out = super().train_step(data)
            return {**out, "lr": 0.5, "epoch": 7.0, "batch_time": 3.0, "step": 11.0}

    inp = keras.Input((28, 28, 1))
    m = Mine(inp, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inp)))
    m.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy")
    cb = cl.LiveCallback(name="names")
    history = m.fit(*xy(), epochs=2, batch_size=32, verbose=0, callbacks=[cb])
    r = cb.result
    for key, value in (("lr", 0.5), ("epoch", 7.0), ("batch_time", 3.0), ("step", 11.0)):
        assert history.history[key] == [value, value]
        assert r.history[key] == [value, value] and r.batch_history[key] == [value] * 6
    assert r.batch_history["cnnlive_lr"] == pytest.approx([2e-3] * 6)
    assert r.batch_history["cnnlive_epoch"] == [0.0] * 3 + [1.0] * 3 and "cnnlive_batch_time" in r.batch_history
    channels = cb.job.channels
    assert channels.history("epoch")["lr"] == [0.5, 0.5] and channels.history("batch")["epoch"] == [7.0] * 6
    assert channels.history("epoch")["cnnlive_lr"] == pytest.approx([2e-3, 2e-3])
    from cnnlive.views.dashboard import TrainingDashboard

    view = TrainingDashboard(cb.job)
    view.update()
    assert view.panels[0] == "loss" and set(view.panels[1:4]) == {"lr", "epoch", "batch_time"}  # the user's
    assert view.panels[4:] == ["cnnlive_lr", "speed"]  # then cnnlive's
    assert list(view.lines["b_lr"].get_data()[1]) == [0.5] * 6 and view.limits["lr"] >= 0.5
    assert list(view.lines["cnnlive_lr"].get_data()[1]) == pytest.approx([2e-3] * 6)
    assert view.axes["cnnlive_lr"].get_title() == "learning rate" and view.axes["lr"].get_title() == "lr"
    assert view.axes["lr"] is not view.axes["cnnlive_lr"]
    assert view.axes["speed"].get_title() == "batches / s"
    path = r.to_json(str(runs_dir.parent / "h.json"))
    import json

    assert json.load(open(path))["epoch"]["lr"] == [0.5, 0.5]


# -- why a job ended early -------------------------------------------------------
def test_early_stopping_says_why_and_progress_is_whole():
    import keras

    cb = cl.LiveCallback(name="early")
    es = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=100.0)
    history = model().fit(*xy(), epochs=10, batch_size=32, verbose=0, callbacks=[cb, es])
    n = len(history.history["loss"])
    assert n < 10
    job = cb.job
    assert job.state is JobState.COMPLETED and job.ended_by == "completed"
    assert cb.result.reason.startswith(f"EarlyStopping at epoch {n} of 10")
    assert job.channels.latest("status")["note"] == cb.result.reason
    assert job.progress_fraction == 1.0 and "reason" in cb.result.payload()
    table = cl.jobs.status()
    assert cb.result.reason in [line for line in table.splitlines() if line.startswith(f"{job.id} ")][0]


def test_early_stopping_in_cl_train_says_why(runs_dir):
    import keras

    es = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=100.0)
    job = cl.train(model(), xy(), epochs=10, batch_size=32, validation=False, callbacks=[es])
    assert job.wait(120) is JobState.COMPLETED and job.ended_by == "completed", job.error
    n = job.result.epochs_done
    assert n < 10 and job.result.reason.startswith(f"EarlyStopping at epoch {n} of 10")
    assert job.channels.latest("status")["note"] == job.result.reason and job.progress_fraction == 1.0
    import json

    assert json.load(open(job.result.history_path))["reason"] == job.result.reason


def test_a_completed_fit_has_no_reason():
    cb = cl.LiveCallback(name="whole")
    model().fit(*xy(), epochs=1, batch_size=32, verbose=0, callbacks=[cb])
    assert cb.result.reason is None and cb.job.channels.latest("status")["note"] is None


def test_converged_oip_says_why():
    from .engines_helpers import trained_cnn

    job = cl.oip(trained_cnn(), layer="Conv2D_1", maps=[0, 1], steps=400, tolerance=1.0)
    assert job.wait(120) is JobState.COMPLETED, job.error
    r = job.result
    assert r.steps_done < 400 and r.reason == f"converged at step {r.steps_done} of 400"
    assert job.channels.latest("status")["note"] == r.reason and job.progress_fraction == 1.0


# -- the optimizers that really train ---------------------------------------------
def test_learning_rate_reads_raise_no_warnings():
    cb = cl.LiveCallback(name="quiet")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        model().fit(*xy(), epochs=1, batch_size=32, verbose=0, callbacks=[cb])
    assert cb.result.batch_history["lr"] == pytest.approx([1e-3] * 3)


# -- arguments --------------------------------------------------------------------
def test_positional_name_and_wrong_first_argument():
    assert cl.LiveCallback("mine").name == "mine"
    with pytest.raises(TypeError, match=r"name='my-run'"):
        cl.LiveCallback(3)
    with pytest.raises(TypeError, match="two names"):
        cl.LiveCallback("a", name="b")


# -- paused only once the work rests -------------------------------------------------
def test_pause_at_an_epoch_boundary_reads_paused_only_at_the_gate():
    import keras

    cb = cl.LiveCallback(name="pause")
    seen = {}
    paused = threading.Event()

    class PauseAtEpochEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                seen["reply"] = cb.job.pause()
                seen["state"] = cb.job.state
                seen["batches"] = len(cb.result.batch_history["loss"])

    def status(channel):
        if channel == "status" and cb.job.state is JobState.PAUSED:
            paused.set()

    cb.job.channels.subscribe(status)
    x, y = xy()
    m = model()
    fit = threading.Thread(target=m.fit, args=(x, y), kwargs=dict(
        epochs=2, batch_size=32, validation_data=(x[:32], y[:32]), verbose=0, callbacks=[cb, PauseAtEpochEnd()]))
    fit.start()
    assert paused.wait(60)
    assert seen["state"] is JobState.RUNNING and "paused at its next safe point" in seen["reply"]
    batches, progress = len(cb.result.batch_history["loss"]), cb.job.progress
    assert batches == seen["batches"] == 3  # no batch of epoch 2 ran before the pause took hold
    assert cb.job.state is JobState.PAUSED and cb.job.progress == progress
    cb.job.resume()
    fit.join(60)
    assert cb.job.state is JobState.COMPLETED and len(cb.result.batch_history["loss"]) == 6


# -- targets described rightly ------------------------------------------------------
def tiny_head(units, activation):
    import keras

    inp = keras.Input((28, 28, 1))
    return keras.Model(inp, keras.layers.Dense(units, activation=activation)(keras.layers.Flatten()(inp)))


@pytest.mark.parametrize("units,activation,targets,kind,loss", [
    (10, "softmax", lambda y: y, "class-id targets", "sparse_categorical_crossentropy"),
    (10, "softmax", lambda y: np.eye(10, dtype="float32")[y], "one-hot targets", "categorical_crossentropy"),
    (1, "sigmoid", lambda y: (y % 2).astype("float32"), "binary targets", "binary_crossentropy"),
    (1, None, lambda y: (y / 9.0).astype("float32") + 0.05, "continuous targets", "mean_squared_error"),
    (2, None, lambda y: np.stack([y / 9.0, y / 3.0], 1).astype("float32"), "continuous targets",
     "mean_squared_error"),
])
def test_targets_are_told_apart_and_pick_the_loss(runs_dir, units, activation, targets, kind, loss):
    x, y = xy(64)
    job = cl.train(tiny_head(units, activation), (x, targets(y)), epochs=1, batch_size=32, save=False)
    assert job.wait(120) is JobState.COMPLETED, job.error
    assert f"{kind})" in job.log() and "binary labels" not in job.log()
    assert job.result.model.loss == loss
    if kind == "continuous targets":
        assert "mae" in job.result.history and "accuracy" not in job.result.history


def test_loop_by_hand_raising_in_a_notebook_cell_fails_its_job_with_the_error():
    """In a real kernel: the cell's loop raises; the job reads failed with that error within a second."""
    import nbformat
    from nbclient import NotebookClient

    cells = ["import cnnlive as cl, keras\n"
             "inp = keras.Input((4,)); m = keras.Model(inp, keras.layers.Dense(1)(inp))\n"
             "cb = cl.LiveCallback(name='cell-loop'); cb.set_model(m)",
             "cb.on_train_begin()\n"
             "for epoch in range(3):\n"
             "    cb.on_epoch_begin(epoch)\n"
             "    cb.on_train_batch_begin(0); cb.on_train_batch_end(0, {'loss': 1.0})\n"
             "    if epoch == 1:\n"
             "        raise ValueError('my loop broke')\n"
             "    cb.on_epoch_end(epoch, {'loss': 1.0})",
             "print(cb.job.wait(1.0).value, cb.job.ended_by, cb.job.channels.latest('status')['note'])"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True).execute()
    assert nb.cells[1].outputs[-1]["evalue"] == "my loop broke"
    text = "".join(o.get("text", "") for o in nb.cells[2].outputs)
    assert text.strip().splitlines()[-1] == "failed error ValueError: my loop broke"
