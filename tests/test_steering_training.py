"""Steering training: pause/resume at a batch boundary, stop after the epoch,
adjust learning rate and epochs (cl.train and an own fit), with tiny models
on the bundled digits."""

import os
import threading

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.jobs import JobState, JobStateError

from .engines_helpers import digits

pytestmark = pytest.mark.slow

DEADLINE = 120.0
N, BS = 160, 16  # 10 batches per epoch
STEPS = N // BS


def tiny(compiled=False):
    import keras

    inp = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(2, 3, activation="relu")(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(10, activation="softmax")(x), name="tiny")
    if compiled:
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    return model


def xy():
    ds = digits()
    return ds.x_train[:N], ds.labels_train[:N]


class At:
    """A Keras callback that calls ``fn()`` at the end of global batch ``n``."""

    def __new__(cls, n, fn):
        import keras

        class _At(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seen = 0

            def on_train_batch_end(self, batch, logs=None):
                self.seen += 1
                if self.seen == n:
                    fn()

        return _At()


def start(epochs, when=None, **kw):
    """cl.train on a tiny model; ``when=(n, fn(job))`` runs at global batch n."""
    holder = {}
    callbacks = []
    ready = threading.Event()  # the job handle is known only after cl.train returns

    def fn(job):
        ready.wait(DEADLINE)
        when[1](job)

    if when:
        callbacks = [At(when[0], lambda: fn(holder["job"]))]
    job = cl.train(tiny(), xy(), epochs=epochs, batch_size=BS, validation=False, callbacks=callbacks, **kw)
    holder["job"] = job
    ready.set()
    return job


def held(job):
    assert job._gate.holding.wait(DEADLINE), f"job {job.id} never reached its pause ({job.state.value})"


def test_pause_holds_training_at_a_batch_boundary_then_resume_completes(runs_dir):
    job = start(2, (3, lambda j: j.pause()))
    held(job)
    assert job.state is JobState.PAUSED
    batches, elapsed = len(job.result.batch_history["loss"]), job.elapsed
    assert batches == 3  # paused before the next batch: none runs after the request
    assert job.elapsed == pytest.approx(elapsed, abs=1e-6)
    job.resume()
    assert job.wait(DEADLINE) is JobState.COMPLETED, job.error
    r = job.result
    assert r.epochs_done == 2 and len(r.batch_history["loss"]) == 2 * STEPS


def test_pause_then_stop_saves_and_pause_then_cancel_does_not_hang(runs_dir):
    job = start(5, (3, lambda j: j.pause()))
    held(job)
    job.stop()
    assert job.wait(DEADLINE) is JobState.STOPPED and job.ended_by == "stop"
    assert job.result.ended == "stop" and os.path.isfile(job.result.path)
    assert len(job.result.batch_history["loss"]) == 4  # Keras ends a fit after a batch: the one the pause held

    job = start(5, (3, lambda j: j.pause()))
    held(job)
    job.cancel()
    assert job.wait(DEADLINE) is JobState.CANCELLED and job.ended_by == "cancel"
    assert job.result.path is None and len(job.result.batch_history["loss"]) == 3


def test_stop_after_epoch_finishes_the_epoch_then_saves(runs_dir):
    job = start(5, (3, lambda j: j.stop(after="epoch")))
    assert job.wait(DEADLINE) is JobState.STOPPED, job.error
    r = job.result
    assert r.ended == "stop" and job.ended_by == "stop"
    assert r.epochs_done == 1 and len(r.history["loss"]) == 1 and len(r.batch_history["loss"]) == STEPS
    assert os.path.isfile(r.path) and os.path.isfile(r.history_path)


def test_adjust_while_paused_sets_the_rate_the_schedule_continues_from_and_extends_epochs(runs_dir):
    job = start(1, (3, lambda j: j.pause()), learning_rate=1e-3, lr_schedule="power")
    held(job)
    assert "learning rate 0.05" in job.adjust(learning_rate=0.05, epochs=2)
    assert job.state is JobState.PAUSED  # adjust does not resume
    job.resume()
    assert job.wait(DEADLINE) is JobState.COMPLETED, job.error
    r = job.result
    assert r.epochs_done == 2 and len(r.history["loss"]) == 2  # beyond the epochs given
    lr = np.array(r.batch_history["lr"])
    assert np.all(lr[:3] < 1.1e-3)
    assert lr[3] == pytest.approx(0.05, rel=1e-2)  # from the next batch
    assert np.all(np.diff(lr[3:]) <= 0) and 0.04 < lr[-1] < lr[3]  # the power decay goes on from the new rate
    assert r.history["lr"][-1] == pytest.approx(lr[-1], rel=2e-2)


def test_adjust_epochs_down_ends_the_run_complete(runs_dir):
    job = start(6, (3, lambda j: j.adjust(epochs=2)), lr_schedule=None)
    assert job.wait(DEADLINE) is JobState.COMPLETED, job.error
    assert job.result.epochs_done == 2 and job.result.ended == "completed"
    assert job.progress_fraction == pytest.approx(1.0)


def test_adjust_bad_input_is_a_clear_error_and_changes_nothing(runs_dir):
    job = start(4, (2 * STEPS + 2, lambda j: j.pause()))
    held(job)
    assert job.steering.epochs_done == 2
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        job.adjust(learning_rate=0)
    with pytest.raises(ValueError, match="learning_rate must be"):
        job.adjust(learning_rate=-1e-3, epochs=3)
    with pytest.raises(ValueError, match="below the 2 epoch"):
        job.adjust(learning_rate=0.1, epochs=1)
    with pytest.raises(ValueError, match="needs learning_rate= and/or epochs="):
        job.adjust()
    assert job.steering.pending_learning_rate is None and job.steering.epochs is None
    assert job.state is JobState.PAUSED
    job.cancel()
    assert job.wait(DEADLINE) is JobState.CANCELLED
    with pytest.raises(JobStateError, match="already cancelled"):
        job.adjust(learning_rate=0.1)


def test_own_fit_pauses_adjusts_and_stops_after_epoch():
    """An own model.fit (kind "fit"): the pause blocks the caller's fit at a
    batch; another thread adjusts, resumes, then stops after the epoch."""
    cb = cl.LiveCallback(name="own-steer")
    model = tiny(compiled=True)
    x, y = xy()
    errors = []

    def steer():
        try:
            held(cb.job)
            assert cb.job.state is JobState.PAUSED
            with pytest.raises(ValueError, match="an own model.fit ends after the 3 epoch"):
                cb.job.adjust(epochs=4)
            cb.job.adjust(learning_rate=0.02)
            cb.job.resume()
        except BaseException as exc:  # noqa: BLE001 - reported in the main thread
            errors.append(exc)

    def pause_then_plan(job):
        job.pause()
        threading.Thread(target=steer, daemon=True).start()

    calls = [At(3, lambda: pause_then_plan(cb.job)), At(STEPS + 2, lambda: cb.job.stop(after="epoch"))]
    model.fit(x, y, epochs=3, batch_size=BS, verbose=0, callbacks=[cb, *calls])
    assert not errors, errors
    job = cb.job
    assert job.state is JobState.STOPPED and job.ended_by == "stop"
    r = job.result
    assert r.epochs_done == 2 and len(r.batch_history["loss"]) == 2 * STEPS
    assert r.batch_history["lr"][4] == pytest.approx(0.02, rel=1e-3)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)


