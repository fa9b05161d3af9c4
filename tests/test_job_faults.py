"""Stress and fault tests with real work: every-epoch OIP stops within a
second, many mixed jobs at once all complete, and a flood soak (1,000,000
metric events and 10,000 images in about a minute) keeps kernel memory
bounded and the panel's message rate within its cap, and the last values
arrive. The panel comm is the only thing faked (an object that records what
is sent)."""

import asyncio
import os
import threading
import time

import numpy as np
import pytest

import cnnlive as cl
from cnnlive import jobs
from cnnlive.jobs import JobState
from cnnlive.surfaces.panel_bridge import PanelBridge

from .engines_helpers import digits, trained_cnn, wait_until

pytestmark = pytest.mark.slow


def small_data(n=256):
    ds = digits()
    return cl.data.Dataset("digits-small", ds.x_train[:n], ds.y_train[:n], ds.x_test[:64], ds.y_test[:64],
                           ds.class_names, "test")


def test_every_epoch_oip_stops_within_a_second(runs_dir):
    train = cl.train(trained_cnn(), small_data(), epochs=1, batch_size=64, save=False)
    assert train.wait(120) is JobState.COMPLETED, train.error
    job = cl.oip(train, layer="Conv2D_3", maps=[0, 1], steps=1_000_000, every="epoch")
    wait_until(lambda: (job.progress_fraction or 0) > 0, job)  # compiled, inside the (endless) search
    t0 = time.monotonic()
    job.stop()
    assert job.wait(30) is JobState.STOPPED
    latency = time.monotonic() - t0
    print(f"every-epoch OIP stop latency: {latency * 1000:.0f} ms")
    assert job.ended_by == "stop" and latency < 1.0
    (partial,) = job.result
    assert 0 < partial.steps_done < 1_000_000


def test_many_mixed_jobs_at_once_all_complete(runs_dir):
    model = trained_cnn()
    data = small_data()
    started = [cl.train(cl.models.simple_cnn(convs=[(8, 3, "relu")], pools=[2], dense=[(16, "relu")]), data, epochs=2,
                        batch_size=64, name=f"train-{i}") for i in range(2)]
    started += [cl.oip(model, layer="Conv2D_3", maps=[i, i + 1], steps=30, name=f"oip-{i}") for i in range(3)]
    started += [cl.dream(model, layer="Conv2D_3", maps=56 + i, iterations=1, steps=5, levels=1, size=112,
                         name=f"dream-{i}") for i in range(3)]
    for job in started:
        assert job.wait(300) is JobState.COMPLETED, f"{job}: {job.error}"
        assert job.ended_by == "completed" and job.result is not None
    kinds = sorted(j.kind for j in started)
    assert kinds == ["dream"] * 3 + ["oip"] * 3 + ["train"] * 2


class RecordingComm:
    """Stands in for the panel's comm: records what the kernel sends."""

    def __init__(self):
        self.comm_id = "fake-panel"
        self.sent = []  # (monotonic time, msg, buffers)

    def send(self, data=None, buffers=None):
        self.sent.append((time.monotonic(), data, buffers))

    def on_msg(self, fn):
        pass

    def on_close(self, fn):
        pass

    def close(self):
        pass


METRIC_EVENTS = 1_000_000
IMAGES = 10_000
ROUNDS = 1000


async def flood(ctx, seconds):
    per_round = METRIC_EVENTS // ROUNDS
    images_per_round = IMAGES // ROUNDS
    t0 = time.monotonic()
    img = np.zeros((28, 28), np.float32)
    step = 0
    for r in range(ROUNDS):
        for _ in range(per_round):
            ctx.publish("metrics", {"loss": 1.0 / (step + 1), "step": step})
            step += 1
        for k in range(images_per_round):
            img[:, :] = (r * images_per_round + k) % 255
            ctx.publish("images", {"image": img.copy(), "caption": f"image {r * images_per_round + k}"})
        ctx.progress(r + 1, ROUNDS)
        ahead = t0 + seconds * (r + 1) / ROUNDS - time.monotonic()
        await asyncio.sleep(max(0.0, ahead))
    return step


def test_flood_soak_memory_bounded_rate_capped_last_values_arrive():
    import psutil

    proc = psutil.Process(os.getpid())
    mgr = jobs.JobManager()
    bridge = PanelBridge(mgr, rate_hz=10.0)
    comm = RecordingComm()
    bridge._adopt(comm)
    bridge.transport.start()
    rss0 = peak = proc.memory_info().rss
    stop = threading.Event()

    def sample():
        nonlocal peak
        while not stop.wait(0.1):
            peak = max(peak, proc.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.monotonic()
    job = mgr.start(flood, 55.0, name="flood")
    try:
        assert job.wait(300) is JobState.COMPLETED, job.error
        took = time.monotonic() - t0
        deadline = time.monotonic() + 10
        while not any(m.get("type") == "job" and m["job"]["state"] == "completed" for _, m, _ in comm.sent[-5:]):
            assert time.monotonic() < deadline, "the final card never arrived"
            time.sleep(0.02)
    finally:
        stop.set()
        sampler.join(5)
        bridge.close()
    growth_mb = (peak - rss0) / 2**20
    print(f"flood soak: {METRIC_EVENTS} metric events + {IMAGES} images in {took:.1f} s, "
          f"peak RSS {peak / 2**20:.0f} MB (+{growth_mb:.1f} MB)")
    assert job.result == METRIC_EVENTS
    assert growth_mb < 150  # bounded: history down-sampled, latest image only
    cards = [(t, m) for t, m, _ in comm.sent if m.get("type") == "job" and m["job"]["id"] == job.id]
    times = np.array([t for t, _ in cards])
    # the cap: at most 10 updates per second per job (+1 for the final state), in every 1 s window
    per_window = max(np.searchsorted(times, t + 1.0) - i for i, t in enumerate(times))
    print(f"panel: {len(cards)} job messages, at most {per_window} in any 1 s window")
    assert per_window <= 11
    assert len(cards) >= took * 5  # it kept sending while flooded
    last = cards[-1][1]["job"]
    assert last["state"] == "completed" and last["progress"] == 1.0
    assert last["metrics"]["loss"] == pytest.approx(1.0 / METRIC_EVENTS)
    images = [m for _, m, b in comm.sent if m.get("type") == "job" and "image" in m]
    assert images[-1]["image"]["caption"] == f"image {IMAGES - 1}"
