"""Magics and widgets drive the same jobs as the Python API."""

import time

import pytest
from IPython.testing.globalipapp import get_ipython

import cnnlive as cl
from cnnlive.jobs import JobState

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ip():
    shell = get_ipython()
    shell.run_line_magic("load_ext", "cnnlive")
    return shell


def test_magics_train_jobs_log_stop(ip, capsys, runs_dir):
    job = ip.run_line_magic("cnnlive", "train --model simple --data digits --epochs 30 --batch-size 16 --name mg")
    assert job.kind == "train" and ip.user_ns["model"].name == "simple_cnn"
    ip.run_line_magic("cnnlive", "jobs")
    assert "mg" in capsys.readouterr().out
    deadline = time.time() + 60
    while not job.channels.history("batch").get("loss") and not job.done and time.time() < deadline:  # begun
        time.sleep(0.01)
    ip.run_line_magic("cnnlive", f"stop {job.id}")
    assert job.wait(60) is JobState.STOPPED
    ip.run_line_magic("cnnlive", f"log {job.id} -n 2")
    assert "saved" in capsys.readouterr().out
    oip_job = ip.run_line_magic("cnnlive", "oip --layer Conv2D_3 --maps 1,2 --steps 20")
    assert oip_job.wait(60) is JobState.COMPLETED and oip_job.result.maps == [1, 2]
    ip.run_line_magic("cnnlive", f"remove {oip_job.id}")
    assert oip_job not in cl.jobs.list()


def test_magic_bad_input_prints_usage_not_traceback(ip, capsys):
    assert ip.run_line_magic("cnnlive", "train --epochs many") is None
    out = capsys.readouterr().out
    assert "usage: %cnnlive train" in out and "invalid int value: 'many'" in out
    ip.run_line_magic("cnnlive", "frobnicate")
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().out
    ip.run_line_magic("cnnlive", "stop 987654")
    assert "unknown job id 987654; known ids:" in capsys.readouterr().out
    ip.run_line_magic("cnnlive", "oip --model nomodel --layer Conv2D_3")
    assert "no model named 'nomodel'" in capsys.readouterr().out
    ip.run_line_magic("cnnlive", "help")
    assert "train" in capsys.readouterr().out


def test_unload_and_reload_are_harmless(ip):
    ip.run_line_magic("unload_ext", "cnnlive")
    ip.run_line_magic("load_ext", "cnnlive")
    ip.run_line_magic("reload_ext", "cnnlive")
    assert "cnnlive" in ip.magics_manager.magics["line"]


def test_widget_controls_start_and_stop_jobs(runs_dir):
    from cnnlive.surfaces.widgets import Controls

    c = Controls({}, refresh_s=0.1)
    c.epochs.value = 50
    c.b_train.click()
    assert c.message.value.startswith("started job")
    job = cl.jobs.list()[-1]
    assert job.kind == "train"
    time.sleep(0.5)
    label, _pause, stop, cancel, _form = c._rows[job.id]
    assert not stop.disabled
    stop.click()
    assert job.wait(60) is JobState.STOPPED
    c.refresh()
    assert stop.disabled and cancel.disabled and "stopped" in label.value
    c.map.value = "999"
    c.b_oip.click()
    assert "out of range" in c.message.value  # bad input shown in the panel, nothing started
    c.close()
