"""End to end: Pause and Resume on a training card, and the card's learning
rate / epochs form, act on the running job in the kernel."""

import re
import time

import pytest

from .conftest import screenshot, write_notebook
from .lab_helpers import cell_output, open_notebook, open_panel, run_cell

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CELLS = [
    "%load_ext cnnlive\nimport cnnlive as cl\nimport keras",
    "inp = keras.Input((28, 28, 1))\n"
    "x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3, activation='relu')(inp))\n"
    "model = keras.Model(inp, keras.layers.Dense(10, activation='softmax')(x))\n"
    "d = cl.data.load('digits')\n"
    "job = cl.train(model, (d.x_train[:160], d.labels_train[:160]), epochs=500, batch_size=16,\n"
    "               validation=False, name='steer-e2e')",
    "print('held', job.state.value, job._gate.holding.wait(60), 'pending', job.steering.pending_learning_rate,"
    " 'epochs', job.steering.epochs)",
    "import time\nt0 = time.time()\n"
    "while abs(job.result.batch_history['lr'][-1] - 0.02) > 1e-3 and time.time() - t0 < 60:\n"
    "    time.sleep(0.1)\n"
    "print('state', job.state.value, 'lr %.4f' % job.result.batch_history['lr'][-1])",
]


def test_pause_resume_and_the_learning_rate_form(lab, page):
    name = write_notebook(lab["root"], "steer.ipynb", CELLS)
    open_notebook(page, lab, name)
    open_panel(page)
    run_cell(page, 0, timeout=120)
    run_cell(page, 1, timeout=120)
    card = page.locator("#cnnlive-panel .jp-cnnlive-card",
                        has=page.locator(".jp-cnnlive-title", has_text="steer-e2e"))
    card.locator(".jp-cnnlive-state", has_text="running").wait_for(timeout=90_000)
    form = card.locator("form.jp-cnnlive-adjust")
    screenshot(page, "panel-steer-running")
    form.wait_for(state="visible", timeout=30_000)
    assert not card.get_by_role("button", name="Resume").is_visible()

    card.get_by_role("button", name="Pause").click()
    card.locator(".jp-cnnlive-state", has_text="paused").wait_for(timeout=60_000)
    card.get_by_role("button", name="Resume").wait_for(state="visible", timeout=30_000)
    assert not card.get_by_role("button", name="Pause").is_visible()

    # a rate of 0 passes the browser's min=0 but not the schema: the card says so, nothing is sent
    form.locator("input.jp-cnnlive-lr").fill("0")
    form.get_by_role("button", name="Apply").click()
    card.locator(".jp-cnnlive-adjust-msg", has_text="learning rate must be a number > 0").wait_for(timeout=10_000)
    form.locator("input.jp-cnnlive-lr").fill("0.02")
    form.locator("input.jp-cnnlive-epochs").fill("5000")  # long enough to be running when read below
    form.get_by_role("button", name="Apply").click()
    deadline = time.time() + 30
    while form.locator("input.jp-cnnlive-lr").input_value() and time.time() < deadline:
        time.sleep(0.1)  # the form clears once the request is sent
    assert card.locator(".jp-cnnlive-adjust-msg").inner_text() == ""
    screenshot(page, "panel-steer-paused")
    run_cell(page, 2)
    deadline = time.time() + 30
    out = cell_output(page, 2)
    while "epochs 5000" not in out and time.time() < deadline:  # the request may still be on its way
        run_cell(page, 2)
        out = cell_output(page, 2)
    assert re.search(r"held paused True pending 0\.02 epochs 5000", out), out

    card.get_by_role("button", name="Resume").click()
    card.locator(".jp-cnnlive-state", has_text="running").wait_for(timeout=60_000)
    run_cell(page, 3, timeout=120)
    found = re.search(r"state running lr (\d+\.\d+)", cell_output(page, 3))
    assert found and abs(float(found.group(1)) - 0.02) <= 1e-3  # the new rate (the schedule decays on from it)

    card.get_by_role("button", name="Stop", exact=True).click()
    card.locator(".jp-cnnlive-state", has_text="stopped").wait_for(timeout=90_000)
    assert not form.is_visible()
