"""End to end at a 1280 px window with both sidebars open (issue 27): the
live dashboard fits its output area without empty slots, the panel's header
note tells the present (after Stop, after a restart), an adjust error shows
on its card, the saved runs filter by kind, and cl.controls() fits."""

from __future__ import annotations

import json
import re
import time

import pytest

from .conftest import screenshot, write_notebook
from .lab_helpers import cell_output, open_notebook, open_panel, run_cell, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PANEL = "#cnnlive-panel"

CELLS = [
    "%matplotlib widget\n%load_ext cnnlive\nimport cnnlive as cl",
    "d = cl.data.load('digits').take(600, 100)\n"
    "job = cl.train(cl.models.simple_cnn(), d, epochs=200, batch_size=16, plot=True, name='fits-e2e')",
    # the figure's axes, from the kernel: no empty slot, nothing past the figure's edge
    "import json, time\nt0 = time.time()\n"
    "while job.steering.epochs_done < 2 and time.time() - t0 < 120:\n    time.sleep(0.2)\n"
    "v = job.views[-1]\nwith v.lock:  # the helper process draws the frames; the kernel's figure lays out the same\n"
    "    cb, v.fig.stale_callback = v.fig.stale_callback, None  # as View.render: no extra ipympl draw\n"
    "    v.update()\n    v.fig.stale_callback, v.fig.stale = cb, False\n"
    "print('AXES', json.dumps({'size': list(v.fig.get_size_inches() * v.fig.dpi), 'xlim': list(v.slots[0].get_xlim()),"
    " 'epochs': job.steering.epochs_done, 'axes': [list(ax.get_position().bounds) for ax in v.slots if ax.get_visible()]}))",
    "o = cl.oip(cl.models.simple_cnn(), layer='Conv2D_3', maps=[0], steps=20, name='quick-oip')\n"
    "print('oip', o.wait(300).value)",
    "cl.controls()",
]


def _both_sidebars(page) -> None:
    tab = page.locator(".jp-SideBar li[data-id='filebrowser']")
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    open_panel(page)
    page.locator(".jp-FileBrowser").first.wait_for(state="visible", timeout=30_000)


def _card(page, name):
    return page.locator(f"{PANEL} .jp-cnnlive-card", has=page.locator(".jp-cnnlive-title", has_text=name))


