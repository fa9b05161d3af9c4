"""Small helpers to drive a JupyterLab notebook page."""

from __future__ import annotations

import time


def _session_kernel_idle(lab: dict, name: str) -> bool:
    import json
    import urllib.request

    sessions = json.loads(urllib.request.urlopen(f"{lab['url']}/api/sessions", timeout=5).read())
    return any(s.get("path", "").endswith(name) and s.get("kernel", {}).get("execution_state") == "idle"
               for s in sessions)


def open_notebook(page, lab: dict, name: str) -> None:
    """Open a notebook and wait until its kernel runs and the page is connected to it."""
    page.goto(f"{lab['url']}/lab/tree/{name}?reset")  # fresh workspace: only this notebook
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
    deadline = time.time() + 120
    while not _session_kernel_idle(lab, name):
        if time.time() > deadline:
            raise TimeoutError(f"no idle kernel for {name}")
        time.sleep(0.2)
    page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=60_000)
    wait_idle(page)
    time.sleep(0.5)


def wait_idle(page, timeout: float = 120) -> None:
    """Wait until the notebook's kernel reports idle in the toolbar."""
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout * 1000)


def run_cell(page, index: int, wait: bool = True, timeout: float = 90) -> None:
    """Select cell ``index`` and run it (Shift+Enter)."""
    cell = page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)
    prompt = cell.locator(".jp-InputArea-prompt")
    fresh = prompt.inner_text().strip() == "[ ]:"
    for _ in range(12):  # a Shift+Enter right after the kernel started can be dropped
        prompt.click()
        run = page.locator(".jp-NotebookPanel:visible .jp-Toolbar [data-command='notebook:run-cell-and-select-next']")
        if run.count():
            run.first.click()  # the toolbar's Run button: no dependence on keyboard focus
        else:
            page.keyboard.press("Shift+Enter")
        if not fresh:
            break
        t0 = time.time()
        while time.time() - t0 < 5 and prompt.inner_text().strip() == "[ ]:":
            time.sleep(0.1)
        if prompt.inner_text().strip() != "[ ]:":
            break  # queued or done (a very early Shift+Enter can be dropped)
    if wait:
        deadline = time.time() + timeout
        while time.time() < deadline:
            prompt = cell.locator(".jp-InputArea-prompt").inner_text()
            if prompt.strip() not in ("[*]:", "[ ]:", ""):
                return
            time.sleep(0.2)
        from .conftest import screenshot

        screenshot(page, f"timeout-cell-{index}")
        raise TimeoutError(f"cell {index} did not finish in {timeout}s")


def cell_output(page, index: int) -> str:
    cell = page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)
    return cell.locator(".jp-OutputArea").inner_text()


def open_panel(page) -> None:
    """Open the CNN Live side panel through its sidebar tab."""
    tab = page.locator(".jp-SideBar li[data-id='cnnlive-panel']")
    tab.wait_for(timeout=30_000)
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    page.wait_for_selector("#cnnlive-panel .jp-cnnlive-status", state="visible", timeout=30_000)
