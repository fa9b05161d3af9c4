"""End to end: the panel opens by itself when a notebook loads cnnlive; Stop
all from the command palette and by its shortcut; finished cards without
active Stop/Cancel; metric labels, epoch and resource graphs; the card context
menu; settings changed in the Settings Editor take effect; a kernel restart is
shown and drops the cards; the panel comes back after a page reload."""

import json
import time
import urllib.request

import pytest

from .conftest import ARTIFACTS, screenshot, write_notebook
from .lab_helpers import cell_output, open_notebook, open_panel, run_cell

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SPRINTER = (
    "async def sprinter(ctx, laps=100000):\n"
    "    for i in range(laps):\n"
    "        ctx.progress(i + 1, laps)\n"
    "        ctx.publish('metrics', {'loss': 1 / (i + 1), 'accuracy': 0.5, 'val_top3': 0.9, 'lr': 1e-3,\n"
    "                                'epoch': 1.0, 'epochs': 3})\n"
    "        ctx.publish('log', f'lap {i}\\n')\n"
    "        if await ctx.checkpoint():\n"
    "            return i\n"
    "        await asyncio.sleep(0.02)\n"
)
CELLS = [
    "%load_ext cnnlive\nimport asyncio, cnnlive as cl",
    SPRINTER + "a = cl.jobs.start(sprinter, name='one')\nb = cl.jobs.start(sprinter, name='two')",
    "print(cl.jobs.status())",
]

PANEL = "#cnnlive-panel"


def _card(page, name):
    return page.locator(f"{PANEL} .jp-cnnlive-card", has=page.locator(".jp-cnnlive-title", has_text=name))


def _palette(page, text: str) -> None:
    """Run a command by its label from the command palette."""
    page.keyboard.press("Control+Shift+C")
    box = page.locator(".lm-CommandPalette-input")
    box.wait_for(state="visible", timeout=10_000)
    box.fill(text)
    page.locator(".lm-CommandPalette-item", has_text=text).first.wait_for(timeout=10_000)
    box.press("Enter")


def test_stop_all_from_the_palette_leaves_finished_cards(lab, page):
    name = write_notebook(lab["root"], "commands.ipynb", CELLS)
    open_notebook(page, lab, name)
    assert not page.locator(PANEL).is_visible()
    run_cell(page, 0)
    # the panel opens by itself when the notebook loads cnnlive
    page.locator(f"{PANEL} .jp-cnnlive-status").filter(has_text="connected").wait_for(timeout=60_000)
    run_cell(page, 1)
    one, two = _card(page, "one"), _card(page, "two")
    for card in (one, two):
        card.locator(".jp-cnnlive-state", has_text="running").wait_for(timeout=60_000)
    # human labels, units, the epoch of a total
    one.locator(".jp-cnnlive-metric[data-key='val_top3']").wait_for(timeout=30_000)
    assert one.locator(".jp-cnnlive-metric[data-key='val_top3'] .jp-cnnlive-metric-label").inner_text() == "val top3"
    assert one.locator(".jp-cnnlive-metric[data-key='accuracy'] .jp-cnnlive-metric-value").inner_text() == "50.0 %"
    assert one.locator(".jp-cnnlive-metric[data-key='lr'] .jp-cnnlive-metric-label").inner_text() == "learning rate"
    assert "epoch 2 of 3" in one.locator(".jp-cnnlive-meta").inner_text()
    # resource graphs in the header fill as samples arrive (one every ~2 s)
    cpu = page.locator(f"{PANEL} .jp-cnnlive-graph[data-resource='cpu'] path")
    deadline = time.time() + 60
    while not (cpu.get_attribute("d") or "").startswith("M") and time.time() < deadline:
        time.sleep(0.5)
    assert cpu.get_attribute("d").startswith("M")
    assert page.locator(f"{PANEL} .jp-cnnlive-graph[data-resource='ram'] path").get_attribute("d").startswith("M")

    _palette(page, "Stop all jobs")
    for card in (one, two):
        card.locator(".jp-cnnlive-state", has_text="stopped").wait_for(timeout=60_000)
    # finished cards: Stop and Cancel disabled and visibly so, Remove offered
    for card in (one, two):
        for label in ("Stop", "Cancel"):
            button = card.get_by_role("button", name=label, exact=True)
            assert button.is_disabled()
            assert float(button.evaluate("b => getComputedStyle(b).opacity")) < 0.6
        assert card.get_by_role("button", name="Remove").is_visible()
    run_cell(page, 2)
    out = cell_output(page, 2)
    assert out.count("stopped") >= 2, out
    page.locator(PANEL).screenshot(path=str(ARTIFACTS / "panel-finished-cards.png"))

    # the card's context menu offers the job commands
    one.click(button="right")
    menu = page.locator(".lm-Menu")
    menu.locator(".lm-Menu-itemLabel", has_text="Remove #").first.wait_for(timeout=10_000)
    menu.locator(".lm-Menu-itemLabel", has_text="Remove #").first.click()
    one.wait_for(state="detached", timeout=30_000)
    _palette(page, "Remove finished jobs")
    two.wait_for(state="detached", timeout=30_000)


