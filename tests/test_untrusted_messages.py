"""Bounded cost of one panel message: a 5 MB or 9 MB message (under the
websocket's 10 MiB) is answered by the kernel-side handler within a second,
with little memory and a short reply that does not echo it."""

import json
import time
import tracemalloc

import pytest

from cnnlive import jobs
from cnnlive.protocol import ProtocolError, check_limits, validate
from cnnlive.surfaces.panel_bridge import PanelBridge

MB = 1_000_000


def _nested(depth, inner):
    for _ in range(depth):  # as deep as the kernel's JSON parser accepts
        inner = [inner]
    return inner


def _huge_messages(size):
    """Messages of about ``size`` bytes of JSON, each shaped to be expensive somewhere."""
    n = size // 10
    return {
        "long request id": {"type": "request", "request_id": "x" * size, "action": "stop", "job_id": 1},
        "many run names": {"type": "request", "request_id": "q", "action": "compare",
                           "runs": [f"r{i:06d}" for i in range(n)]},
        "long run names": {"type": "request", "request_id": "q", "action": "compare",
                           "runs": ["<img src=x onerror=alert(1)>" + "y" * (size // 12)] * 12},
        "many keys": {"type": "request", "request_id": "q", "action": "runs",
                      **{f"k{i}": i for i in range(n)}},
        "deep": {"type": "request", "request_id": "q", "action": "snapshot", "x": _nested(900, "z" * size)},
        "wrong types": {"type": "request", "request_id": "q", "action": "adjust", "job_id": 1,
                        "learning_rate": ["0.1"] * (n * 2)},
    }


@pytest.mark.parametrize("size", [5 * MB, 9 * MB], ids=["5MB", "9MB"])
def test_a_huge_panel_message_is_refused_fast_small_and_without_echo(size):
    mgr = jobs.JobManager()
    bridge = PanelBridge(mgr)
    try:
        for what, data in _huge_messages(size).items():
            assert len(json.dumps(data)) >= size, what  # really that large as JSON
            sent = []

            class Comm:
                comm_id = "c"

                def send(self, msg, buffers=None):
                    sent.append(msg)

            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            t0 = time.perf_counter()
            bridge._on_msg(Comm(), {"content": {"data": data}})
            took = time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
            reply = sent[-1]
            text = json.dumps(reply)
            print(f"{size // MB} MB {what}: {took * 1000:.1f} ms, +{peak / 2**20:.2f} MiB, reply {len(text)} B")
            assert len(sent) == 1 and reply["type"] == "reply" and reply["ok"] is False, what
            assert took < 1.0, (what, took)
            assert peak < 50 * 2**20, (what, peak)
            assert len(text) < 10_000, (what, len(text))
            assert not any(c * 10 in text for c in "xyz") and "<img" not in text
            validate(reply, "KernelMessage")
    finally:
        bridge.close()


def test_structural_limits_name_the_limit_and_stop_early():
    with pytest.raises(ProtocolError, match="larger than 64 KB"):
        check_limits({"a": "x" * 70_000})
    with pytest.raises(ProtocolError, match="deeper than 6"):
        check_limits([[[[[[[1]]]]]]])
    with pytest.raises(ProtocolError, match="more than 256 values"):
        check_limits(list(range(300)))
    with pytest.raises(ProtocolError, match="integer too large"):
        check_limits({"job_id": 10 ** 30})
    check_limits({"type": "request", "request_id": "q", "action": "compare", "runs": ["a" * 255] * 12})


def test_a_schema_error_names_the_rule_not_the_value():
    with pytest.raises(ProtocolError) as err:
        validate({"type": "request", "request_id": "q", "action": "<script>alert(1)</script>", "job_id": 1})
    assert "must be one of snapshot, stop" in str(err.value) and "<script>" not in str(err.value)
    with pytest.raises(ProtocolError, match="needs job_id"):
        validate({"type": "request", "request_id": "q", "action": "stop"})
    with pytest.raises(ProtocolError, match="type is 'hello' or 'request'"):
        validate({"type": "x" * 1000})


def test_each_panel_message_is_held_to_the_limits_once_before_validation(monkeypatch):
    import cnnlive.protocol as protocol
    import cnnlive.surfaces.panel_bridge as panel_bridge

    calls = []

    def counting(message, *args, **kwargs):
        calls.append("limits")
        return check_limits(message, *args, **kwargs)

    def validating(message, *args, **kwargs):
        calls.append("schema")
        return validate(message, *args, **kwargs)

    monkeypatch.setattr(protocol, "check_limits", counting)
    monkeypatch.setattr(panel_bridge, "check_limits", counting)
    monkeypatch.setattr(panel_bridge, "validate", validating)
    mgr = jobs.JobManager()
    bridge = PanelBridge(mgr)
    try:
        reply = bridge.handle({"type": "request", "request_id": "q", "action": "stop", "job_id": 999})
        assert reply["ok"] is False and "999" in reply["message"]  # validated, then an unknown job
        assert calls == ["limits", "schema"]  # the cheap limits once, first
        calls.clear()
        assert bridge.handle({"type": "request", "request_id": "q", "runs": list(range(300))})["ok"] is False
        assert calls == ["limits"]  # over the limits: the schema never sees it
    finally:
        bridge.close()
    with pytest.raises(ProtocolError, match="more than 256 values"):
        validate({"type": "request", "request_id": "q", "runs": list(range(300))})  # alone, validate still checks
