"""remove() frees: nothing of cnnlive's or IPython's BackgroundJobManager
keeps a removed job, its result or its model."""

import asyncio
import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from cnnlive.jobs import JobManager, JobState
from cnnlive.jobs import manager as _manager_fn  # noqa: F401 - the package attribute is the function

SCRIPT = Path(__file__).parent / "scripts" / "remove_in_ipython.py"
manager_module = sys.modules["cnnlive.jobs.manager"]


class Big:
    """Stands for a trained model."""


async def makes_big(ctx):
    await asyncio.sleep(0)
    big = Big()
    ctx.keep(big)
    return big


def test_remove_drops_background_job_manager_entries_and_result(monkeypatch):
    import types

    import IPython.lib.backgroundjobs as bgjobs

    shell = types.SimpleNamespace(InteractiveTB=types.SimpleNamespace(text=lambda *a: "tb"))
    monkeypatch.setattr(bgjobs, "get_ipython", lambda: shell, raising=False)  # as inside a shell
    monkeypatch.setattr(manager_module, "_in_ipython", lambda: True)
    mgr = JobManager()
    assert mgr._bg is not None
    job = mgr.start(makes_big)
    assert job.wait(10) is JobState.COMPLETED
    mgr._bg.status()  # fills IPython's completed list and report lists
    big_ref, job_ref = weakref.ref(job.result), weakref.ref(job)
    assert any(t is job.thread for t in mgr._bg.all.values())
    job.views.append(object())
    removed = mgr.remove(job.id)
    assert removed is job and job.removed and job.result is None and job.views == []
    assert not mgr._bg.all and not mgr._bg._completed and not mgr._bg._running
    gc.collect()
    assert big_ref() is None  # the job still exists (we hold it), its result does not
    del job, removed
    gc.collect()
    assert job_ref() is None


def test_removed_failed_job_keeps_error_text_but_no_frames():
    async def fails(ctx):
        local_big = Big()  # noqa: F841 - held by the traceback's frame until removal
        raise ValueError("boom")

    mgr = JobManager()
    job = mgr.start(fails)
    assert job.wait(10) is JobState.FAILED
    mgr.remove(job)
    gc.collect()
    assert "ValueError: boom" in job.error
    assert job.exception.__traceback__ is None
    assert not [o for o in gc.get_objects() if type(o) is Big]


@pytest.mark.slow
def test_removed_training_job_model_is_collected_in_a_real_ipython_shell():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "JOB_FREED" in out.stdout, out.stdout
    assert "MODEL_FREED" in out.stdout, out.stdout
    assert "FIT_MODEL_FREED" in out.stdout, out.stdout
