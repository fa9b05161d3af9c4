import json
import os
import time

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.jobs import JobState

from .engines_helpers import digits, trained_cnn, wait_until

pytestmark = pytest.mark.slow


def test_simple_cnn_reaches_95_percent_on_digits(runs_dir):
    import keras

    keras.utils.set_random_seed(0)  # one fixed start: the claim is about the recipe, not a lucky draw
    model = cl.models.simple_cnn()
    job = cl.train(model, "digits", epochs=5, batch_size=64)
    assert job.wait(300) is JobState.COMPLETED, job.error
    r = job.result
    assert r.epochs_done == 5 and len(r.history["val_accuracy"]) == 5
    _, acc = model.evaluate(digits().x_test, digits().y_test, verbose=0)
    assert acc >= 0.95, r.history
    assert os.path.isfile(r.path) and r.path.endswith("model.keras")
    steps = int(np.ceil(len(digits().x_train) / 64))
    assert len(r.batch_history["loss"]) == 5 * steps
    lr = r.batch_history["lr"]
    assert lr[0] > lr[-1] > 0  # the power decay, recorded per batch
    assert "samples_per_s" in r.batch_history


def test_stop_mid_epoch_saves_model_and_history_that_reload(runs_dir):
    import keras

    model = cl.models.simple_cnn()
    job = cl.train(model, "digits", epochs=50, batch_size=16)
    wait_until(lambda: len(job.channels.history("batch").get("loss", [])) >= 30, job)
    job.stop()
    assert job.wait(120) is JobState.STOPPED
    r = job.result
    assert r.ended == "stop" and r.epochs_done < 50
    loaded = keras.models.load_model(r.path)
    x = digits().x_test[:16]
    assert np.allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    saved = json.load(open(r.history_path))
    assert saved["batch"]["loss"] == r.batch_history["loss"]
    assert not [f for f in os.listdir(os.path.dirname(r.path)) if "partial" in f]
    import csv

    rows = list(csv.reader(open(r.to_csv(str(runs_dir / "h.csv"), scope="batch"))))
    assert rows[0][0] == "batch" and "loss" in rows[0] and len(rows) == len(r.batch_history["loss"]) + 1
    assert json.load(open(r.to_json(str(runs_dir / "h.json"))))["epochs_done"] == r.epochs_done
    # resume continues the epoch count
    job2 = cl.train(model, "digits", epochs=1, batch_size=64)
    assert job2.wait(120) is JobState.COMPLETED
    assert job2.result.history  # trained on
    assert model._cnnlive_epoch == r.epochs_done + 1


def test_cancel_keeps_model_in_memory_without_saving(runs_dir):
    model = cl.models.simple_cnn()
    job = cl.train(model, "digits", epochs=50, batch_size=16)
    wait_until(lambda: len(job.channels.history("batch").get("loss", [])) >= 10, job)
    job.cancel()
    assert job.wait(120) is JobState.CANCELLED
    assert job.result.model is model and job.result.path is None and job.result.ended == "cancel"
    assert job.result.batch_history["loss"]


def tiny_cnn():
    return cl.models.simple_cnn(convs=[(4, 3, "relu")], pools=[2], dense=[])


@pytest.mark.parametrize("how", ["halt", "cancel"])
def test_halt_and_cancel_keep_history_and_epochs_learned_so_far(runs_dir, how):
    job = cl.train(tiny_cnn(), digits().take(64, 16), epochs=500, batch_size=32)
    wait_until(lambda: len(job.channels.history("epoch").get("loss", [])) >= 3, job)
    getattr(job, how)()
    job.wait(120)
    assert job.done and job.ended_by == how
    r = job.result
    assert r.epochs_done >= 3 and len(r.history["loss"]) == r.epochs_done
    assert len(r.batch_history["loss"]) >= 2 * r.epochs_done and r.ended == how and r.path is None