@pytest.fixture
def default_settings(lab):
    """Put the panel settings back afterwards (the lab server is shared)."""
    yield
    req = urllib.request.Request(f"{lab['url']}/lab/api/settings/cnnlive:plugin", method="PUT",
                                 data=json.dumps({"raw": "{}"}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30)


def test_setting_changed_in_the_settings_editor_takes_effect(lab, page, default_settings):
    name = write_notebook(lab["root"], "settings.ipynb", CELLS)
    open_notebook(page, lab, name)
    run_cell(page, 0)
    open_panel(page)
    run_cell(page, 1)
    one = _card(page, "one")
    one.locator(".jp-cnnlive-state", has_text="running").wait_for(timeout=60_000)
    # default: 5 log lines per card
    deadline = time.time() + 30
    while one.locator(".jp-cnnlive-log").inner_text().count("lap") < 5 and time.time() < deadline:
        time.sleep(0.3)
    assert one.locator(".jp-cnnlive-log").inner_text().count("lap") == 5

    _palette(page, "Settings Editor")
    editor = page.locator(".jp-SettingsPanel, .jp-SettingEditor").first
    editor.wait_for(timeout=30_000)
    page.locator(".jp-PluginList-entry", has_text="CNN Live").first.click()
    confirm = page.get_by_label("Confirm before Cancel")
    confirm.wait_for(timeout=30_000)
    confirm.check()
    lines = page.locator(".jp-SettingsPanel input[id$='logLines']").first
    lines.fill("2")
    lines.press("Tab")
    screenshot(page, "settings-editor-cnnlive")
    # back to the notebook: the panel follows the new settings
    page.locator(".lm-TabBar-tab", has_text=name).first.click()
    open_panel(page)
    deadline = time.time() + 30
    while one.locator(".jp-cnnlive-log").inner_text().count("lap") != 2 and time.time() < deadline:
        time.sleep(0.3)
    assert one.locator(".jp-cnnlive-log").inner_text().count("lap") == 2
    one.get_by_role("button", name="Cancel").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=10_000)
    dialog.get_by_role("button", name="Keep running").click()
    dialog.wait_for(state="detached", timeout=10_000)
    time.sleep(1.0)
    assert one.locator(".jp-cnnlive-state").inner_text() == "running"
    one.get_by_role("button", name="Cancel").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Cancel job").click()
    one.locator(".jp-cnnlive-state", has_text="cancelled").wait_for(timeout=60_000)
    page.keyboard.press("Control+Alt+S")  # the default shortcut of Stop all
    _card(page, "two").locator(".jp-cnnlive-state", has_text="stopped").wait_for(timeout=60_000)

    # a kernel restart: the panel says so and drops the old kernel's cards
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel…").first.click()
    page.locator(".jp-Dialog-button.jp-mod-accept").click()
    restart = page.locator(f"{PANEL} .jp-cnnlive-restart")
    restart.wait_for(state="visible", timeout=60_000)
    assert "2 jobs of the old kernel are gone" in restart.inner_text()
    assert page.locator(f"{PANEL} .jp-cnnlive-card").count() == 0


def test_panel_is_restored_after_a_reload(lab, page):
    name = write_notebook(lab["root"], "restore.ipynb", ["1 + 1"])
    open_notebook(page, lab, name)
    assert not page.locator(PANEL).is_visible()
    _palette(page, "Open CNN Live panel")
    page.locator(PANEL).wait_for(state="visible", timeout=30_000)
    time.sleep(2.0)  # the workspace is saved shortly after a layout change
    page.goto(f"{lab['url']}/lab/tree/{name}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
    page.locator(PANEL).wait_for(state="visible", timeout=30_000)
    assert "lm-mod-current" in page.locator(".jp-SideBar li[data-id='cnnlive-panel']").get_attribute("class")
