"""A stateful property-based fuzz test of the panel protocol against the
kernel-side bridge: random valid and invalid messages (hostile strings,
huge sizes, wrong shapes). Invariants: every message gets exactly one short
answer, no job changes state except through a valid action, memory stays
bounded."""

import asyncio
import json
import tracemalloc

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from cnnlive import jobs
from cnnlive.protocol import ACTIONS, PROTOCOL_VERSION, ProtocolError, validate
from cnnlive.surfaces.panel_bridge import PanelBridge

HOSTILE = st.sampled_from(["<img src=x onerror=alert(1)>", "../../etc/passwd", "/abs", "..", ".", "\x00",
                           "\ud800", "é" * 300, "'\"\\", "1e999", "NaN", "-1", "", " ", "x" * 70])
TEXT = st.one_of(HOSTILE, st.text(max_size=40))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), TEXT,
                   st.floats(allow_nan=False, allow_infinity=False))
JSON = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=12)
FIELDS = ("type", "request_id", "action", "job_id", "after", "learning_rate", "epochs", "runs", "index", "protocol")
STEERING = ("stop", "cancel", "pause", "resume", "remove", "adjust")


async def _laps(ctx):
    while not await ctx.checkpoint():
        await asyncio.sleep(0.005)


class Comm:
    comm_id = "fuzz"

    def __init__(self):
        self.sent = []

    def send(self, msg, buffers=None):
        self.sent.append(msg)


class PanelProtocol(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.mgr = jobs.JobManager()
        self.mgr.runs_root = self.tmp.name
        self.bridge = PanelBridge(self.mgr)
        self.comm = Comm()
        self.jobs = [self.start() for _ in range(2)]
        tracemalloc.start()
        self.base = tracemalloc.get_traced_memory()[0]

    def teardown(self):
        tracemalloc.stop()
        if hasattr(self, "mgr"):
            self.mgr.stop_all(timeout=5)
            self.bridge.close()
            self.tmp.cleanup()

    def start(self):
        """A job as the user starts it, once running (states then change only on request)."""
        import time

        job = self.mgr.start(_laps, name="fuzz")
        deadline = time.monotonic() + 30
        while job.state is not jobs.JobState.RUNNING:
            assert time.monotonic() < deadline, job.state
            time.sleep(0.002)
        return job

    # -- sending ---------------------------------------------------------------
    def states(self):
        return {j.id: j.state for j in self.mgr.list()}

    def send(self, data):
        """One message as the kernel hands it over; exactly one short answer."""
        before = len(self.comm.sent)
        self.bridge._on_msg(self.comm, {"content": {"data": data}})
        assert len(self.comm.sent) == before + 1, "every message gets exactly one answer"
        answer = self.comm.sent[-1]
        validate(answer, "KernelMessage")
        if answer["type"] == "reply":
            assert len(json.dumps(answer)) < 10_000
            if isinstance(data, dict) and isinstance(data.get("request_id"), str) and len(data["request_id"]) <= 64:
                assert answer["request_id"] in (data["request_id"], None)
        self.comm.sent.clear()
        return answer

    def settle(self):
        """A pause asked for earlier takes hold at the work's next safe point
        (the state reads "paused" only then): wait for it, so that a later
        message is not blamed for it."""
        for job in self.jobs:
            if not job.done and not job._gate.is_open():
                assert job._gate.holding.wait(30), f"job {job.id}: the pause never took hold"

    def send_and_check(self, data):
        self.settle()
        states = self.states()
        try:
            validate(data)
            valid = True
        except ProtocolError:
            valid = False
        answer = self.send(data)
        acted = valid and data.get("type") == "request" and data.get("action") in STEERING and \
            answer.get("type") == "reply" and answer["ok"]
        if not acted:
            assert self.states() == states, f"a job changed state without a valid action: {data!r:.200}"
            if not valid:
                assert answer["type"] == "reply" and answer["ok"] is False
            return answer
        job_id = int(data["job_id"])
        job = next(j for j in self.jobs if j.id == job_id)
        if data["action"] in ("stop", "cancel"):
            assert job.wait(30).value in ("stopped", "cancelled")
        if data["action"] == "remove":
            assert job_id not in self.states() and job.done
        if data["action"] in ("pause", "resume") and "already" not in answer["message"] and \
                "not paused" not in answer["message"]:
            self.settle()
            assert job.state is (jobs.JobState.PAUSED if data["action"] == "pause" else jobs.JobState.RUNNING)
        others = {i: s for i, s in self.states().items() if i != job_id}
        assert others == {i: s for i, s in states.items() if i != job_id}, "only the named job changes"
        return answer

    # -- rules ----------------------------------------------------------------------
    def job_ids(self):
        return [j.id for j in self.jobs] + [0, 999]

    @rule(action=st.sampled_from(ACTIONS), pick=st.integers(0, 10), lr=st.floats(1e-6, 1.0),
          runs=st.lists(TEXT, min_size=1, max_size=3, unique=True), index=st.integers(0, 5))
    def valid_request(self, action, pick, lr, runs, index):
        msg = {"type": "request", "request_id": f"r{pick}", "action": action}
        if action not in ("snapshot", "runs", "compare"):
            ids = self.job_ids()
            msg["job_id"] = ids[pick % len(ids)]
        if action == "adjust":
            msg["learning_rate"] = lr
        if action == "compare":
            msg["runs"] = runs
        if action == "frame":
            msg["index"] = index
        self.send_and_check(msg)

    @rule(data=JSON)
    def random_json(self, data):
        self.send_and_check(data)

    @rule(action=st.sampled_from(ACTIONS + ("zap", "__class__", "")), field=st.sampled_from(FIELDS),
          value=JSON, pick=st.integers(0, 10))
    def mutated_request(self, action, field, value, pick):
        ids = self.job_ids()
        msg = {"type": "request", "request_id": "m", "action": action, "job_id": ids[pick % len(ids)]}
        msg[field] = value
        self.send_and_check(msg)

    @rule(size=st.sampled_from([70_000, 1_000_000, 9_000_000]), field=st.sampled_from(FIELDS + ("extra",)))
    def huge(self, size, field):
        msg = {"type": "request", "request_id": "h", "action": "stop", "job_id": self.jobs[0].id}
        msg[field] = "<" * size
        answer = self.send_and_check(msg)
        assert answer["ok"] is False and "<<<<" not in answer["message"]

    @rule(protocol=st.one_of(st.just(PROTOCOL_VERSION), SCALAR))
    def hello(self, protocol):
        answer = self.send_and_check({"type": "hello", "protocol": protocol})
        same = protocol == PROTOCOL_VERSION and not isinstance(protocol, bool)  # JSON: 2.0 is the integer 2
        assert answer["type"] == ("hello" if same else "reply")

    @precondition(lambda self: len([j for j in self.mgr.list() if not j.done]) < 3)
    @rule()
    def user_starts_a_job(self):
        self.jobs.append(self.start())

    @invariant()
    def memory_stays_bounded(self):
        if hasattr(self, "base"):
            assert tracemalloc.get_traced_memory()[0] - self.base < 50 * 2**20


TestPanelProtocol = pytest.mark.slow(PanelProtocol.TestCase)
TestPanelProtocol.settings = settings(max_examples=25, stateful_step_count=25, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
