"""A stateful property-based test of the job layer (hypothesis'
RuleBasedStateMachine): random sequences of start (cooperative, deaf,
failing, sync-blocking work), stop, cancel, halt, remove, wait and plot
against a small set of jobs.

Invariants: every job reaches a final state within its bound; state and
ended_by agree; kept results are never lost; threads and event loops return
to the baseline; no exception escapes to the caller."""

import asyncio
import gc
import threading
import time

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from cnnlive.jobs import JobManager, JobRunningError, JobState
from cnnlive.jobs import ending as job_module
from cnnlive.jobs.state import ENDINGS, STATE_OF_ENDING

GRACE = 0.2       # stop_timeout of every job here
SYNC_BLOCK = 0.6  # how long sync-blocking work blocks (it cannot be interrupted)
SLACK = 10.0      # a loaded 2-core CI machine (5 test runs at once)


KEPT = set()  # id(job.channels) of jobs whose work kept a partial result


def keep(ctx, value):
    ctx.keep(value)
    KEPT.add(id(ctx.channels))


def did_keep(job):
    return id(job.channels) in KEPT


async def cooperative(ctx, laps=300):
    for i in range(laps):
        keep(ctx, {"laps": i + 1})
        if await ctx.checkpoint():
            return {"laps": i + 1, "stopped": True}
        await asyncio.sleep(0.005)
    return {"laps": laps, "stopped": False}


async def deaf(ctx, laps=600):
    for i in range(laps):
        keep(ctx, {"laps": i + 1})
        await asyncio.sleep(0.005)
    return {"laps": laps}


async def failing(ctx):
    keep(ctx, {"laps": 1})
    await asyncio.sleep(0.02)
    raise ValueError("failing work")


async def sync_blocking(ctx):
    keep(ctx, {"laps": 1})
    time.sleep(SYNC_BLOCK)  # never yields
    return {"laps": 2}


WORKS = {"cooperative": cooperative, "deaf": deaf, "failing": failing, "sync": sync_blocking}


def open_loops():
    return sum(1 for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and not o.is_closed())


def wait_baseline(count, baseline, timeout=15.0):
    deadline = time.monotonic() + timeout
    while count() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    return count()


class JobMachine(RuleBasedStateMachine):
    jobs = Bundle("jobs")

    @initialize()
    def setup(self):
        self.mgr = JobManager()
        self.records = {}  # job id -> dict(job, kind, started, requests)
        self.threads0 = threading.active_count()
        self.loops0 = open_loops()

    def live(self):
        return [r for r in self.records.values() if not r["job"].done]

    @precondition(lambda self: len(self.records) < 4)
    @rule(target=jobs, kind=st.sampled_from(sorted(WORKS)))
    def start(self, kind):
        job = self.mgr.start(WORKS[kind], name=kind, stop_timeout=GRACE)
        self.records[job.id] = {"job": job, "kind": kind, "started": time.time(), "requests": []}
        return job

    def _request(self, job, how):
        message = getattr(job, how)()
        assert isinstance(message, str) and str(job.id) in message
        self.records[job.id]["requests"].append((how, time.time()))

    @rule(job=jobs)
    def stop(self, job):
        self._request(job, "stop")

    @rule(job=jobs)
    def cancel(self, job):
        self._request(job, "cancel")

    @rule(job=jobs)
    def halt(self, job):
        self._request(job, "halt")

    @rule(job=jobs)
    def remove(self, job):
        if job.done:
            kept_before, removed_before = job.result, job.removed
            self.mgr.remove(job)  # again for a removed job: harmless
            assert job.removed and job not in self.mgr.list()
            assert kept_before is not None or not did_keep(job) or removed_before  # there until removal
        else:
            try:
                self.mgr.remove(job)
            except JobRunningError:
                assert not job.done or job.state in (JobState.STOPPED, JobState.CANCELLED, JobState.FAILED,
                                                     JobState.COMPLETED)
            else:
                assert job.done  # it finished between the check and the call

    @rule(job=jobs, timeout=st.sampled_from([0.0, 0.02, 0.1]))
    def wait(self, job, timeout):
        assert isinstance(job.wait(timeout), JobState)

    @rule(job=jobs)
    def plot(self, job):
        view = job.plot()
        assert view.watch.id == job.id and job.views[-1] is view  # a read-only watch of this job, kept by it

    @invariant()
    def state_and_ended_by_agree(self):
        for r in getattr(self, "records", {}).values():
            job = r["job"]
            ended_by, state = job.ended_by, job.state
            if job.done:
                assert ended_by in ENDINGS and STATE_OF_ENDING[ended_by] is state, (ended_by, state)
            elif ended_by is not None:  # written just before the final state: re-read
                assert job.wait(5) is STATE_OF_ENDING[ended_by]

    @invariant()
    def kept_results_never_lost(self):
        for r in getattr(self, "records", {}).values():
            job = r["job"]
            if job.done and not job.removed and did_keep(job):
                assert job.result is not None and job.result["laps"] >= 1, (job, job.ended_by)

    def teardown(self):
        if not hasattr(self, "mgr"):
            return
        t_stop = time.time()
        for r in self.records.values():
            if not r["job"].done:
                r["requests"].append(("stop", t_stop))
        self.mgr.stop_all(timeout=10)
        for r in self.records.values():
            job = r["job"]
            assert job.wait(30).finished, f"{job} never ended"
            bound = float("inf")  # a natural end depends on the machine; requests bound the end
            for how, t in r["requests"]:
                after = {"stop": GRACE + job_module.ESCALATE_S, "cancel": job_module.ESCALATE_S,
                         "halt": 0.0}[how]
                if r["kind"] == "sync":
                    after = max(after, SYNC_BLOCK)
                bound = min(bound, t - r["started"] + after)
            took = job.finished - r["started"]
            assert took <= bound + SLACK, f"{job} ({r['kind']}, {r['requests']}) took {took:.2f}s > {bound:.2f}s"
        threads = wait_baseline(threading.active_count, self.threads0)
        assert threads <= self.threads0, [t.name for t in threading.enumerate()]
        assert wait_baseline(open_loops, self.loops0) <= self.loops0


JobMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_job_state_machine = pytest.mark.slow(JobMachine.TestCase)
