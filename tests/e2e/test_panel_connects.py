"""The extension is built, loaded by JupyterLab, and its panel reports the
kernel's cnnlive connection (follows %load_ext and kernel restarts)."""

import subprocess
import sys

import pytest

from .conftest import screenshot, write_notebook
from .lab_helpers import open_notebook, open_panel, run_cell

pytestmark = pytest.mark.e2e


def test_labextension_is_installed_and_enabled():
    out = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                         capture_output=True, text=True).stdout + subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"], capture_output=True, text=True).stderr
    line = next((l for l in out.splitlines() if l.strip().startswith("cnnlive ")), "")
    assert "enabled" in line and "OK" in line, out


def test_panel_reports_kernel_connected(lab, page):
    name = write_notebook(lab["root"], "connect.ipynb", ["%load_ext cnnlive", "1 + 1"])
    open_notebook(page, lab, name)
    open_panel(page)
    status = page.locator("#cnnlive-panel .jp-cnnlive-status")
    # the kernel has not loaded cnnlive yet
    status.filter(has_text="not loaded").wait_for(timeout=30_000)
    run_cell(page, 0)
    status.filter(has_text="connected").wait_for(timeout=30_000)
    text = status.inner_text()
    from cnnlive import __version__
    from cnnlive.protocol import PROTOCOL_VERSION

    assert f"cnnlive {__version__}" in text and f"protocol {PROTOCOL_VERSION}" in text
    page.locator("#cnnlive-panel .jp-cnnlive-empty").wait_for(state="visible", timeout=10_000)
    screenshot(page, "panel-connected")

    # a kernel restart: the panel shows the truth (cnnlive no longer loaded)
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel…").first.click()
    page.locator(".jp-Dialog-button.jp-mod-accept").click()
    status.filter(has_text="not loaded").wait_for(timeout=60_000)
    run_cell(page, 0)
    status.filter(has_text="connected").wait_for(timeout=30_000)