def test_stop_with_an_unwritable_run_folder_keeps_the_model_and_names_the_folder(runs_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    folder = str(blocker / "run")
    model = tiny_cnn()
    job = cl.train(model, digits().take(64, 16), epochs=500, batch_size=32, run_dir=folder)
    wait_until(lambda: len(job.channels.history("batch").get("loss", [])) >= 3, job)
    job.stop()
    job.wait(120)
    assert job.done and job.result.model is model and job.result.ended == "stop"
    assert folder in job.error and folder in job.log()
    assert job.result.history or job.result.batch_history


def test_leftover_partial_files_are_removed_at_the_next_save(runs_dir, tmp_path):
    from cnnlive.engines.training.saving import save_atomic

    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "model.partial-99999999.keras").write_bytes(b"half a zip")
    (folder / "history.json.99999999.partial").write_text("{")
    path = save_atomic(tiny_cnn(), str(folder / "model.keras"))
    assert sorted(os.listdir(folder)) == ["model.keras"] and path.endswith("model.keras")


def test_stop_before_fit_is_honoured(runs_dir):
    model = cl.models.simple_cnn()
    job = cl.train(model, "digits", epochs=3)
    job.stop()
    assert job.wait(120) is JobState.STOPPED
    assert job.result.epochs_done <= 1


def test_bad_training_input_is_rejected_before_start():
    model = cl.models.simple_cnn()
    n = len(cl.jobs.list())
    with pytest.raises(ValueError, match=r"expects inputs of shape \(28, 28, 1\).*shape \(32, 32, 3\)"):
        ds = digits()
        bad = cl.data.Dataset("rgb", np.zeros((4, 32, 32, 3), np.float32), ds.y_train[:4],
                              np.zeros((2, 32, 32, 3), np.float32), ds.y_test[:2], ds.class_names, "test")
        cl.train(model, bad)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        cl.train(model, digits(), epochs=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        cl.train(model, digits(), batch_size=-1)
    with pytest.raises(ValueError, match="unknown optimizer 'adagradx'; valid: rmsprop, adam, sgd"):
        cl.train(model, digits(), optimizer="adagradx")
    with pytest.raises(ValueError, match="unknown lr_schedule 'cosine'"):
        cl.train(model, digits(), optimizer="adam", lr_schedule="cosine")
    three = cl.models.simple_cnn(classes=3)
    with pytest.raises(ValueError, match="3 output units but the data set 'digits' has 10 classes"):
        cl.train(three, digits())
    assert len(cl.jobs.list()) == n


def test_live_callback_in_a_plain_fit():
    from cnnlive.engines.training.callback import LiveCallback

    seen = []
    model = cl.models.simple_cnn(convs=[(4, 3, "relu")], pools=[2], dense=[])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    ds = digits()
    model.fit(ds.x_train[:128], ds.y_train[:128], epochs=1, batch_size=64, verbose=0,
              callbacks=[LiveCallback(publish=lambda ch, v: seen.append((ch, v)), batch_size=64)])
    from cnnlive.events.channels import SCOPE

    batches = [v for ch, v in seen if ch == "metrics" and v[SCOPE] == "batch"]  # position and scope: reserved keys
    assert len(batches) == 2 and {"loss", "accuracy", "lr", "samples_per_s"} <= batches[0].keys()


def test_oip_on_a_training_model_uses_a_snapshot(runs_dir):
    model = trained_cnn()
    before = [w.copy() for w in model.get_weights()]
    train_job = cl.train(model, "digits", epochs=2, batch_size=32)
    oip_job = cl.oip(model, layer="Conv2D_3", maps=[1, 2], steps=20)
    assert oip_job.wait(120) is JobState.COMPLETED, oip_job.error
    assert train_job.wait(120) is JobState.COMPLETED, train_job.error
    after = model.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(before, after))  # training went on
    assert oip_job.result.images.shape == (2, 28, 28, 1)