def test_dashboard_panel_and_controls_fit_a_1280px_window(lab, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        _run(lab, page)
    finally:
        ctx.close()


def _run(lab, page):
    name = write_notebook(lab["root"], "fits.ipynb", CELLS)
    open_notebook(page, lab, name)
    _both_sidebars(page)
    run_cell(page, 0, timeout=120)
    run_cell(page, 1, timeout=180)
    cell = page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(1)
    canvas = cell.locator(".jp-OutputArea canvas").first
    canvas.wait_for(timeout=90_000)
    _card(page, "fits-e2e").locator(".jp-cnnlive-state", has_text="running").wait_for(timeout=90_000)
    _card(page, "fits-e2e").locator(".jp-cnnlive-meta", has_text=re.compile(r"epoch [3-9] of 200")).wait_for(
        timeout=120_000)
    time.sleep(1.5)  # a frame or two more
    canvas.scroll_into_view_if_needed()
    page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(0).scroll_into_view_if_needed()
    screenshot(page, "dashboard-1280")
    run_cell(page, 2, timeout=180)
    axes = json.loads(re.search(r"AXES (\{.*\})", cell_output(page, 2)).group(1))
    area = cell.locator(".jp-OutputArea-output").first.bounding_box()
    box = canvas.bounding_box()
    assert box["width"] <= area["width"] and box["x"] + box["width"] <= area["x"] + area["width"] + 1, (box, area)
    assert axes["size"][0] <= area["width"]
    rows: dict[float, list] = {}
    for x0, y0, w, h in axes["axes"]:  # loss, accuracy, learning rate, samples/s: every row fills the width
        rows.setdefault(round(y0, 4), []).append((x0, x0 + w))
    assert sum(len(r) for r in rows.values()) == len(axes["axes"]) >= 2
    for spans in rows.values():
        assert min(a for a, _ in spans) < 0.12 and max(b for _, b in spans) > 0.95, axes
    assert axes["xlim"][1] <= max(4.0, 2 * axes["epochs"] + 1), axes  # follows the data, not the 200 planned

    # the card's adjust form: its own words for a bad rate, the kernel's error on the card
    card = _card(page, "fits-e2e")
    form = card.locator("form.jp-cnnlive-adjust")
    form.locator("input.jp-cnnlive-lr").fill("-1")
    form.get_by_role("button", name="Apply").click()
    card.locator(".jp-cnnlive-adjust-msg", has_text="learning rate must be a number > 0").wait_for(timeout=10_000)
    form.locator("input.jp-cnnlive-lr").fill("")
    form.locator("input.jp-cnnlive-epochs").fill("1")  # below the epochs done: the kernel refuses
    form.get_by_role("button", name="Apply").click()
    card.locator(".jp-cnnlive-card-error", has_text="epochs").wait_for(timeout=30_000)
    assert "epochs" not in page.locator(f"{PANEL} .jp-cnnlive-notice").inner_text()

    # Stop: the header's "stop requested" gives way to the job's ending
    card.get_by_role("button", name="Stop", exact=True).click()
    card.locator(".jp-cnnlive-state", has_text="stopped").wait_for(timeout=120_000)
    notice = page.locator(f"{PANEL} .jp-cnnlive-notice")
    deadline = time.time() + 10
    while "stop requested" in notice.inner_text() and time.time() < deadline:
        time.sleep(0.1)
    assert re.search(r"job \d+: stopped", notice.inner_text()), notice.inner_text()
    assert card.locator(".jp-cnnlive-card-error").is_hidden()

    # saved runs: training by default, an OIP run with "all", training first
    run_cell(page, 3, timeout=300)
    assert "oip completed" in cell_output(page, 3)
    page.locator(f"{PANEL} button.jp-cnnlive-runs-refresh").click()
    rows_sel = f"{PANEL} .jp-cnnlive-run"
    page.locator(rows_sel, has_text="fits-e2e").wait_for(timeout=30_000)
    assert page.locator(rows_sel, has_text="quick-oip").count() == 0
    assert "of other kinds" in page.locator(f"{PANEL} .jp-cnnlive-runs-folder").inner_text()
    page.locator(f"{PANEL} select.jp-cnnlive-runs-kind").select_option("all")
    page.locator(rows_sel, has_text="quick-oip").wait_for(timeout=10_000)
    kinds = page.locator(f"{rows_sel} .jp-cnnlive-run-kind").all_inner_texts()
    assert kinds[0] == "train" and "oip" in kinds
    name_el = page.locator(rows_sel, has_text="fits-e2e").locator(".jp-cnnlive-run-name")
    whole = name_el.text_content()
    assert whole.startswith("fits-e2e-") and name_el.get_attribute("title").endswith("/" + whole)
    page.locator(f"{PANEL} select.jp-cnnlive-runs-kind").select_option("train")

    # cl.controls(): empty fields with the current values as placeholders, all inside the output area
    run_cell(page, 1, timeout=180)  # a new running training job
    _card(page, "fits-e2e").locator(".jp-cnnlive-state", has_text="running").first.wait_for(timeout=90_000)
    run_cell(page, 4, timeout=60)
    out = page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(4).locator(".jp-OutputArea-output").first
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-OutputArea input')].some(i => /^\\d/.test(i.placeholder || ''))",
        timeout=60_000)
    obox = out.bounding_box()
    for b in out.locator("button, input").all():
        if b.is_visible():
            bb = b.bounding_box()
            assert bb["x"] + bb["width"] <= obox["x"] + obox["width"] + 1, (b.inner_text(), bb, obox)
    fields = [i for i in out.locator("input[type='text']").all() if re.match(r"^\d", i.get_attribute("placeholder") or "")]
    assert len(fields) >= 2 and all(f.input_value() == "" for f in fields)
    out.scroll_into_view_if_needed()
    screenshot(page, "controls-1280")
    out.get_by_role("button", name="Stop").last.click()

    # a restart clears every note of the old kernel
    page.locator(f"{PANEL} .jp-cnnlive-notice").wait_for(state="attached")
    page.locator(".jp-NotebookPanel:visible [data-command='notebook:restart-kernel']").first.click()
    page.locator(".jp-Dialog button.jp-mod-accept").click()
    page.locator(f"{PANEL} .jp-cnnlive-restart").wait_for(state="visible", timeout=60_000)
    wait_idle(page)
    run_cell(page, 0, timeout=120)
    page.locator(f"{PANEL} .jp-cnnlive-status", has_text="connected").wait_for(timeout=60_000)
    assert page.locator(f"{PANEL} .jp-cnnlive-notice").inner_text().strip() == ""
    assert page.locator(f"{PANEL} .jp-cnnlive-card").count() == 0
