"""Hostile names and texts: every HTML value cnnlive produces is escaped,
and a job's run folder name is made (safe, capped, unique, inside the runs
root) when the job starts, whatever the job's name."""

import asyncio
import json
import os
import re

import ipywidgets as w
import pytest

import cnnlive as cl
from cnnlive.engines import runs
from cnnlive.jobs import manager
from cnnlive.jobs.runfolder import MAX_FOLDER_NAME, folder_base, inside, run_folder
from cnnlive.surfaces.widgets import Controls

EVIL = "<img src=x onerror=alert(1)>\"'&<script>alert(2)</script>"
RAW = re.compile(r"<(img|script)|onerror=alert\(1\)>", re.I)  # what an escaped text never holds


def html_values(widget):
    """Every HTML value in a widget tree (what JupyterLab sets as innerHTML)."""
    out = []
    if isinstance(widget, (w.HTML, w.HTMLMath)):
        out.append(widget.value)
    for child in getattr(widget, "children", ()):
        out += html_values(child)
    return out


async def _hostile(ctx):
    print(EVIL)  # a log line
    ctx.publish("metrics", {EVIL: 1.0, "scope": "epoch", "step": 1})  # a metric name
    await ctx.stopping.wait()
    raise RuntimeError(EVIL)  # an exception text


def test_every_html_value_of_the_controls_and_runs_table_is_escaped(tmp_path):
    c = Controls({}, refresh_s=0.01)
    job = cl.jobs.start(_hostile, name=EVIL)
    try:
        c.refresh()
        label = c._rows[job.id][0].value
        assert "&lt;img src=x onerror=alert(1)&gt;" in label  # the name is shown, as text
        job.stop(), job.wait(30)
        assert job.state.value == "failed" and EVIL in job.error
        c._guard(lambda: (_ for _ in ()).throw(ValueError(EVIL)))  # a start that fails
        assert "ValueError: &lt;img" in c.message.value
        c._act(lambda: (_ for _ in ()).throw(RuntimeError(EVIL)))  # a row button that fails
        c.refresh()
        values = html_values(c)
        assert any("&lt;script&gt;" in v for v in values) and len(values) >= 3
        assert [v for v in values if RAW.search(v)] == []
    finally:
        c.close()
    root = tmp_path / "saved"
    (root / f"{EVIL.replace('/', '_')}-3").mkdir(parents=True)
    (root / f"{EVIL.replace('/', '_')}-3" / "history.json").write_text(
        json.dumps({"epoch": {f"val_{EVIL}": [0.5, 0.7]}}))
    os.symlink(tmp_path, root / f"{EVIL.replace('/', '_')}-4")  # left out: its name is in the note
    page = runs.list_runs(str(root))._repr_html_()
    assert "val_&lt;img" in page and not RAW.search(page)


def test_the_escaping_helper_escapes_quotes_and_caps_length():
    from cnnlive.markup import error_html, escape

    assert escape("<a href='x'>&\"") == "&lt;a href=&#x27;x&#x27;&gt;&amp;&quot;"
    assert escape("x" * 5000) == "x" * 1999 + "…" and escape(7) == "7"
    assert "&lt;b&gt;" in error_html(ValueError("<b>")) and "ValueError" in error_html(ValueError("<b>"))


@pytest.mark.parametrize("name, base", [
    ("../../escaped", "escaped"), ("/etc/passwd", "etc_passwd"), ("a" * 300, "a" * MAX_FOLDER_NAME),
    (EVIL, "img_src_x_onerror_alert_1_script_alert_2_script"), ("..", "job"), ("", "job"),
    ("train-model", "train-model"), ("Ünïcode name", "n_code_name"), ("x\0y", "x_y")])
def test_folder_names_are_made_from_any_name(name, base):
    assert folder_base(name) == base


def test_a_job_gets_a_safe_unique_folder_inside_the_runs_root_and_keeps_its_name(tmp_path, runs_dir):
    root = runs_dir
    (root / "clash-5").mkdir(parents=True)  # another kernel's run with the same name and id
    assert os.path.basename(run_folder(str(root), "clash", 5)) == "clash.2-5"
    os.symlink(tmp_path, root / "linked-6")  # a link in the way is never written through
    assert os.path.basename(run_folder(str(root), "linked", 6)) == "linked.2-6"
    assert not inside(str(root), str(root / ".." / "x")) and inside(str(root), str(root / "x"))
    mgr = manager()
    for name in ("../../escaped", "/tmp/absolute", "n" * 300, EVIL):
        job = cl.jobs.start(_quick, name=name)
        job.wait(30)
        assert job.name == name  # shown as given
        folder = os.path.basename(job.run_dir)
        assert inside(mgr.runs_root, job.run_dir) and os.path.dirname(job.run_dir) == os.path.abspath(mgr.runs_root)
        assert re.fullmatch(r"[A-Za-z0-9._-]+-\d+", folder) and len(folder) <= MAX_FOLDER_NAME + 12


async def _quick(ctx):
    await asyncio.sleep(0)


@pytest.mark.slow
def test_training_a_model_with_a_hostile_300_character_name_saves_inside_the_runs_folder(runs_dir):
    import keras

    data = cl.data.load("digits").take(64, 16)
    name = "../../" + EVIL + "m" * 300  # a path, markup and far too long for a file name
    model = keras.Sequential([keras.Input(data.input_shape), keras.layers.Flatten(),
                              keras.layers.Dense(data.num_classes, activation="softmax")])
    job = cl.train(model, data, epochs=1, batch_size=32, name=name)
    assert job.run_dir is not None and inside(manager().runs_root, job.run_dir)  # decided at the start
    assert job.wait(300).value == "completed", job.error
    assert job.name == name
    assert os.path.isfile(os.path.join(job.run_dir, "model.keras"))
    assert os.path.isfile(os.path.join(job.run_dir, "history.json"))
    (row,) = [r for r in cl.runs() if r.path == job.run_dir]
    assert row.epochs == 1


@pytest.mark.slow
def test_a_saved_model_with_lambda_code_is_refused_on_loading(tmp_path):
    import keras

    from cnnlive.surfaces.api import _resolve_model

    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(2)])
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        _resolve_model(path, snapshot=False)  # cl.train/oip/dream(path) load through it
