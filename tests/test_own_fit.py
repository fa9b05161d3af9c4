"""An own ``model.fit`` with cl.LiveCallback becomes a job of kind "fit"."""

import os
import threading

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.jobs import JobState, manager
from cnnlive.jobs.attached import FitCancelled

from .engines_helpers import digits

pytestmark = pytest.mark.slow


def compiled_model():
    import keras

    inp = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(10, activation="softmax")(x), name="own")
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=[keras.metrics.SparseTopKCategoricalAccuracy(k=3, name="top3")])
    return model


def xy(n=128):
    ds = digits()
    return ds.x_train[:n], ds.labels_train[:n]


class At:
    """A callback that calls ``fn`` at global batch ``n`` (like a click then)."""

    def __new__(cls, n, fn):
        import keras

        class _At(keras.callbacks.Callback):
            seen = 0

            def on_train_batch_end(self, batch, logs=None):
                _At.seen += 1
                if _At.seen == n:
                    fn()

        return _At()


def test_foreground_fit_is_a_listed_job_with_metrics_and_completes():
    x, y = xy()
    cb = cl.LiveCallback(name="my-run")
    model = compiled_model()
    history = model.fit(x, y, epochs=2, batch_size=32, validation_split=0.25, verbose=0, callbacks=[cb])
    job = cb.job
    assert job.kind == "fit" and job.name == "my-run" and job in cl.jobs.list()
    assert job.state is JobState.COMPLETED and job.ended_by == "completed"
    assert job.result.history["top3"] == pytest.approx(history.history["top3"])
    assert "val_top3" in job.result.history and job.result.ended == "completed"
    assert job.progress_fraction == 1.0  # epochs and steps read from self.params
    assert job.channels.history("epoch")["val_top3"]
    from cnnlive.views.panel_transport import card

    c = card(job)
    assert c["kind"] == "fit" and {"top3", "val_top3", "loss"} <= c["metrics"].keys()
    r = job.result
    assert r.model is model and r.epochs_done == 2


def test_stop_ends_the_fit_after_the_current_batch_and_fit_returns():
    x, y = xy()
    cb = cl.LiveCallback()
    marker = At(3, lambda: cb.job.stop())
    compiled_model().fit(x, y, epochs=50, batch_size=16, verbose=0, callbacks=[cb, marker])
    assert cb.job.state is JobState.STOPPED and cb.job.ended_by == "stop"
    assert len(cb.job.result.batch_history["loss"]) == 3 and cb.job.result.ended == "stop"


def test_cancel_ends_at_the_next_batch_without_end_of_epoch_work():
    x, y = xy()
    cb = cl.LiveCallback()
    ends = []
    import keras

    class Epochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            ends.append(epoch)

    with pytest.raises(FitCancelled):
        compiled_model().fit(x, y, epochs=5, batch_size=16, verbose=0,
                             callbacks=[cb, At(2, lambda: cl.jobs.cancel(cb.job.id)), Epochs()])
    assert cb.job.state is JobState.CANCELLED and cb.job.ended_by == "cancel"
    assert ends == [] and cb.job.result.epochs_done == 0 and len(cb.job.result.batch_history["loss"]) == 2


def test_fit_in_its_own_thread_stops_from_the_panel_request():
    from cnnlive.surfaces.panel_bridge import PanelBridge

    x, y = xy()
    cb = cl.LiveCallback(name="threaded")
    started = threading.Event()
    out = {}

    def run():
        out["history"] = compiled_model().fit(x, y, epochs=500, batch_size=16, verbose=0,
                                              callbacks=[cb, At(1, started.set)])

    t = threading.Thread(target=run)
    t.start()
    assert started.wait(120)
    reply = PanelBridge(manager()).handle({"type": "request", "request_id": "r1", "action": "stop",
                                           "job_id": cb.job.id})
    assert reply["ok"], reply
    t.join(120)
    assert not t.is_alive() and "history" in out
    assert cb.job.wait(5) is JobState.STOPPED and cb.job.thread is not threading.current_thread()


def test_a_second_fit_with_the_same_callback_is_a_new_job_and_errors_fail_the_job():
    import keras

    x, y = xy(64)
    cb = cl.LiveCallback()
    model = compiled_model()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[cb])
    first = cb.job
    bad = np.full_like(y, 99)  # out-of-range labels fail inside the train step
    with pytest.raises(Exception):
        model.fit(x, bad, epochs=1, batch_size=32, verbose=0, callbacks=[cb])
    assert cb.job is not first and first.state is JobState.COMPLETED
    assert len(first.result.batch_history["loss"]) == 2 and first.result.epochs_done == 1  # kept
    assert cb.job.state is JobState.FAILED and cb.job.ended_by == "error" and cb.job.error
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[cb])  # train function restored
    assert cb.job.state is JobState.COMPLETED
    assert cb.job.result.epochs_total == 2  # the new job's card and dashboard know its planned epochs
    del keras


def test_live_callback_with_ctx_inside_jobs_start_reports_to_that_job():
    x, y = xy(64)
    n_fit = sum(j.kind == "fit" for j in cl.jobs.list())

    async def work(ctx):
        model = compiled_model()
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[cl.LiveCallback(ctx)])
        return "ok"

    job = cl.jobs.start(work, name="mine")
    assert job.wait(120) is JobState.COMPLETED, job.error
    assert len(job.channels.history("epoch")["top3"]) == 2 and job.progress_fraction == 1.0
    assert sum(j.kind == "fit" for j in cl.jobs.list()) == n_fit


def test_dashboard_shows_whatever_metrics_the_logs_carry(tmp_path):
    import keras

    from cnnlive.views.dashboard import TrainingDashboard

    x, y = xy(96)
    model = compiled_model()
    model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy",
                  metrics=[keras.metrics.SparseTopKCategoricalAccuracy(k=3, name="top3"),
                           keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5")])
    cb = cl.LiveCallback(name="dash")
    view = TrainingDashboard(cb.job)
    model.fit(x, y, epochs=2, batch_size=32, validation_split=0.34, verbose=0, callbacks=[cb])
    view.update()
    assert view.panels == ["loss", "top3", "top5", "lr", "speed"]
    assert len(view.lines["b_top5"].get_data()[1]) == len(cb.job.result.batch_history["top5"])
    assert len(view.lines["v_top3"].get_data()[1]) == 2 and view.lines["v_top3"].axes is view.axes["top3"]
    assert view.axes["speed"].get_title() == "batches / s"  # an own fit: the batch size is not known
    assert view.limits["top3"] == 1.02
    paths = cb.job.save_plots(str(tmp_path))
    assert paths and os.path.getsize(paths[0]) > 10_000

    # no loss and no accuracy at all: a custom loop's logs
    async def work(ctx):
        for i in range(5):
            ctx.publish("metrics", {"auc": 0.5 + i / 10, "step": i, "scope": "batch"})
        ctx.publish("metrics", {"auc": 0.9, "val_auc": 0.8, "step": 1, "scope": "epoch"})

    job = cl.jobs.start(work, kind="train")
    job.wait(30)
    view = TrainingDashboard(job)
    view.update()
    assert view.panels == ["auc"] and len(view.lines["v_auc"].get_data()[1]) == 1
