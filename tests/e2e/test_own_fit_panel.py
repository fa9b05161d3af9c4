"""End to end: an own model.fit with cl.LiveCallback() runs in a cell, its
card appears in the panel, and clicking Stop ends that cell's fit."""

import time

import pytest

from .conftest import screenshot, write_notebook
from .lab_helpers import cell_output, open_notebook, open_panel, run_cell

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CELLS = [
    "%load_ext cnnlive\nimport cnnlive as cl\nimport keras",
    "data = cl.data.load('digits')\nx, y = data.x_train, data.labels_train\n"
    "inp = keras.Input((28, 28, 1))\nh = keras.layers.Conv2D(8, 3, activation='relu')(inp)\n"
    "h = keras.layers.GlobalAveragePooling2D()(h)\n"
    "model = keras.Model(inp, keras.layers.Dense(10, activation='softmax')(h))\n"
    "model.compile('adam', 'sparse_categorical_crossentropy',\n"
    "              metrics=[keras.metrics.SparseTopKCategoricalAccuracy(k=3, name='top3')])",
    "cb = cl.LiveCallback(name='own-fit-e2e')\n"
    "history = model.fit(x, y, epochs=1000, batch_size=16, verbose=0, callbacks=[cb])\n"
    "print('fit returned:', cb.job.state.value, cb.job.kind, len(history.epoch) < 1000)",
]


def _card(page, name):
    return page.locator("#cnnlive-panel .jp-cnnlive-card", has=page.locator(".jp-cnnlive-title", has_text=name))


def test_own_fit_card_and_stop_end_the_cells_fit(lab, page):
    name = write_notebook(lab["root"], "own_fit.ipynb", CELLS)
    open_notebook(page, lab, name)
    open_panel(page)
    run_cell(page, 0)
    run_cell(page, 1, timeout=120)
    run_cell(page, 2, wait=False)
    card = _card(page, "own-fit-e2e")
    card.wait_for(timeout=120_000)
    card.locator(".jp-cnnlive-state", has_text="running").wait_for(timeout=120_000)
    card.get_by_text("top3").first.wait_for(timeout=60_000)  # the fit's own metric on the card
    prompt = page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(2).locator(".jp-InputArea-prompt")
    assert prompt.inner_text().strip() == "[*]:"  # the fit runs in the foreground cell
    screenshot(page, "own-fit-running")
    card.get_by_role("button", name="Stop", exact=True).click()
    card.locator(".jp-cnnlive-state", has_text="stopped").wait_for(timeout=60_000)
    expected = "fit returned: stopped fit True"  # the cell's fit returned normally
    deadline = time.time() + 60
    while expected not in cell_output(page, 2) and time.time() < deadline:
        time.sleep(0.3)
    assert expected in cell_output(page, 2), cell_output(page, 2)
    screenshot(page, "own-fit-stopped")