class _Magic:
    """The %cnnlive magic without starting a global IPython (test_surfaces starts that)."""

    def __init__(self):
        from cnnlive.surfaces.magics import CnnliveMagics

        self._m = CnnliveMagics(shell=None)

    def run_line_magic(self, name, line):
        assert name == "cnnlive"
        return self._m.cnnlive(line)


@pytest.fixture
def ip():
    return _Magic()


def test_magics_pause_adjust_resume_and_stop_after_epoch(ip, capsys, runs_dir):
    job = cl.train(tiny(), xy(), epochs=50, batch_size=BS, validation=False)
    ip.run_line_magic("cnnlive", f"pause {job.id}")
    held(job)
    done = job.steering.epochs_done
    ip.run_line_magic("cnnlive", f"adjust {job.id} --lr 0")
    ip.run_line_magic("cnnlive", f"adjust {job.id} --epochs 0")
    ip.run_line_magic("cnnlive", f"stop {job.id} --after batch")
    ip.run_line_magic("cnnlive", f"adjust {job.id} --lr 0.01 --epochs 40")
    out = capsys.readouterr().out
    assert f"job {job.id}: paused" in out
    assert "learning_rate must be a finite number > 0" in out
    assert "epochs must be a whole number >= 1" in out
    assert "invalid choice: 'batch'" in out and "'epoch'" in out
    assert "learning rate 0.01 from the next batch, 40 epochs in all" in out
    assert job.steering.epochs == 40
    ip.run_line_magic("cnnlive", f"resume {job.id}")
    ip.run_line_magic("cnnlive", f"stop {job.id} --after epoch")
    assert job.wait(DEADLINE) is JobState.STOPPED, job.error
    assert job.result.epochs_done == done + 1 and job.result.ended == "stop"
    assert job.result.batch_history["lr"][-1] == pytest.approx(0.01, rel=0.05)
    ip.run_line_magic("cnnlive", f"pause {job.id}")
    assert "already stopped: only a running job can be paused" in capsys.readouterr().out


