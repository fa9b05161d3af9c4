"""cl.runs() and cl.compare() (issue 17, part 2)."""

import asyncio
import json
import threading
import time

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.engines.runs import best_validation, read_history

from .engines_helpers import digits, wait_until


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory):
    """Two real short training runs saved in one runs folder."""
    from cnnlive.jobs import manager

    root = tmp_path_factory.mktemp("runs")
    old, manager().runs_root = manager().runs_root, str(root)
    try:
        data = digits().take(300, 100)
        jobs = [cl.train(cl.models.simple_cnn(convs=((8, 3, "relu"), (16, 3, "relu")), pools=(2,), dense=()),
                         data, epochs=e, batch_size=64, name=f"small{e}") for e in (2, 3)]
        for job in jobs:
            assert job.wait(300).value == "completed", job.error
        yield root, jobs
    finally:
        manager().runs_root = old


@pytest.mark.slow
def test_runs_lists_the_runs_a_real_train_wrote(trained_runs):
    root, jobs = trained_runs
    table = cl.runs(str(root))
    assert len(table) == 2
    by_name = {r.name: r for r in table}
    assert set(by_name) == {"small2", "small3"}
    for job in jobs:
        run = by_name[job.name]
        assert run.id == job.id and run.kind == "train" and run.path == job.run_dir
        assert run.epochs == len(job.result.history["loss"])
        val = job.result.history["val_accuracy"]
        assert run.best == ("val_accuracy", pytest.approx(max(val)), int(np.argmax(val)) + 1)
    text, page = repr(table), table._repr_html_()
    for col in ("name", "id", "kind", "date", "epochs", "best validation", "path"):
        assert col in text and f"<th>{col}</th>" in page
    assert jobs[0].run_dir in text and "val_accuracy" in page and page.count("<tr>") == 3
    assert table[f"small3-{jobs[1].id}"].epochs == 3


def test_runs_table_of_an_empty_or_missing_folder(tmp_path):
    assert len(cl.runs(str(tmp_path / "none"))) == 0
    assert "no saved runs" in repr(cl.runs(str(tmp_path))) and "no saved runs" in cl.runs(str(tmp_path))._repr_html_()


def test_history_is_read_tolerantly(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"epoch": {"loss": [1.0, 0.5], "val_loss": [1.2, None]},
                                                 "batch": {}, "ended": "stop", "epochs_done": 2, "new": 1}))
    (tmp_path / "b.json").write_text(json.dumps({"loss": [3.0], "val_accuracy": [0.5]}))  # flat, older style
    (tmp_path / "c.json").write_text("{not json")
    a, b, c = (read_history(str(tmp_path / f"{n}.json")) for n in "abc")
    assert a["epochs_done"] == 2 and a["ended"] == "stop" and np.isnan(a["epoch"]["val_loss"][1])
    assert best_validation(a["epoch"]) == ("val_loss", 1.2, 1)
    assert b["epoch"] == {"loss": [3.0], "val_accuracy": [0.5]}
    assert c["epoch"] == {} and c["epochs_done"] is None


async def _stepped(ctx, go: threading.Event, epochs: int):
    """Publishes one epoch of metrics each time ``go`` is set."""
    for e in range(1, epochs + 1):
        while not go.is_set():
            if await ctx.checkpoint():
                return e - 1
            await asyncio.sleep(0.01)
        go.clear()
        ctx.publish("metrics", {"loss": 2.0 / e, "accuracy": 0.2 * e, "val_loss": 2.5 / e,
                                "val_accuracy": 0.15 * e, "step": e, "scope": "epoch"})
    return epochs


