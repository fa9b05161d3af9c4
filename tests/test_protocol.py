"""The Python side of the panel protocol, checked against the same golden
fixtures as the TypeScript guards."""

import json
import time
from pathlib import Path

import pytest

from cnnlive import jobs
from cnnlive.jobs.state import FINISHED, JobState
from cnnlive.protocol import ACTIONS, FINISHED_STATES, PROTOCOL_VERSION, ProtocolError, schema, validate
from cnnlive.surfaces.panel_bridge import PanelBridge
from cnnlive.views.panel_transport import PanelTransport, card

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "protocol_fixtures"


def wait_for(condition, timeout=30.0):
    """Poll ``condition`` until true (a generous deadline for a loaded machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def _fixtures(side, kind):
    return sorted((FIX / side / kind).glob("*.json"))


@pytest.mark.parametrize("path", _fixtures("kernel", "valid") + _fixtures("panel", "valid"), ids=lambda p: p.stem)
def test_valid_fixtures(path):
    kind = "KernelMessage" if "kernel" in path.parts else "PanelMessage"
    validate(json.loads(path.read_text()), kind)


@pytest.mark.parametrize("path", _fixtures("kernel", "invalid") + _fixtures("panel", "invalid"), ids=lambda p: p.stem)
def test_invalid_fixtures(path):
    kind = "KernelMessage" if "kernel" in path.parts else "PanelMessage"
    with pytest.raises(ProtocolError):
        validate(json.loads(path.read_text()), kind)


def test_python_reads_the_protocol_constants_from_the_schema():
    defs = schema()["$defs"]
    assert PROTOCOL_VERSION == schema()["version"]
    assert ACTIONS == tuple(defs["Action"]["enum"]) and "stop" in ACTIONS
    assert set(FINISHED_STATES) == set(defs["FinishedState"]["enum"]) == {s.value for s in FINISHED}
    # the job states the kernel has are exactly the protocol's
    assert {s.value for s in JobState} == set(defs["ActiveState"]["enum"]) | set(defs["FinishedState"]["enum"])


async def _busy(ctx):
    import asyncio

    ctx.publish("metrics", {"loss": 1.0})
    ctx.publish("images", [[0.0, 1.0], [1.0, 0.0]])
    while not await ctx.checkpoint():
        await asyncio.sleep(0.01)


def test_kernel_messages_follow_the_schema():
    mgr = jobs.JobManager()
    job = mgr.start(_busy)
    sent = []
    t = PanelTransport(mgr, lambda m, b: sent.append((m, b)))
    wait_for(lambda: job.channels.latest("images") is not None)
    t.pump()
    validate(PanelBridge(mgr).hello(), "KernelMessage")
    validate(t.snapshot(), "KernelMessage")
    job.stop(), job.wait(5)
    t.pump(now=time.monotonic() + 1)
    for msg, buffers in sent:
        validate(msg, "KernelMessage")
        if "image" in msg:
            assert buffers[msg["image"]["buffer"]][:4] == b"\x89PNG"
    assert any("image" in m for m, _ in sent)
    assert any(m.get("job", {}).get("state") == "stopped" for m, _ in sent)


def test_card_carries_the_epoch_of_a_total():
    async def epochs(ctx):
        ctx.publish("metrics", {"loss": 0.5, "epoch": 2.0, "epochs": 5, "step": 7})
        while not await ctx.checkpoint():
            await asyncio.sleep(0.01)

    import asyncio

    mgr = jobs.JobManager()
    job = mgr.start(epochs)
    try:
        wait_for(lambda: "loss" in (job.channels.latest("metrics") or {}))
        c = card(job)
        assert c["epoch"] == {"current": 3, "total": 5}
        validate({"type": "job", "job": c}, "KernelMessage")
    finally:
        job.stop(), job.wait(10)
    job2 = mgr.start(_busy)
    try:
        wait_for(lambda: "loss" in (job2.channels.latest("metrics") or {}))
        assert "epoch" not in card(job2)
    finally:
        job2.stop(), job2.wait(10)


def test_bridge_rejects_malformed_and_unknown_requests_without_change():
    import time

    mgr = jobs.JobManager()
    job = mgr.start(_busy)
    wait_for(lambda: job.state.value != "pending")
    bridge = PanelBridge(mgr)
    for bad in (None, "stop 1", {"type": "request", "action": "exec", "request_id": "r", "job_id": job.id},
                {"type": "request", "request_id": "r", "action": "stop", "job_id": job.id, "code": "1"},
                {"type": "request", "request_id": "r", "action": "stop"}):
        reply = bridge.handle(bad)
        assert reply["type"] == "reply" and reply["ok"] is False
        validate(reply, "KernelMessage")
    reply = bridge.handle({"type": "request", "request_id": "r9", "action": "stop", "job_id": 4242})
    assert reply["ok"] is False and "known ids" in reply["message"] and reply["request_id"] == "r9"
    reply = bridge.handle({"type": "request", "request_id": "r1", "action": "remove", "job_id": job.id})
    assert reply["ok"] is False and "stop or cancel" in reply["message"]
    assert job.state.value == "running"
    reply = bridge.handle({"type": "request", "request_id": "r2", "action": "stop", "job_id": job.id})
    assert reply["ok"] is True
    assert job.wait(5).value == "stopped"
    assert bridge.handle({"type": "request", "request_id": "r3", "action": "remove", "job_id": job.id})["ok"]
    assert mgr.list() == []
    assert bridge.handle({"type": "hello", "protocol": PROTOCOL_VERSION + 1})["ok"] is False


def test_flood_is_rate_capped_and_last_value_arrives():
    """50,000 metric events: the transport sends at most ~10 updates/s/job."""
    import asyncio
    import time

    async def flood(ctx):
        for i in range(50_000):
            ctx.publish("metrics", {"loss": float(i), "step": i})
            if i % 500 == 0:
                await asyncio.sleep(0)
        return "done"

    mgr = jobs.JobManager()
    sent = []
    t = PanelTransport(mgr, lambda m, b: sent.append(m), rate_hz=10, tick=0.01)
    t.start()
    t0 = time.monotonic()
    job = mgr.start(flood)
    job.wait(60)
    wait_for(lambda: any(m["type"] == "job" and m["job"]["state"] == "completed" for m in list(sent)))
    t.close()
    elapsed = time.monotonic() - t0
    updates = [m for m in sent if m["type"] == "job"]
    assert len(updates) <= 10 * elapsed + 3, (len(updates), elapsed)
    assert updates[-1]["job"]["state"] == "completed"
    assert updates[-1]["job"]["metrics"]["loss"] == 49_999.0
    assert len(updates[-1]["job"]["sparkline"]) <= 100
