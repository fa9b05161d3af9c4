"""The ipywidgets controls start an ordinary job that the side panel shows,
and its Stop button stops it."""

import pytest

from .conftest import screenshot, write_notebook
from .lab_helpers import open_notebook, open_panel, run_cell

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_widget_buttons_start_and_stop_a_job(lab, page):
    name = write_notebook(lab["root"], "controls.ipynb", ["%load_ext cnnlive\nimport cnnlive as cl\ncl.controls()"])
    open_notebook(page, lab, name)
    open_panel(page)
    run_cell(page, 0, timeout=120)
    out = page.locator(".jp-NotebookPanel:visible .jp-OutputArea")
    out.get_by_role("spinbutton").first.fill("200")  # epochs
    out.get_by_role("button", name="Start training").click()
    card = page.locator("#cnnlive-panel .jp-cnnlive-card")
    card.wait_for(timeout=60_000)
    row_stop = out.get_by_role("button", name="Stop")
    row_stop.wait_for(timeout=30_000)
    page.wait_for_function("() => { const b = [...document.querySelectorAll('.jp-OutputArea button')]"
                           ".find(x => x.textContent.trim() === 'Stop'); return b && !b.disabled; }", timeout=60_000)
    screenshot(page, "controls")
    row_stop.click()
    card.locator(".jp-cnnlive-state", has_text="stopped").wait_for(timeout=60_000)
    out.get_by_text("stopped").first.wait_for(timeout=30_000)
