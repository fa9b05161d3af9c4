"""The runs list survives bad run folders: each is read on its own, within
limits; a folder that cannot be read is left out with a logged reason (and
shown as unreadable in the panel). Caches are bounded by bytes."""

import json
import logging
import os
import tracemalloc

import pytest

from cnnlive import jobs
from cnnlive.engines import runs
from cnnlive.protocol import validate
from cnnlive.surfaces.panel_bridge import PanelBridge


def _good(folder, losses):
    folder.mkdir(parents=True)
    (folder / "history.json").write_text(json.dumps({"epoch": {"loss": losses, "val_loss": losses}}))


def _req(action, **extra):
    return {"type": "request", "request_id": f"q-{action}", "action": action, **extra}


@pytest.fixture(autouse=True)
def _fresh_caches():
    runs._HISTORIES.clear(), runs._SUMMARIES.clear()
    yield
    runs._HISTORIES.clear(), runs._SUMMARIES.clear()


def test_bad_folders_are_left_out_with_a_reason_and_the_good_ones_stay(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(runs, "MAX_HISTORY_BYTES", 50_000)
    root = tmp_path / "runs"
    _good(root / "good-1", [1.0, 0.5])
    bodies = {"deep-2": "[" * 5000 + "]" * 5000, "big-3": json.dumps({"epoch": {"loss": [1.5] * 20_000}}),
              "notjson-4": "{not json", "badutf8-5": b"\xff\xfe{}"}
    for name, body in bodies.items():
        (root / name).mkdir()
        path = root / name / "history.json"
        path.write_bytes(body) if isinstance(body, bytes) else path.write_text(body)
    (root / "nonfinite-6").mkdir()  # inf, nan and huge numbers read as missing: the run is listed
    (root / "nonfinite-6" / "history.json").write_text(
        '{"epoch": {"loss": [1e999, NaN, 0.5, -Infinity], "val_loss": [1e999, 0.3, ' + "9" * 5000 + ']},'
        ' "epochs_done": ' + "7" * 400 + '}')
    (root / "fifo-7").mkdir()
    os.mkfifo(root / "fifo-7" / "history.json")  # never blocks the listing
    outside = tmp_path / "outside-8"
    _good(outside, [0.1])
    os.symlink(outside, root / "link-8")  # a link to a folder outside the runs folder
    os.mkdir(os.fsencode(root) + b"/bad\xff-9")  # a name that is not valid UTF-8
    (root / "history-link-10").mkdir()
    os.symlink(outside / "history.json", root / "history-link-10" / "history.json")  # links inside: not read
    with caplog.at_level(logging.WARNING, logger="cnnlive"):
        table = runs.list_runs(str(root))
        runs.list_runs(str(root))  # reasons are logged once
    assert sorted(table.names()) == ["good-1", "nonfinite-6"]
    assert table["nonfinite-6"].history["loss"][2:3] == [0.5] and table["nonfinite-6"].best[1:] == (0.3, 2)
    assert table["nonfinite-6"].epochs == 4  # the absurd epochs_done is dropped
    reasons = dict((u.folder, u.reason) for u in table.unreadable)
    assert "nested deeper than 16" in reasons["deep-2"]
    assert "MB cnnlive reads" in reasons["big-3"]
    assert "not valid JSON" in reasons["notjson-4"] and "not valid JSON" in reasons["badutf8-5"]
    assert "not a regular file" in reasons["fifo-7"]
    assert "symbolic link" in reasons["link-8"] and "not valid UTF-8" in reasons["bad\ufffd-9"]
    assert "cannot be opened" in reasons["history-link-10"]
    logged = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert len(logged) == len(reasons) == 8
    assert "8 folder(s) left out" in repr(table) and "deep-2: " in table._repr_html_()

    mgr = jobs.JobManager()
    mgr.runs_root = str(root)
    bridge = PanelBridge(mgr)
    msg = bridge.handle(_req("runs"))
    validate(msg, "KernelMessage")
    kinds = {r["folder"]: r["kind"] for r in msg["runs"]}
    assert kinds["good-1"] == "train" and kinds["link-8"] == "unreadable" and kinds["bad\ufffd-9"] == "unreadable"
    assert msg["total"] == 10 and all(r["epochs"] is None for r in msg["runs"] if r["kind"] == "unreadable")
    reply = bridge.handle(_req("compare", runs=["link-8"]))
    assert reply["ok"] is False and "cannot be read: a symbolic link" in reply["message"]
    with pytest.raises(ValueError, match="symbolic link"):
        runs.resolve_run("link-8", str(root))  # cl.compare("link-8") by name: not followed either
    reply = bridge.handle(_req("compare", runs=["good-1", "nonfinite-6"]))
    assert reply["type"] == "compare" and reply["runs"][1]["history"]["loss"][:3] == [None, None, 0.5]
    json.dumps(reply, allow_nan=False)


def test_the_runs_list_keeps_summaries_only_and_histories_under_a_byte_cap(tmp_path, monkeypatch):
    for i in range(4):  # four ~3.5 MB histories
        _good(tmp_path / f"long-{i}", [1.0 + j * 1e-7 for j in range(100_000)])
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    table = runs.list_runs(str(tmp_path))
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(table) == 4 and all(r.epochs == 100_000 for r in table)
    assert kept < 1 * 2**20, kept  # summaries only: no history stays in memory after listing
    assert len(runs._HISTORIES) == 0 and len(runs._SUMMARIES) == 4
    cap = 2 * runs.history_bytes({"loss": [0.0] * 100_000, "val_loss": [0.0] * 100_000})
    monkeypatch.setattr(runs._HISTORIES, "max_bytes", cap)
    for run in table:  # comparing reads the histories, at most `cap` bytes of them stay
        assert len(run.history["loss"]) == 100_000
        assert runs._HISTORIES.nbytes <= cap
    assert len(runs._HISTORIES) == 2


def test_the_byte_cache_evicts_the_oldest_and_never_keeps_an_oversized_entry():
    cache = runs.ByteCache(100)
    cache.put("a", 1, "A", 40), cache.put("b", 1, "B", 40)
    assert cache.get("a", 1) == "A"  # a is now the most recent
    cache.put("c", 1, "C", 40)
    assert cache.get("b", 1) is None and cache.get("a", 1) == "A" and cache.nbytes == 80
    assert cache.get("a", 2) is None  # the file changed: no hit
    cache.put("huge", 1, "H", 101)
    assert cache.get("huge", 1) is None and cache.nbytes == 80


def test_bounded_json_reading(tmp_path):
    from cnnlive.engines.bounded import UnreadableFile, depth, load_json

    assert depth(1) == 0 and depth([[1, [2]], {"a": [{}]}]) == 4
    path = tmp_path / "h.json"
    path.write_text('{"a": [1e999, -1e999, NaN, Infinity, 1.5, ' + "1" * 30 + ', -' + "2" * 5000 + "]}")
    assert load_json(str(path), 1 << 20) == {"a": [None, None, None, None, 1.5, 1.111111111111111e29, None]}
    path.write_text('"' + '\\"' * 200_000)  # an unterminated string of escaped quotes: refused, fast
    with pytest.raises(UnreadableFile, match="not valid JSON"):
        load_json(str(path), 1 << 20)
    with pytest.raises(UnreadableFile, match="over the 0.0 MB"):
        load_json(str(path), 10)
