"""End to end: a notebook starts a training job and an OIP job; the panel's
cards update (progress, image); Stop on one and Cancel on the other end them
as 'stopped' and 'cancelled' in the panel and in cl.jobs.status(); the
stopped training job's model was saved."""

import re
import time

import pytest

from .conftest import ARTIFACTS, screenshot, write_notebook
from .lab_helpers import cell_output, open_notebook, open_panel, run_cell

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CELLS = [
    "%load_ext cnnlive\nimport cnnlive as cl",
    "model = cl.models.simple_cnn()\ntrain = cl.train(model, 'digits', epochs=200, batch_size=16, name='train-e2e')\n"
    "oip = cl.oip(model, layer='Conv2D_3', maps='all', steps=10**6, name='oip-e2e')",
    "import os\nprint(cl.jobs.status())\nprint('saved:', train.result.path, os.path.isfile(train.result.path or ''))",
    "import time\nt0 = time.time()\nwhile time.time() - t0 < 20:\n    sum(i for i in range(10000))\nprint('busy cell done')",
]


def _card(page, name):
    return page.locator("#cnnlive-panel .jp-cnnlive-card", has=page.locator(".jp-cnnlive-title", has_text=name))


def _progress(card) -> float:
    value = card.locator(".jp-cnnlive-progress").get_attribute("aria-valuenow") or "0"
    return float(value or 0)


def test_cards_update_and_stop_cancel_from_the_panel(lab, page):
    name = write_notebook(lab["root"], "jobs.ipynb", CELLS)
    open_notebook(page, lab, name)
    open_panel(page)
    run_cell(page, 0)
    run_cell(page, 1, timeout=120)
    train, oip = _card(page, "train-e2e"), _card(page, "oip-e2e")
    train.wait_for(timeout=60_000)
    oip.wait_for(timeout=60_000)
    # progress moves and an image appears
    first = _progress(train)
    deadline = time.time() + 60
    while _progress(train) <= first and time.time() < deadline:
        time.sleep(0.3)
    assert _progress(train) > first
    oip.locator("img.jp-cnnlive-image").wait_for(state="visible", timeout=60_000)
    assert oip.locator("img.jp-cnnlive-image").get_attribute("src").startswith("blob:")
    assert train.locator(".jp-cnnlive-spark-line").get_attribute("d").startswith("M")
    screenshot(page, "panel-jobs-running")

    # a reloaded page asks the kernel for a snapshot and shows the running jobs
    page.reload()
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
    open_panel(page)
    train.locator(".jp-cnnlive-state", has_text="running").wait_for(timeout=60_000)
    oip.locator(".jp-cnnlive-state", has_text="running").wait_for(timeout=60_000)

    # Stop and Cancel clicked while a foreground cell is busy
    run_cell(page, 3, wait=False)
    time.sleep(1.0)
    t_click = time.time()
    train.get_by_role("button", name="Stop", exact=True).click()
    oip.get_by_role("button", name="Cancel").click()
    train.locator(".jp-cnnlive-state", has_text="stopped").wait_for(timeout=60_000)
    oip.locator(".jp-cnnlive-state", has_text="cancelled").wait_for(timeout=60_000)
    # handled on the panel's comm subshell (ipykernel 7) while the busy cell still runs
    busy_prompt = page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(3).locator(".jp-InputArea-prompt")
    assert busy_prompt.inner_text().strip() == "[*]:", time.time() - t_click
    assert train.get_by_role("button", name="Stop", exact=True).is_disabled()
    screenshot(page, "panel-jobs-ended")
    time.sleep(4.0)  # a few more resource samples for the header graphs
    page.locator("#cnnlive-panel").screenshot(path=str(ARTIFACTS / "panel-only-jobs-ended.png"))
    # wait for the busy cell, then ask the kernel
    deadline = time.time() + 60
    while "busy cell done" not in cell_output(page, 3) and time.time() < deadline:
        time.sleep(0.3)
    run_cell(page, 2)
    out = cell_output(page, 2)
    assert re.search(r"train-e2e\s+train\s+stopped", out), out
    assert re.search(r"oip-e2e\s+oip\s+cancelled", out), out
    assert "model.keras True" in out

    # remove a finished job from the panel
    oip.get_by_role("button", name="Remove").click()
    oip.wait_for(state="detached", timeout=30_000)
