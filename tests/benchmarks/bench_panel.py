"""Panel transport under a flooding job: messages/s and event-to-send latency."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from cnnlive.jobs import JobManager
from cnnlive.views.panel_transport import PanelTransport


def run(events: int = 200_000) -> dict[str, str]:
    mgr = JobManager()
    stamps: list[float] = []
    published: dict[float, float] = {}

    async def flood(ctx):
        for i in range(events):
            ctx.publish("metrics", {"loss": float(i), "step": i, "t": time.perf_counter()})
            if i % 200 == 0:
                await asyncio.sleep(0)

    latencies = []

    def send(msg, buffers):
        if msg["type"] == "job" and "t" in msg["job"]["metrics"]:
            latencies.append(time.perf_counter() - msg["job"]["metrics"]["t"])
        stamps.append(time.perf_counter())

    t = PanelTransport(mgr, send, rate_hz=10)
    t.start()
    t0 = time.perf_counter()
    job = mgr.start(flood)
    job.wait()
    elapsed = time.perf_counter() - t0
    time.sleep(0.3)
    t.close()
    return {
        "flood: events published / s": f"{events / elapsed:.0f}",
        "flood: panel messages / s (cap 10 per job + resources)": f"{len(stamps) / (elapsed + 0.3):.1f}",
        "latest-event-to-send latency p50 / p95 (ms)":
            f"{np.percentile(latencies, 50) * 1000:.0f} / {np.percentile(latencies, 95) * 1000:.0f}",
    }
