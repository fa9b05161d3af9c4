"""Job engine: stop/cancel latency, start/stop cycles, foreground responsiveness."""

from __future__ import annotations

import asyncio
import os
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
    return {
        "stop latency p50 / p95 (ms)": f"{stop50:.1f} / {stop95:.1f}",
        "cancel latency p50 / p95 (ms)": f"{cancel50:.1f} / {cancel95:.1f}",
        "threads before / after 200 start-stop-cancel cycles": f"{threads0} / {threads1}",
        "RSS growth over 200 cycles (MB)": f"{rss1 - rss0:.1f}",
        "foreground p95 with 3 jobs / idle (ratio)": f"{loaded / idle:.2f}",
    }
