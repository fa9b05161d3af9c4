"""Fault test: kill -9 while a training process saves, again and again.

A zygote process imports TensorFlow once (no op run yet) and forks a child per
round; each child trains and saves in a loop (stop, resume, stop ...) into one
run folder until the test kills it at a random moment. Afterwards
``model.keras`` either does not exist or loads, and ``history.json`` parses.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ZYGOTE = r"""
import os, signal, sys
import cnnlive as cl
import keras  # imports TensorFlow; no op runs in this process, so forking is safe
from cnnlive.engines.training import data as _data, models as _models, work as training
from cnnlive.engines.training import fitdata as _fitdata  # noqa: F401 - imported once, before the forks

signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped at once
run_dir, ready = sys.argv[1], sys.argv[2]
data = cl.data.load("digits").take(32, 8)  # numpy only
save = training.save_atomic


def marked_save(model, path):  # a marker tells the test that a save is under way
    open(f"{ready}-saving", "w").close()
    try:
        return save(model, path)
    finally:
        os.remove(f"{ready}-saving")


training.save_atomic = marked_save
for line in sys.stdin:
    n = int(line)
    pid = os.fork()
    if pid:
        print(pid, flush=True)
        continue
    model = cl.models.simple_cnn(convs=[(4, 3, "relu")], pools=[2], dense=[])
    model.compile("sgd", "categorical_crossentropy", run_eagerly=True)  # no tracing: saves start sooner
    first = True
    while True:
        job = cl.train(model, data, epochs=1000, batch_size=32, run_dir=run_dir, validation=False)
        while len(job.channels.history("batch").get("loss", [])) < 2 and not job.done:
            pass
        job.stop()
        job.wait()
        assert job.error is None, job.error
        if first:
            open(f"{ready}-{n}", "w").close()
            first = False
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_kill_9_during_save_never_leaves_a_broken_model(tmp_path):
    import keras

    import cnnlive.engines.training.schedules  # noqa: F401 - registers PowerDecay for loading

    run_dir, ready = tmp_path / "run", tmp_path / "ready"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(run_dir), str(ready)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    rng = random.Random(12)
    kills_in_save = 0
    try:
        for n in range(20):
            zygote.stdin.write(f"{n}\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            deadline = time.time() + 90
            while not Path(f"{ready}-{n}").exists():
                assert time.time() < deadline, "the child never saved"
                assert alive(pid), "the child died"
                time.sleep(0.01)
            if n % 2:  # every other round: a random moment inside a save
                while not Path(f"{ready}-saving").exists():
                    assert alive(pid), "the child died"
                time.sleep(rng.uniform(0.0, 0.005))  # a tiny model saves in tens of ms
            else:
                time.sleep(rng.uniform(0.0, 0.5))
            os.kill(pid, signal.SIGKILL)
            kills_in_save += Path(f"{ready}-saving").exists()
            while alive(pid):
                time.sleep(0.005)
            if Path(f"{ready}-saving").exists():
                os.remove(f"{ready}-saving")
            model_path = run_dir / "model.keras"
            if model_path.exists():
                keras.models.load_model(model_path)
            history = run_dir / "history.json"
            if history.exists():
                assert "epoch" in json.loads(history.read_text())
    finally:
        zygote.kill()
        zygote.wait()
    assert kills_in_save >= 4, f"only {kills_in_save} kills landed during a save"
    leftovers = [f for f in os.listdir(run_dir) if "partial" in f]
    from cnnlive.engines.training.saving import clean_partials

    assert sorted(clean_partials(str(run_dir))) == sorted(leftovers)
    assert not [f for f in os.listdir(run_dir) if "partial" in f]
