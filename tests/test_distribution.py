"""Distribution strategies: MirroredStrategy over two logical CPU devices with
cl.train and with LiveCallback (live metrics and Stop), and the multi-worker
example with two local workers. Subprocesses: logical devices and TF_CONFIG
must be set before TensorFlow initializes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]

MIRRORED = r"""
import json, threading, time
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
import cnnlive as cl
from cnnlive.jobs import manager

manager().runs_root = RUNS
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
data = cl.data.load("digits")
x, y = data.x_train[:256], data.labels_train[:256]
with strategy.scope():
    inp = keras.Input((28, 28, 1))
    h = keras.layers.Conv2D(4, 3, activation="relu")(inp)
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inp, keras.layers.Dense(10, activation="softmax")(h))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
out = {"replicas": strategy.num_replicas_in_sync}
job = cl.train(model, (x, y), epochs=500, batch_size=32)
while len(job.channels.history("batch").get("loss", [])) < 5 and not job.done:
    time.sleep(0.01)
job.stop()
out["train"] = [job.wait(120).value, job.result.ended, len(job.result.batch_history["loss"]),
                os.path.isfile(job.result.path or "")]
cb = cl.LiveCallback(name="mirrored-fit")
class At(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 3:
            threading.Thread(target=cb.job.stop).start()
model.fit(x, y, epochs=500, batch_size=32, verbose=0, callbacks=[cb, At()])
out["fit"] = [cb.job.wait(5).value, len(cb.job.channels.history("batch").get("loss", [])),
              sorted(cb.job.channels.latest("metrics"))]
print("RESULT " + json.dumps(out))
"""


def run(code: str, env: dict, timeout: float = 400) -> dict:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3", **env})
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def test_mirrored_strategy_on_two_logical_cpus_trains_streams_and_stops(tmp_path):
    out = run("import os\nRUNS = os.environ['RUNS']\n" + MIRRORED, {"RUNS": str(tmp_path)})
    assert out["replicas"] == 2
    state, ended, batches, saved = out["train"]
    assert state == "stopped" and ended == "stop" and batches >= 5 and saved
    state, batches, metrics = out["fit"]
    assert state == "stopped" and 4 <= batches <= 6 and {"loss", "accuracy"} <= set(metrics)


def test_multiworker_example_runs_two_local_workers(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "multiworker.py"), "--epochs", "2",
                           "--runs", str(tmp_path)], capture_output=True, text=True, timeout=500,
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = [json.loads(line.split(" ", 1)[1]) for line in proc.stdout.splitlines() if line.startswith("WORKER ")]
    assert sorted(r["index"] for r in results) == [0, 1]
    for r in results:
        assert r["state"] == "completed" and r["epochs_done"] == 2 and r["replicas"] == 2
    assert results[0]["loss"] == pytest.approx(results[1]["loss"])  # one model, kept in step
    assert (tmp_path / "worker-0" / "model.keras").is_file()
