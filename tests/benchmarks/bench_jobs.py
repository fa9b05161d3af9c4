"""Job engine: stop/cancel latency (cooperative and deaf work), every-epoch
OIP stop latency, start/stop cycles, RSS after 1,000 random
start/stop/cancel/halt/remove cycles, foreground responsiveness."""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time

import numpy as np

from cnnlive.jobs import JobManager


async def _tick(ctx):
    while True:
        if await ctx.checkpoint():
            return
        await asyncio.sleep(0.01)


def _latency(mgr: JobManager, how: str, n: int = 40) -> tuple[float, float]:
    out = []
    for _ in range(n):
        job = mgr.start(_tick)
        while job.state.value == "pending":
            time.sleep(0.001)
        time.sleep(0.03)
        t0 = time.perf_counter()
        getattr(job, how)()
        job.wait(5)
        out.append(time.perf_counter() - t0)
    return float(np.percentile(out, 50) * 1000), float(np.percentile(out, 95) * 1000)


async def _deaf(ctx):
    """The seeds' plain sprinter: awaits, never looks at ctx."""
    while True:
        await asyncio.sleep(0.01)


def _deaf_stop_latency(mgr: JobManager, grace: float = 0.1, n: int = 20) -> tuple[float, float]:
    out = []
    for _ in range(n):
        job = mgr.start(_deaf, stop_timeout=grace)
        while job.state.value == "pending":
            time.sleep(0.001)
        time.sleep(0.03)
        t0 = time.perf_counter()
        job.stop()
        job.wait(10)
        assert job.ended_by == "stop-forced", job.ended_by
        out.append(time.perf_counter() - t0)
    return float(np.percentile(out, 50) * 1000), float(np.percentile(out, 95) * 1000)


def _random_cycles(mgr: JobManager, n: int = 1000) -> tuple[int, int, float, float]:
    rng = random.Random(0)
    threads0, rss0 = threading.active_count(), _rss_mb()
    for _ in range(n):
        job = mgr.start(rng.choice([_tick, _deaf]), stop_timeout=0.05)
        if rng.random() < 0.5:
            job.wait(0.002)  # sometimes the request lands before the work starts, sometimes after
        getattr(job, rng.choice(["stop", "cancel", "halt"]))()
        job.wait(10)
        mgr.remove(job)
    deadline = time.time() + 5
    while threading.active_count() > threads0 and time.time() < deadline:
        time.sleep(0.01)
    return threads0, threading.active_count(), rss0, _rss_mb()


def _every_epoch_oip_stop(n: int = 5) -> tuple[float, float]:
    import cnnlive as cl

    ds = cl.data.load("digits")
    small = cl.data.Dataset("s", ds.x_train[:256], ds.y_train[:256], ds.x_test[:64], ds.y_test[:64],
                            ds.class_names, "bench")
    train = cl.train(cl.models.simple_cnn(), small, epochs=1, batch_size=64, save=False)
    train.wait(300)
    out = []
    for _ in range(n):
        job = cl.oip(train, layer="Conv2D_3", maps=[0, 1, 2, 3], steps=10**6, every="epoch")
        while not (job.progress_fraction or 0) > 0:
            time.sleep(0.005)
        time.sleep(0.2)
        t0 = time.perf_counter()
        job.stop()
        job.wait(30)
        out.append(time.perf_counter() - t0)
        cl.jobs.remove(job)
    cl.jobs.remove(train)
    return float(np.median(out) * 1000), float(np.max(out) * 1000)


def _rss_mb() -> float:
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def _foreground_p95(n: int = 200) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        sum(i * i for i in range(20000))
        times.append(time.perf_counter() - t0)
    return float(np.percentile(times, 95))


def run() -> dict[str, str]:
    mgr = JobManager()
    stop50, stop95 = _latency(mgr, "stop")
    cancel50, cancel95 = _latency(mgr, "cancel")
    threads0, rss0 = threading.active_count(), _rss_mb()
    for i in range(200):
        job = mgr.start(_tick)
        (job.stop if i % 2 else job.cancel)()
        job.wait(5)
    time.sleep(0.2)
    threads1, rss1 = threading.active_count(), _rss_mb()
    idle = _foreground_p95()
    busy_jobs = [mgr.start(_tick) for _ in range(3)]
    loaded = _foreground_p95()
    for j in busy_jobs:
        j.stop()
        j.wait(5)
    deaf50, deaf95 = _deaf_stop_latency(mgr)
    c_threads0, c_threads1, c_rss0, c_rss1 = _random_cycles(mgr)
    oip50, oipmax = _every_epoch_oip_stop()
    return {
        "stop latency p50 / p95 (ms)": f"{stop50:.1f} / {stop95:.1f}",
        "deaf job (never looks at ctx) stop latency p50 / p95, stop_timeout 0.1 s: grace + cancel (ms)":
            f"{deaf50:.0f} / {deaf95:.0f}",
        "every-epoch OIP (4 maps) stop latency median / max of 5 (ms)": f"{oip50:.0f} / {oipmax:.0f}",
        "threads before / after 1,000 random start-stop/cancel/halt-remove cycles":
            f"{c_threads0} / {c_threads1} (RSS {c_rss0:.0f} -> {c_rss1:.0f} MB)",
        "cancel latency p50 / p95 (ms)": f"{cancel50:.1f} / {cancel95:.1f}",
        "threads before / after 200 start-stop-cancel cycles": f"{threads0} / {threads1}",
        "RSS growth over 200 cycles (MB)": f"{rss1 - rss0:.1f}",
        "foreground p95 with 3 jobs / idle (ratio)": f"{loaded / idle:.2f}",
    }
