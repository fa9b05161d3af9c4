"""cl.train with the user's own data forms, labels, compile settings and callbacks."""

import csv
import os

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.jobs import JobState

from .engines_helpers import digits

pytestmark = pytest.mark.slow


def functional(units: int = 10, shape=(28, 28, 1)):
    import keras

    inp = keras.Input(shape)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inp)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(units, activation="softmax" if units > 1 else "sigmoid")(x)
    return keras.Model(inp, out, name="mine")


def small(n=192):
    ds = digits()
    return ds.x_train[:n], ds.labels_train[:n], ds.x_test[:64], ds.labels_test[:64]


def done(job, state=JobState.COMPLETED):
    assert job.wait(300) is state, job.error
    return job.result


def test_arrays_with_integer_labels_pick_sparse_loss(runs_dir):
    x, y, xv, yv = small()
    model = functional()
    r = done(cl.train(model, (x, y), epochs=2, batch_size=32, validation_data=(xv, yv)))
    assert model.loss == "sparse_categorical_crossentropy"
    assert r.epochs_done == 2 and len(r.history["val_loss"]) == 2 and r.ended == "completed"
    assert len(r.batch_history["loss"]) == 2 * 6 and "samples_per_s" in r.batch_history


def test_one_hot_labels_and_user_compiled_model_keep_settings(runs_dir):
    import keras

    x, y, xv, yv = small()
    model = functional()
    opt = keras.optimizers.Adam(3e-3)
    top3 = keras.metrics.SparseTopKCategoricalAccuracy(k=3, name="top3")
    model.compile(opt, "sparse_categorical_crossentropy", metrics=[top3])
    r = done(cl.train(model, (x, y), epochs=1, batch_size=32, validation_data=(xv, yv)))
    assert model.optimizer is opt and model.loss == "sparse_categorical_crossentropy"
    assert {"top3", "val_top3"} <= r.history.keys()
    onehot = functional()
    r = done(cl.train(onehot, (x, np.eye(10, dtype="float32")[y]), epochs=1, batch_size=32, validation=False))
    assert onehot.loss == "categorical_crossentropy" and "val_loss" not in r.history


def test_tf_data_and_pydataset_with_validation_in_both_forms(runs_dir):
    import keras
    import tensorflow as tf

    x, y, xv, yv = small()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64).batch(32).prefetch(2)
    val = tf.data.Dataset.from_tensor_slices((xv, yv)).batch(32)
    r = done(cl.train(functional(), ds, epochs=2, validation_data=val))
    assert len(r.batch_history["loss"]) == 12 and len(r.history["val_loss"]) == 2
    assert r.batch_history["samples_per_s"][0] > 0  # batch size learned from one peeked batch

    class Seq(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 32:(i + 1) * 32], y[i * 32:(i + 1) * 32]

    job = cl.train(functional(), Seq(), epochs=1, validation_data=digits(), name="pyds")
    r = done(job)
    assert len(r.batch_history["loss"]) == 4 and "val_loss" in r.history


def test_callbacks_and_fit_keywords_pass_through(runs_dir, tmp_path):
    import keras

    x, y, _, _ = small()
    log = str(tmp_path / "log.csv")
    seen = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    r = done(cl.train(functional(), (x, y), epochs=2, batch_size=32,
                      callbacks=[keras.callbacks.CSVLogger(log), Count()],
                      class_weight={i: 1.0 + i for i in range(10)}, steps_per_epoch=3, shuffle=False))
    rows = list(csv.DictReader(open(log)))
    assert len(rows) == 2 and "loss" in rows[0]
    assert len(seen) == 6 and len(r.batch_history["loss"]) == 6


def test_name_or_dataset_defaults_still_work(runs_dir):
    data = digits().take(128, 32)
    r = done(cl.train(cl.models.simple_cnn(convs=[(4, 3, "relu")], pools=[2], dense=[]), data, epochs=1))
    assert "val_accuracy" in r.history and os.path.isfile(r.path)


def test_bad_input_is_refused_at_call_time_naming_what_was_expected():
    import keras
    import tensorflow as tf

    x, y, _, _ = small(64)
    model = functional()
    n = len(cl.jobs.list())
    with pytest.raises(ValueError, match="x has 64 samples, y has 60"):
        cl.train(model, (x, y[:60]))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(28, 28, 1\).*images of shape \(32, 32, 3\)"):
        cl.train(model, (np.zeros((8, 32, 32, 3), "float32"), y[:8]))
    with pytest.raises(ValueError, match="labels 0..12 but the model has 10 output units"):
        cl.train(model, (x[:13], np.arange(13)))
    with pytest.raises(ValueError, match="labels with 3 columns but the model has 10 output units"):
        cl.train(model, (x[:4], np.eye(3)[[0, 1, 2, 0]]))
    with pytest.raises(ValueError, match=r"must yield \(x, y\) batches"):
        cl.train(model, tf.data.Dataset.from_tensor_slices(x).batch(8))
    with pytest.raises(ValueError, match=r"single images .*add .batch\(n\)"):
        cl.train(model, tf.data.Dataset.from_tensor_slices((x, y)))
    with pytest.raises(ValueError, match="is empty"):
        cl.train(model, tf.data.Dataset.from_tensor_slices((x, y)).take(0).batch(8))
    with pytest.raises(ValueError, match="is empty"):
        cl.train(model, (x[:0], y[:0]))
    with pytest.raises(ValueError, match="repeats forever .*give steps_per_epoch=N"):
        cl.train(model, tf.data.Dataset.from_tensor_slices((x, y)).batch(8).repeat())
    with pytest.raises(TypeError, match="callbacks\\[1\\] is a function, not a keras.callbacks.Callback"):
        cl.train(model, (x, y), callbacks=[keras.callbacks.History(), lambda: 0])
    with pytest.raises(TypeError, match=r"validation_data in an unknown form: dict; expected .*tuple \(x, y\)"):
        cl.train(model, (x, y), validation_data={"x": x})
    with pytest.raises(TypeError, match=r"in an unknown form: a tuple of 3 items"):
        cl.train(model, (x, y, y))
    with pytest.raises(TypeError, match="unknown keyword\\(s\\) verbose"):
        cl.train(model, (x, y), verbose=2)
    assert len(cl.jobs.list()) == n