def test_panel_requests_pause_adjust_resume_validated_by_the_schema(runs_dir):
    from cnnlive.jobs import manager
    from cnnlive.surfaces.panel_bridge import PanelBridge

    bridge = PanelBridge(manager())
    job = cl.train(tiny(), xy(), epochs=3, batch_size=BS, validation=False)
    oip_like = cl.jobs.start(_forever, name="not-training")

    def ask(action, job_id, **extra):
        return bridge.handle({"type": "request", "request_id": "r1", "action": action, "job_id": job_id, **extra})

    try:
        assert ask("pause", job.id)["ok"]
        held(job)
        bad = ask("adjust", job.id, learning_rate=-1)
        assert not bad["ok"] and "learning_rate" in bad["message"]
        bad = ask("adjust", oip_like.id, learning_rate=0.1)
        assert not bad["ok"] and "needs a training job" in bad["message"]
        n = job.steering.epochs_done + 1
        reply = ask("adjust", job.id, learning_rate=0.03, epochs=n)
        assert reply["ok"] and "0.03" in reply["message"]
        assert ask("resume", job.id)["ok"]
        assert job.wait(DEADLINE) is JobState.COMPLETED, job.error
        assert job.result.epochs_done == n
        bad = ask("pause", job.id)
        assert not bad["ok"] and "already completed" in bad["message"]
    finally:
        oip_like.cancel()
        oip_like.wait(DEADLINE)
        bridge.close()


async def _forever(ctx):
    while not await ctx.checkpoint():
        pass


def test_an_oip_search_pauses_between_chunks_then_stops(runs_dir):
    job = cl.oip(cl.models.simple_cnn(), layer="Conv2D_3", maps=[0, 1], steps=10**6, name="oip-steer")
    try:
        deadline = DEADLINE
        import time

        end = time.time() + deadline
        while not job.progress[0] and time.time() < end:
            assert not job.done, job.error
            time.sleep(0.02)
        job.pause()
        held(job)
        done = job.progress[0]
        assert job.state is JobState.PAUSED
        with pytest.raises(JobStateError, match="needs a training job"):
            job.adjust(learning_rate=0.1)
        job.resume()
        while job.progress[0] <= done and time.time() < end:
            time.sleep(0.02)
        assert job.progress[0] > done
        job.pause()
        held(job)
        job.stop()
        assert job.wait(DEADLINE) is JobState.STOPPED and job.ended_by == "stop"
    finally:
        job.cancel()


def test_widget_controls_adjust_a_paused_training_job(runs_dir):
    from cnnlive.surfaces.widgets import Controls

    c = Controls({}, refresh_s=0.05)
    try:
        job = start(1, (3, lambda j: j.pause()), learning_rate=1e-3, lr_schedule=None)
        held(job)
        c.refresh()
        *_, form = c._rows[job.id]
        lr, epochs, apply = form.children
        lr.value, epochs.value = "-1", "0"  # text fields, as typed
        apply.click()
        assert "learning_rate" in c.message.value or "learning rate" in c.message.value  # refused, shown
        lr.value, epochs.value = "0.05", "2"
        apply.click()
        assert "adjusted" in c.message.value
        job.resume()
        assert job.wait(DEADLINE) is JobState.COMPLETED, job.error
        assert job.result.epochs_done == 2
        assert job.result.batch_history["lr"][-1] == pytest.approx(0.05, rel=1e-2)
    finally:
        c.close()
