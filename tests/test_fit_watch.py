"""What the fit watch sees (issue 23, review): exceptions no hook sees keep
their text, hand loops through helpers, generators and coroutines, no frame
kept after a failed fit, callbacks left as they were, early stops at epoch
0, a pending pause taken back. Each checks the watch directly
(``frame_watch.check()``) where the thread would race."""

import asyncio
import gc
import weakref

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.jobs import JobState
from cnnlive.jobs.attached import frame_watch

pytestmark = pytest.mark.slow


def tiny(compile_=True):
    import keras

    inp = keras.Input((8,))
    m = keras.Model(inp, keras.layers.Dense(1)(inp))
    if compile_:
        m.compile("sgd", "mse")
    return m


def data(n=64, features=8):
    return np.zeros((n, features), "float32"), np.zeros((n, 1), "float32")


def note(job):
    return job.channels.latest("status")["note"]


class Boom(Exception):
    pass


def test_validation_data_of_the_wrong_shape_fails_the_job_with_its_error():
    cb = cl.LiveCallback(name="val-shape")
    with pytest.raises(ValueError) as raised:
        tiny().fit(*data(), validation_data=data(8, features=5), epochs=2, verbose=0, callbacks=[cb])
    job = cb.job
    assert job.state is JobState.FAILED and job.ended_by == "error"
    assert job.exception is raised.value and job.error and "ValueError" in job.error
    assert note(job).startswith("ValueError: ") and "incompatible" in note(job)


def test_an_exception_no_hook_sees_fails_the_job_with_its_text():
    """Validation arrays of different lengths: fit itself raises (Keras
    filters the fit frame from the traceback); the watch tells it by the fit's caller."""
    cb = cl.LiveCallback(name="val-lengths")
    x, y = data(8)
    try:
        tiny().fit(*data(), validation_data=(x, y[:5]), epochs=2, verbose=0, callbacks=[cb])
    except ValueError as exc:
        frame_watch.check()  # what the watch thread does within 0.2 s, here while the error is current
        raised = exc
    job = cb.job
    assert job.state is JobState.FAILED and job.exception is raised
    assert note(job) == f"ValueError: {raised}" and "cardinality" in note(job)


def test_a_loop_whose_hooks_a_helper_calls_fails_when_the_loop_raises():
    m = tiny(compile_=False)
    cb = cl.LiveCallback(name="helper-loop")
    cb.set_model(m)

    def log_step(step):  # returns: its frame leaves the stack normally
        cb.on_train_batch_begin(step)
        cb.on_train_batch_end(step, {"loss": 1.0})

    def run():
        cb.on_train_begin()
        for epoch in range(3):
            cb.on_epoch_begin(epoch)
            log_step(0)
            frame_watch.check()  # the helper returned: the loop still runs
            assert cb.job.state is JobState.RUNNING
            if epoch == 1:
                raise Boom("outer loop broke")
            cb.on_epoch_end(epoch, {"loss": 1.0})

    try:
        run()
    except Boom:
        frame_watch.check()
    assert cb.job.state is JobState.FAILED and note(cb.job) == "Boom: outer loop broke"


def test_a_generator_loop_is_not_failed_at_its_yields():
    m = tiny(compile_=False)
    cb = cl.LiveCallback(name="gen-loop")
    cb.set_model(m)

    def steps():
        cb.on_train_begin()
        cb.on_epoch_begin(0)
        for step in range(3):
            cb.on_train_batch_begin(step)
            cb.on_train_batch_end(step, {"loss": 1.0})
            yield step
        cb.on_epoch_end(0, {"loss": 1.0})
        cb.on_train_end()

    for _ in steps():
        frame_watch.check()  # the generator's frame is off the stack here
        assert cb.job.state is JobState.RUNNING, note(cb.job)
    assert cb.job.state is JobState.COMPLETED and len(cb.result.batch_history["loss"]) == 3


def test_a_coroutine_loop_is_not_failed_at_its_awaits():
    m = tiny(compile_=False)
    cb = cl.LiveCallback(name="async-loop")
    cb.set_model(m)
    states = []

    async def train(step_done, go_on):
        with cb:
            cb.on_epoch_begin(0)
            for step in range(2):
                cb.on_train_batch_begin(step)
                cb.on_train_batch_end(step, {"loss": 1.0})
                step_done.set()
                await go_on.wait()  # the coroutine's frame leaves the stack
                go_on.clear()
            cb.on_epoch_end(0, {"loss": 1.0})

    async def main():
        step_done, go_on = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(train(step_done, go_on))
        for _ in range(2):
            await step_done.wait()
            step_done.clear()
            frame_watch.check()
            states.append(cb.job.state)
            go_on.set()
        await task

    asyncio.run(main())
    assert states == [JobState.RUNNING, JobState.RUNNING]
    assert cb.job.state is JobState.COMPLETED