@pytest.mark.slow
def test_compare_overlays_a_saved_run_and_a_live_job_and_follows_it(trained_runs):
    root, jobs = trained_runs
    go = threading.Event()
    live = cl.jobs.start(_stepped, go, 4, name="live")
    view = cl.compare(live, jobs[1].run_dir, metrics=["loss", "accuracy"])
    try:
        saved = jobs[1].result.history
        x, y = view.lines[(1, "loss", "val_loss")].get_data()
        assert list(x) == [1, 2, 3] and np.allclose(y, saved["val_loss"])
        assert len(view.lines[(0, "accuracy", "accuracy")].get_data()[0]) == 0
        for e in (1, 2, 3):
            go.set()
            wait_until(lambda: len(view.lines[(0, "accuracy", "accuracy")].get_xdata()) == e, live, timeout=60)
            assert np.allclose(view.lines[(0, "accuracy", "val_accuracy")].get_ydata(), [0.15 * i for i in range(1, e + 1)])
        assert view.frames >= 3  # the renderer drew each published epoch
        woken = []
        unsubscribe = view.job.channels.subscribe(woken.append)
        live.channels.publish("log", "x\n")
        unsubscribe()
        live.channels.publish("log", "y\n")
        assert woken == ["log"]  # the group wakes on a member's publish
        live.stop()
        assert live.wait(30).value == "stopped"
        deadline = time.time() + 30
        while view.animated and time.time() < deadline:  # the renderer's last frame makes every line static
            time.sleep(0.05)
        assert not view.animated and not any(l.get_animated() for l in view.lines.values())
        assert view.axes["loss"].get_xlim()[1] >= 3
    finally:
        live.stop()
        live.wait(30)


def test_compare_rejects_unknown_runs_and_metrics(tmp_path):
    from cnnlive.jobs import manager

    root = tmp_path / "runs"
    (root / "a-1").mkdir(parents=True)
    (root / "a-1" / "history.json").write_text(json.dumps({"epoch": {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9],
                                                                     "lr": [0.1, 0.1]}}))
    (root / "b-2").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no run folder 'zz-9'.*runs found there: .*a-1"):
        cl.compare("zz-9", folder=str(root))
    with pytest.raises(ValueError, match=r"unknown metric 'accuracy'; available: loss, lr"):
        cl.compare("a-1", metrics=["accuracy"], folder=str(root))
    with pytest.raises(ValueError, match="has no epoch history"):
        cl.compare("b-2", folder=str(root))
    (root / "c-3").mkdir()  # a training run saved its model but no history.json
    (root / "c-3" / "model.keras").write_bytes(b"")
    with pytest.raises(ValueError, match="has no epoch history"):
        cl.compare("c-3", folder=str(root))
    from cnnlive.surfaces.panel_queries import compare_message

    with pytest.raises(ValueError, match="has no epoch history"):
        compare_message(str(root), ["c-3"], None)
    view = cl.compare(str(root / "a-1"), metrics="lr")
    assert view.metrics == ["lr"] and list(view.lines[(0, "lr", "lr")].get_ydata()) == [0.1, 0.1]


def test_runs_compare_and_judge_figures_never_import_tensorflow(tmp_path):
    import subprocess
    import sys

    code = ("import sys, matplotlib; matplotlib.use('Agg'); import cnnlive as cl, cnnlive.views.judge, "
            "cnnlive.views.compare, cnnlive.engines.runs, cnnlive.engines.oip.timeline; "
            f"print(cl.runs({str(tmp_path)!r})); assert 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_magics_list_compare_and_judge(trained_runs, capsys):
    from cnnlive.surfaces.magics import CnnliveMagics

    root, jobs = trained_runs
    magic = CnnliveMagics(shell=None).cnnlive  # no global test shell: test_surfaces starts that one
    table = magic(f"runs --folder {root}")
    assert sorted(r.name for r in table) == ["small2", "small3"]
    view = magic(f"compare job:{jobs[0].id} {jobs[1].run_dir} --metrics loss")
    assert view.metrics == ["loss"] and len(view.lines[(1, "loss", "loss")].get_xdata()) == 3
    assert magic("compare nowhere-7") is None
    assert "no run folder 'nowhere-7'" in capsys.readouterr().out
    ex = magic(f"exemplars --model {jobs[0].result.path} --layer Conv2D_2 --maps 0,3 -k 2")
    assert ex.images.shape == (2, 2, 28, 28, 1) and ex.figure is not None
    assert magic(f"exemplars --model {jobs[0].result.path} --layer Conv2D_2 --maps 99") is None
    assert "out of range" in capsys.readouterr().out
