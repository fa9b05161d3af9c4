"""An ipympl dashboard fed by a background training job keeps changing in the
browser while another cell blocks the kernel's main thread (drawn by the
helper process)."""

import time

import pytest

from .conftest import screenshot, write_notebook
from .lab_helpers import cell_output, open_notebook, run_cell

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CELLS = [
    "%matplotlib widget\n%load_ext cnnlive\nimport cnnlive as cl",
    "model = cl.models.simple_cnn()\njob = cl.train(model, 'digits', epochs=100, batch_size=16, plot=True, name='live')",
    # the main thread is blocked (a pure-Python CPU loop would also slow the job
    # threads through the GIL; that is Python's limit, not the renderer's)
    "import time\ntime.sleep(12)\nprint('helper drew:', job.views[-1]._drawn_elsewhere)\njob.stop(); print('done')",
]

CANVAS_HASH = """() => {
  const c = document.querySelector('.jp-OutputArea canvas');
  if (!c) { return null; }
  const d = c.toDataURL();
  let h = 0;
  for (let i = 0; i < d.length; i += 7) { h = (h * 31 + d.charCodeAt(i)) | 0; }
  return h;
}"""


def test_figure_updates_while_a_cell_runs(lab, page):
    name = write_notebook(lab["root"], "live.ipynb", CELLS)
    open_notebook(page, lab, name)
    run_cell(page, 0)
    run_cell(page, 1, timeout=120)
    page.wait_for_function(f"({CANVAS_HASH})() !== null", timeout=60_000)
    time.sleep(1.0)
    run_cell(page, 2, wait=False)
    hashes = []
    t0 = time.time()
    while time.time() - t0 < 9:
        hashes.append(page.evaluate(CANVAS_HASH))
        time.sleep(0.5)
    screenshot(page, "live-dashboard")
    busy = page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(2).locator(".jp-InputArea-prompt")
    assert busy.inner_text().strip() == "[*]:"  # the foreground cell was still running
    changes = sum(1 for a, b in zip(hashes, hashes[1:]) if a != b)
    assert changes >= 2, hashes
    deadline = time.time() + 60
    while "done" not in cell_output(page, 2) and time.time() < deadline:
        time.sleep(0.3)
    assert "helper drew: True" in cell_output(page, 2)  # the frames came from the drawing helper process