def test_a_failed_fit_keeps_no_data_alive():
    import keras

    class Raises(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise Boom("at the first batch")

    cb = cl.LiveCallback(name="leak")
    x, y = data()
    freed = weakref.ref(x)
    with pytest.raises(Boom):
        tiny().fit(x, y, validation_data=data(8), epochs=1, verbose=0, callbacks=[cb, Raises()])
    assert cb.job.state is JobState.FAILED
    cl.jobs.remove(cb.job.id)  # the job let go of its error's frames; the callback lives on
    del x, y
    gc.collect()
    assert freed() is None


def test_the_users_callbacks_are_left_as_they_were():
    import keras

    class Plain(keras.callbacks.Callback):
        pass

    class RaisesAtBegin(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            raise Boom("at begin")

    before, after = Plain(), Plain()
    tiny().fit(*data(), epochs=1, verbose=0, callbacks=[before, cl.LiveCallback(name="plain"), after])
    assert "on_train_begin" not in vars(before) and "on_train_begin" not in vars(after)
    never = Plain()  # its on_train_begin never runs: the one before it raises
    cb = cl.LiveCallback(name="raises-at-begin")
    with pytest.raises(Boom):
        tiny().fit(*data(), epochs=1, verbose=0, callbacks=[cb, RaisesAtBegin(), never])
    assert cb.job.state is JobState.FAILED and note(cb.job) == "Boom: at begin"
    assert "on_train_begin" not in vars(never)


def test_early_stopping_at_epoch_zero_is_named():
    import keras

    from cnnlive.engines.training.fitwatch import early_stop_reason

    m = tiny()
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0)
    callbacks = keras.callbacks.CallbackList([stop], model=m)
    stop.on_train_begin()
    stop.stopped_epoch, stop.wait = 0, 0  # as a Keras that stops at epoch 0 leaves it
    m.stop_training = True
    assert early_stop_reason(callbacks, 1, 5).startswith("EarlyStopping at epoch 1 of 5")
    m.stop_training = False  # not stopped by it: another callback did
    assert early_stop_reason(callbacks, 1, 5).startswith("a callback set model.stop_training")


def test_a_pending_pause_is_taken_back_by_resume():
    import keras

    replies = {}

    class PauseThenResume(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                job = cb.job
                replies["pause"] = job.pause()
                replies["state"], replies["note"] = job.state, note(job)
                replies["again"] = job.pause()
                replies["resume"] = job.resume()
                replies["after"] = job.state

    cb = cl.LiveCallback(name="pending-pause")
    tiny().fit(*data(), batch_size=16, epochs=1, verbose=0, callbacks=[PauseThenResume(), cb])
    job = cb.job
    assert replies["state"] is JobState.RUNNING and replies["note"].startswith("pausing")
    assert replies["again"].startswith(f"job {job.id}: already pausing")
    assert replies["resume"] == f"job {job.id}: resumed" and replies["after"] is JobState.RUNNING
    assert job.state is JobState.COMPLETED and len(cb.result.batch_history["loss"]) == 4


def test_several_rates_share_the_rate_axis_and_the_placeholder_is_cnnlives():
    """Two optimizers (as a GAN's) and a user metric "lr": both rates are
    drawn in the learning-rate axis, none as a metric; the controls'
    placeholder reads cnnlive's rate, not the user's "lr"."""
    import ipywidgets as w
    import keras
    import matplotlib
    import tensorflow as tf

    matplotlib.use("Agg")
    from cnnlive.events.watch import RATE_KEYS
    from cnnlive.surfaces.widgets import Controls
    from cnnlive.views.dashboard import TrainingDashboard

    class Two(keras.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = keras.layers.Dense(1), keras.layers.Dense(1)

        def call(self, x):
            return self.a(x) + self.b(x)

        def compile(self, a_optimizer, b_optimizer):
            super().compile()
            self.a_optimizer, self.b_optimizer = a_optimizer, b_optimizer

        def train_step(self, data):
            x, y = data
            with tf.GradientTape(persistent=True) as tape:
                loss = tf.reduce_mean((self(x) - y) ** 2)
            for opt, part in ((self.a_optimizer, self.a), (self.b_optimizer, self.b)):
                opt.apply_gradients(zip(tape.gradient(loss, part.trainable_weights), part.trainable_weights))
            return {"loss": loss, "lr": tf.constant(0.5)}  # the user's own metric named "lr"

    m = Two()
    m(np.zeros((1, 8), "float32"))
    m.compile(keras.optimizers.SGD(1e-3), keras.optimizers.SGD(3e-3))
    cb = cl.LiveCallback(name="two-rates")
    m.fit(*data(), batch_size=16, epochs=2, verbose=0, callbacks=[cb])
    job = cb.job
    assert job.state is JobState.COMPLETED, job.error
    assert job.channels.latest("metrics")[RATE_KEYS] == "lr_a_optimizer,lr_b_optimizer"
    view = TrainingDashboard(job.watch())
    view.update()
    assert view.panels == ["loss", "lr", "lr_a_optimizer", "lr_b_optimizer", "speed"]
    rate_axis = view.axes["lr_a_optimizer"]
    assert rate_axis.get_title() == "learning rate" and "lr_b_optimizer" not in view.axes
    assert view.lines["lr_b_optimizer"].axes is rate_axis and view.lines["lr_a_optimizer"].axes is rate_axis
    assert list(view.lines["lr_a_optimizer"].get_ydata()) == pytest.approx([1e-3] * 8)
    assert list(view.lines["lr_b_optimizer"].get_ydata()) == pytest.approx([3e-3] * 8)
    assert 3e-3 <= view.limits["lr_a_optimizer"] < 0.01  # a rate's scale, not a 0..1 metric axis
    assert [t.get_text() for t in rate_axis.get_legend().get_texts()] == ["a_optimizer", "b_optimizer"]
    assert view.axes["lr"].get_title() == "lr" and list(view.lines["b_lr"].get_ydata()) == [0.5] * 8
    form = w.HBox([w.Text(), w.Text(), w.Button()])
    Controls._placeholders(job, form)
    assert form.children[0].placeholder == "0.001"  # cnnlive's (first) rate, not the user's 0.5


def test_an_ending_only_the_watch_saw_restores_the_model():
    m, cb = tiny(), cl.LiveCallback(name="watch-restores")
    x, y = data(8)
    try:
        m.fit(*data(), validation_data=(x, y[:5]), epochs=1, verbose=0, callbacks=[cb])
    except ValueError:
        frame_watch.check()
    assert cb.job.state is JobState.FAILED
    assert "_reporting" not in getattr(m.train_function, "__qualname__", "")  # Keras' own step again
