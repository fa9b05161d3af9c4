"""End to end (issue 17, panel side): the saved-runs list and its Compare
overlay, the step slider of an OIP card, and Stop after epoch (with the
card's epoch total following an adjusted total)."""

from __future__ import annotations

import re
import time

import pytest

from .conftest import ARTIFACTS, write_notebook
from .lab_helpers import cell_output, open_notebook, open_panel, run_cell

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PANEL = "#cnnlive-panel"


def _card(page, name):
    return page.locator(f"{PANEL} .jp-cnnlive-card", has=page.locator(".jp-cnnlive-title", has_text=name))


def _panel_shot(page, name: str) -> None:
    """A screenshot of the panel alone (README pictures are taken from these)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(PANEL).screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _wait(condition, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


RUNS_CELLS = [
    "%load_ext cnnlive\nimport cnnlive as cl",
    "d = cl.data.load('digits').take(256, 128)\n"
    "small = dict(convs=((4, 3, 'relu'),), pools=(2,), dense=())\n"
    "a = cl.train(cl.models.simple_cnn(**small), d, epochs=3, batch_size=32, name='cmp-a')\n"
    "b = cl.train(cl.models.simple_cnn(**small), d, epochs=5, batch_size=32, learning_rate=3e-3, name='cmp-b')\n"
    "print('ended', a.wait(300).value, b.wait(300).value)",
    "import shutil\nshutil.rmtree(a.run_dir)\nprint('removed', a.run_dir)",
]


def _row(page, prefix):
    return page.locator(f"{PANEL} .jp-cnnlive-run[data-folder^='{prefix}-']")


def test_saved_runs_list_and_compare_overlay(lab, page):
    name = write_notebook(lab["root"], "runs.ipynb", RUNS_CELLS)
    open_notebook(page, lab, name)
    open_panel(page)
    run_cell(page, 0)
    page.locator(f"{PANEL} .jp-cnnlive-runs-title", has_text="Saved runs").wait_for(timeout=60_000)
    run_cell(page, 1, timeout=300)
    assert "ended completed completed" in cell_output(page, 1)
    # the list refreshes by itself when the jobs end
    for prefix in ("cmp-a", "cmp-b"):
        _row(page, prefix).wait_for(timeout=60_000)
    b_row = _row(page, "cmp-b")
    assert b_row.locator(".jp-cnnlive-run-kind").inner_text() == "train"
    assert b_row.locator(".jp-cnnlive-run-epochs").inner_text() == "5"
    assert re.match(r"val accuracy \d+(\.\d)? % \(epoch \d\)", b_row.locator(".jp-cnnlive-run-best").inner_text())
    compare = page.locator(f"{PANEL} button.jp-cnnlive-runs-compare")
    assert compare.is_disabled()
    assert re.search(r"\d+ runs? in cnnlive-runs", page.locator(f"{PANEL} .jp-cnnlive-runs-folder").inner_text())
    a_folder = _row(page, "cmp-a").get_attribute("data-folder")
    b_folder = b_row.get_attribute("data-folder")
    _row(page, "cmp-a").locator("input.jp-cnnlive-run-select").check()
    b_row.locator("input.jp-cnnlive-run-select").check()
    compare.click()
    figure = page.locator(f"{PANEL} .jp-cnnlive-compare")
    loss = figure.locator(".jp-cnnlive-chart[data-metric='loss']")
    loss.wait_for(timeout=30_000)
    for folder in (a_folder, b_folder):  # each run: a solid training line and a dashed validation line
        assert loss.locator(f"path[data-run='{folder}'][data-key='loss']").get_attribute("d").startswith("M")
        assert loss.locator(f"path[data-run='{folder}'][data-key='val_loss']").get_attribute("stroke-dasharray")
        assert figure.locator(".jp-cnnlive-legend-item", has_text=folder).count() == 1
    colours = {loss.locator(f"path[data-run='{f}'][data-key='loss']").get_attribute("stroke") for f in (a_folder, b_folder)}
    assert len(colours) == 2
    assert figure.locator(".jp-cnnlive-chart[data-metric='accuracy']").count() == 1
    assert "epochs 1 to 5" in loss.locator(".jp-cnnlive-chart-axis").inner_text()
    page.locator(f"{PANEL} .jp-cnnlive-runs").scroll_into_view_if_needed()
    _panel_shot(page, "panel-runs-compare")

    # a run removed on disk after it was listed: a clear error, the figure and list stay
    run_cell(page, 2)
    assert "removed" in cell_output(page, 2)
    compare.click()
    error = page.locator(f"{PANEL} .jp-cnnlive-runs-error")
    error.filter(has_text=a_folder).wait_for(timeout=30_000)
    assert "cmp-b" in error.inner_text()  # names the runs that are there
    assert loss.locator(f"path[data-run='{a_folder}']").count() == 2  # the shown comparison is unchanged
    page.locator(f"{PANEL} button.jp-cnnlive-runs-refresh").click()
    _wait(lambda: _row(page, "cmp-a").count() == 0, what="the removed run to leave the list")
    assert _row(page, "cmp-b").count() == 1


OIP_CELLS = [
    "%load_ext cnnlive\nimport cnnlive as cl",
    "model = cl.models.simple_cnn()\n"
    "cl.train(model, cl.data.load('digits').take(600, 100), epochs=2, batch_size=32, save=False).wait(300)\n"
    "oip = cl.oip(model, layer='Conv2D_3', maps=[0, 1, 2, 3], steps=120, tolerance=0.0, name='oip-slider')\n"
    "print('oip', oip.wait(300).value, len(oip.result.timeline))",
]


def test_oip_card_step_slider_scrubs_the_kept_snapshots(lab, page):
    name = write_notebook(lab["root"], "slider.ipynb", OIP_CELLS)
    open_notebook(page, lab, name)
    open_panel(page)
    run_cell(page, 0)
    run_cell(page, 1, timeout=300)
    found = re.search(r"oip completed (\d+)", cell_output(page, 1))
    assert found, cell_output(page, 1)
    kept = int(found.group(1))
    card = _card(page, "oip-slider")
    card.locator(".jp-cnnlive-state", has_text="completed").wait_for(timeout=60_000)
    slider = card.locator("input.jp-cnnlive-slider")
    slider.wait_for(state="visible", timeout=30_000)
    label = card.locator(".jp-cnnlive-frame-label")
    _wait(lambda: slider.get_attribute("max") == str(kept - 1), what="the slider's range")
    assert slider.input_value() == str(kept - 1)  # at the newest
    assert "step 120 (newest of" in label.inner_text()
    image = card.locator("img.jp-cnnlive-image")
    newest_src = image.get_attribute("src")

    slider.focus()
    page.keyboard.press("Home")  # back to the first snapshot
    label.filter(has_text=f"step 0 (1 of {kept})").wait_for(timeout=30_000)
    assert "objective" in label.inner_text()
    first_src = image.get_attribute("src")
    assert first_src != newest_src
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    label.filter(has_text=f"step 60 (7 of {kept})").wait_for(timeout=30_000)
    assert image.get_attribute("src") not in (first_src, newest_src)
    assert slider.input_value() == "6"
    slider.blur()
    card.scroll_into_view_if_needed()
    _panel_shot(page, "panel-oip-slider")
    slider.focus()
    page.keyboard.press("End")  # the right end: the newest again
    label.filter(has_text="newest of").wait_for(timeout=30_000)


STOP_CELLS = [
    "%load_ext cnnlive\nimport cnnlive as cl",
    "d = cl.data.load('digits')\n"
    "model = cl.models.simple_cnn(convs=((4, 3, 'relu'),), pools=(2,), dense=())\n"
    "job = cl.train(model, (d.x_train[:160], d.labels_train[:160]), epochs=500, batch_size=16,\n"
    "               validation=False, name='epoch-stop')",
    "job.wait(300)\nr = job.result\n"
    "print('ended', job.ended_by, 'done', r.epochs_done, 'epochs', len(r.history['loss']),"
    " 'batches', len(r.batch_history['loss']), 'saved', bool(r.history_path))",
]


def test_stop_after_epoch_ends_at_an_epoch_boundary(lab, page):
    name = write_notebook(lab["root"], "stop_epoch.ipynb", STOP_CELLS)
    open_notebook(page, lab, name)
    open_panel(page)
    run_cell(page, 0)
    run_cell(page, 1, timeout=120)
    card = _card(page, "epoch-stop")
    meta = card.locator(".jp-cnnlive-meta")
    meta.filter(has_text="of 500").wait_for(timeout=90_000)

    # paused: the adjust form; a new total shows on the card at once
    card.get_by_role("button", name="Pause").click()
    card.locator(".jp-cnnlive-state", has_text="paused").wait_for(timeout=60_000)
    form = card.locator("form.jp-cnnlive-adjust")
    form.locator("input.jp-cnnlive-epochs").fill("600")
    form.get_by_role("button", name="Apply").click()
    meta.filter(has_text="of 600").wait_for(timeout=30_000)
    form.locator("input.jp-cnnlive-lr").fill("0.002")
    card.scroll_into_view_if_needed()
    _panel_shot(page, "panel-steer-paused-form")
    form.locator("input.jp-cnnlive-lr").fill("")

    # the card's context menu offers Stop after epoch next to Stop
    card.locator(".jp-cnnlive-title").click(button="right")
    item = page.locator(".lm-Menu-item", has_text="Stop after epoch")
    item.wait_for(timeout=10_000)
    assert page.locator(".lm-Menu-item", has_text=re.compile(r"^Stop #")).count() == 1
    page.keyboard.press("Escape")

    card.get_by_role("button", name="Resume").click()
    card.locator(".jp-cnnlive-state", has_text="running").wait_for(timeout=60_000)
    stop_epoch = card.get_by_role("button", name="Stop after epoch")
    stop_epoch.click()
    card.locator(".jp-cnnlive-state", has_text="stopped").wait_for(timeout=120_000)
    assert not stop_epoch.is_visible()
    run_cell(page, 2, timeout=120)
    out = cell_output(page, 2)
    found = re.search(r"ended stop done (\d+) epochs (\d+) batches (\d+) saved True", out)
    assert found, out
    done, epochs, batches = map(int, found.groups())
    assert done >= 1 and epochs == done and batches == done * 10  # 160 samples / 16: whole epochs only
