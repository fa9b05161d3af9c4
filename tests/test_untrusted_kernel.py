"""Through a real kernel: a 5 MB and a 9 MB panel message (as a front end
sends them, comm_msg on the shell channel) are answered at once with a short
error, the kernel's memory barely grows, and the comm answers the next
request without delay."""

import json
import os
import time
import uuid

import pytest

pytestmark = pytest.mark.slow

MB = 1_000_000


def _rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def _cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _wait_idle(pid, timeout=60):
    """Until the kernel process used under 5 % of a CPU over half a second."""
    deadline = time.monotonic() + timeout
    hz = os.sysconf("SC_CLK_TCK")
    while time.monotonic() < deadline:
        before = _cpu_ticks(pid)
        time.sleep(0.5)
        if (_cpu_ticks(pid) - before) / hz < 0.025:
            return
    raise AssertionError("the kernel never went idle")


def _answer(kc, comm_id, request_id, timeout=30, kind=None):
    """The kernel's comm message for ``request_id`` (or the first of type ``kind``)."""
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        content = msg["content"]
        if msg["msg_type"] == "comm_msg" and content.get("comm_id") == comm_id and (
                content["data"].get("request_id") == request_id or content["data"].get("type") == kind):
            return content["data"]


def test_huge_panel_messages_through_a_real_kernel(tmp_path):
    from jupyter_client import KernelManager

    from cnnlive.protocol import PROTOCOL_VERSION

    km = KernelManager(kernel_name="python3")
    km.start_kernel(env={**os.environ, "CNNLIVE_RUNS": str(tmp_path)})
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive("%load_ext cnnlive", timeout=60)
        assert reply["content"]["status"] == "ok"
        comm_id = uuid.uuid4().hex
        kc.shell_channel.send(kc.session.msg("comm_open", {
            "comm_id": comm_id, "target_name": "cnnlive", "data": {"type": "hello", "protocol": PROTOCOL_VERSION}}))

        def send(data):
            kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data}))

        send({"type": "request", "request_id": "warm", "action": "snapshot"})
        assert _answer(kc, comm_id, "warm", kind="snapshot")["type"] == "snapshot"
        pid = km.provisioner.process.pid
        _wait_idle(pid)  # the panel's first snapshot and the kernel's start-up work are done
        for size in (5 * MB, 9 * MB):
            before = _rss_mb(pid)
            huge = {"type": "request", "request_id": f"huge-{size}", "action": "compare",
                    "runs": ["<img src=x onerror=alert(1)>" + "y" * (size // 12)] * 12}
            t0 = time.monotonic()
            send(huge)
            answer = _answer(kc, comm_id, f"huge-{size}")
            took = time.monotonic() - t0
            send({"type": "request", "request_id": f"next-{size}", "action": "runs"})
            next_answer = _answer(kc, comm_id, f"next-{size}")
            next_took = time.monotonic() - t0 - took
            grown = _rss_mb(pid) - before
            text = json.dumps(answer)
            print(f"{size // MB} MB through the kernel: answered in {took * 1000:.0f} ms "
                  f"(the next request {next_took * 1000:.0f} ms later), kernel RSS {grown:+.1f} MB, "
                  f"reply {len(text)} B")
            assert answer["type"] == "reply" and answer["ok"] is False and len(text) < 10_000
            assert "yyyyyyyyyy" not in text and "<img" not in text
            assert took < 2.0  # the kernel's own parsing of the JSON included
            assert next_answer["type"] == "runs" and next_took < 1.0
            assert grown < 50
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
