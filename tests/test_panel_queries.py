"""The panel's read-only requests (issue 17, panel side): the saved runs list,
compare (run histories), an OIP job's kept snapshots for the step slider,
and the card's epoch total following job.adjust(epochs=)."""

import json
import shutil
import time

import numpy as np
import pytest

import cnnlive as cl
from cnnlive import jobs
from cnnlive.engines.oip import OIPResult, OIPTimeline
from cnnlive.engines.oip.timeline import Timeline
from cnnlive.protocol import validate
from cnnlive.surfaces.panel_bridge import PanelBridge
from cnnlive.views.panel_transport import card

from .engines_helpers import digits, trained_cnn, wait_until


def _req(action, **fields):
    return {"type": "request", "request_id": f"q-{action}", "action": action, **fields}


def _history(folder, loss, val_acc=None, epochs_done=None):
    folder.mkdir(parents=True)
    epoch = {"loss": loss, **({"val_accuracy": val_acc} if val_acc is not None else {})}
    (folder / "history.json").write_text(json.dumps({"epoch": epoch, "batch": {}, "ended": "completed",
                                                     "epochs_done": epochs_done or len(loss)}))


@pytest.fixture
def runs_bridge(tmp_path):
    mgr = jobs.JobManager()
    mgr.runs_root = str(tmp_path)
    _history(tmp_path / "small-1", [1.0, 0.5, 0.25], [0.5, 0.75, 0.7])
    _history(tmp_path / "small-2", [0.9, None, 0.2])
    (tmp_path / "oip-3").mkdir()
    (tmp_path / "oip-3" / "oip.png").write_bytes(b"\x89PNG")
    return PanelBridge(mgr), tmp_path


def test_runs_lists_the_runs_folder_as_the_protocol_says(runs_bridge):
    bridge, root = runs_bridge
    msg, buffers = bridge.respond(_req("runs"))
    validate(msg, "KernelMessage")
    assert msg["type"] == "runs" and msg["request_id"] == "q-runs" and buffers == []
    assert msg["folder"] == str(root)
    rows = {r["folder"]: r for r in msg["runs"]}
    assert set(rows) == {"small-1", "small-2", "oip-3"}
    assert rows["small-1"]["best"] == {"metric": "val_accuracy", "value": 0.75, "epoch": 2}
    assert rows["small-1"]["epochs"] == 3 and rows["small-1"]["kind"] == "train" and rows["small-1"]["name"] == "small"
    assert rows["oip-3"]["kind"] == "oip" and rows["oip-3"]["epochs"] is None and rows["oip-3"]["best"] is None


def test_runs_of_a_missing_folder_is_an_empty_list(tmp_path):
    mgr = jobs.JobManager()
    mgr.runs_root = str(tmp_path / "none-yet")
    msg = PanelBridge(mgr).handle(_req("runs"))
    validate(msg, "KernelMessage")
    assert msg["runs"] == []


def test_compare_sends_the_histories_of_the_named_runs(runs_bridge):
    bridge, _ = runs_bridge
    msg = bridge.handle(_req("compare", runs=["small-1", "small-2"]))
    validate(msg, "KernelMessage")
    assert msg["type"] == "compare" and [r["folder"] for r in msg["runs"]] == ["small-1", "small-2"]
    assert msg["runs"][0]["history"] == {"loss": [1.0, 0.5, 0.25], "val_accuracy": [0.5, 0.75, 0.7]}
    assert msg["runs"][1]["history"]["loss"] == [0.9, None, 0.2]  # not a number: null in JSON
    json.dumps(msg, allow_nan=False)


def test_compare_bad_input_is_a_clear_error_and_changes_nothing(runs_bridge):
    bridge, root = runs_bridge
    reply = bridge.handle(_req("compare", runs=["small-1", "gone-9"]))
    validate(reply, "KernelMessage")
    assert reply["type"] == "reply" and reply["ok"] is False and reply["request_id"] == "q-compare"
    assert "gone-9" in reply["message"] and "small-1" in reply["message"]  # names the runs found
    assert reply["message"].startswith("unknown run 'gone-9' in ") and "; runs: " in reply["message"]
    reply = bridge.handle(_req("compare", runs=["oip-3"]))
    assert reply["ok"] is False and "no epoch history" in reply["message"]
    assert reply["message"].endswith("runs that have one: small-2, small-1") or \
        reply["message"].endswith("runs that have one: small-1, small-2")
    for bad, words in ((["../small-1"], "'../small-1' is not a run folder name"), ([".."], "'..' is not a run"),
                       ([str(root / "small-1")], "never a path"), ([], "a list of 1 to 12 run folder names"),
                       ([f"r{i}" for i in range(13)], "at most 12 runs, not 13")):  # names only, never paths
        reply = bridge.handle(_req("compare", runs=bad))
        assert reply["ok"] is False and reply["type"] == "reply"
        assert words in reply["message"], reply["message"]
        assert "is not valid under any of the given schemas" not in reply["message"]
    shutil.rmtree(root / "small-2")  # listed in the panel, removed on disk since
    reply = bridge.handle(_req("compare", runs=["small-2"]))
    assert reply["ok"] is False and "small-2" in reply["message"]
    assert (root / "small-1" / "history.json").exists() and (root / "oip-3" / "oip.png").exists()


def test_timeline_and_every_epoch_results_give_snapshots_by_index():
    t = Timeline(cap=1 << 30)
    for step in range(3):
        t.add(f"step {step * 10}", np.full((2, 4, 4, 1), step, np.float32), value=step / 2)
    label, images, value = t.frame(1)
    assert label == "step 10" and images[0, 0, 0, 0] == 1 and value == 0.5 and t.newest == "step 20"
    with pytest.raises(IndexError, match=r"snapshot index 3 is out of range 0\.\.2 \(3 kept\)"):
        t.frame(3)
    result = OIPResult(np.zeros((2, 4, 4, 1), np.float32), np.array([1.0, 3.0]), [0, 1], [(3.0,)] * 2,
                       np.zeros((0, 2)), np.zeros((1, 2, 4, 4, 1), np.float32), {}, timeline=t)
    assert result.snapshot_count == 3 and result.snapshot_newest == "step 20"
    label, grid, value = result.snapshot(2)
    assert label == "step 20" and grid.ndim == 2 and grid.shape == (4, 9) and value == 1.0
    epochs = OIPTimeline(cap=1 << 30)
    for e in (1, 2):
        r = OIPResult(np.full((2, 4, 4, 1), e, np.float32), np.array([e, e + 2.0]), [0, 1], [(3.0,)] * 2,
                      np.zeros((0, 2)), np.zeros((1, 2, 4, 4, 1), np.float32), {"epoch": e})
        epochs.add(r)
    assert epochs.snapshot_count == 2 and epochs.snapshot_newest == "epoch 2"
    label, grid, value = epochs.snapshot(0)
    assert label == "epoch 1" and value == 2.0 and grid.max() == 1
    with pytest.raises(IndexError, match=r"snapshot index -1 is out of range 0\.\.1 \(2 kept\)"):
        epochs.snapshot(-1)
    with pytest.raises(IndexError, match="none kept yet"):
        OIPTimeline(cap=1 << 30).snapshot(0)


@pytest.mark.slow
def test_oip_card_counts_snapshots_and_a_frame_request_sends_one(runs_dir):
    model = trained_cnn()
    mgr = jobs.manager()
    bridge = PanelBridge(mgr)
    job = cl.oip(model, layer="Conv2D_3", maps=[1, 2], steps=60, tolerance=0.0)
    assert job.wait(300).value == "completed", job.error
    c = card(job)
    validate({"type": "job", "job": c}, "KernelMessage")
    count = len(job.result.timeline)
    assert count >= 3 and c["snapshots"] == {"count": count, "newest": "step 60"}
    msg, buffers = bridge.respond(_req("frame", job_id=job.id, index=0))
    validate(msg, "KernelMessage")
    assert msg["type"] == "frame" and msg["label"] == "step 0" and msg["count"] == count and msg["index"] == 0
    assert buffers[0][:4] == b"\x89PNG" and isinstance(msg["objective"], float)
    last, last_buffers = bridge.respond(_req("frame", job_id=job.id, index=count - 1))
    assert last["label"] == "step 60" and last_buffers[0] != buffers[0]  # another image
    for bad, words in ((_req("frame", job_id=job.id, index=count),
                        f"job {job.id}: snapshot index {count} is out of range 0..{count - 1}"),
                       (_req("frame", job_id=4242, index=0), "known ids")):
        reply = bridge.handle(bad)
        validate(reply, "KernelMessage")
        assert reply["ok"] is False and words in reply["message"], reply
    reply = bridge.handle(_req("frame", job_id=job.id, index=-1))
    assert reply["ok"] is False and "frame index must be an integer from 0" in reply["message"]
    assert job.state.value == "completed" and len(job.result.timeline) == count  # nothing changed
    mgr.remove(job)


@pytest.mark.slow
def test_running_search_grows_its_snapshots_and_training_has_none(runs_dir):
    model = trained_cnn()
    mgr = jobs.manager()
    bridge = PanelBridge(mgr)
    job = cl.oip(model, layer="Conv2D_3", maps=[1], steps=100_000, tolerance=0.0)
    try:
        wait_until(lambda: (card(job).get("snapshots") or {}).get("count", 0) >= 2, job)
        first = card(job)["snapshots"]["count"]
        wait_until(lambda: card(job)["snapshots"]["count"] > first, job)
        msg, _ = bridge.respond(_req("frame", job_id=job.id, index=1))
        assert msg["type"] == "frame" and msg["count"] >= first
    finally:
        job.stop(), job.wait(60)
    train = cl.train(model, digits().take(64, 32), epochs=1, batch_size=32, save=False)
    assert train.wait(300).value == "completed"
    assert "snapshots" not in card(train)
    reply = bridge.handle(_req("frame", job_id=train.id, index=0))
    assert reply["ok"] is False and "keeps no snapshots" in reply["message"]
    mgr.remove(job), mgr.remove(train)


@pytest.mark.slow
def test_card_epoch_total_follows_adjust_while_paused(runs_dir):
    data = digits().take(160, 32)
    model = cl.models.simple_cnn(convs=((4, 3, "relu"),), pools=(2,), dense=())
    job = cl.train(model, data, epochs=40, batch_size=16, save=False)
    try:
        wait_until(lambda: (card(job).get("epoch") or {}).get("total") == 40, job)
        job.pause()
        wait_until(lambda: job.state.value == "paused", job)
        job.adjust(epochs=60)
        c = card(job)
        validate({"type": "job", "job": c}, "KernelMessage")
        assert c["epoch"]["total"] == 60  # the card shows the new total at once, while paused
        job.adjust(epochs=job.steering.epochs_done + 1)  # down: never below the epochs done
        assert card(job)["epoch"]["total"] == job.steering.epochs_done + 1
    finally:
        job.cancel(), job.wait(60)


def test_malformed_history_files_still_give_a_valid_runs_list(tmp_path):
    mgr = jobs.JobManager()
    mgr.runs_root = str(tmp_path)
    _history(tmp_path / "good-1", [1.0, 0.5], [0.5, 0.6])
    for i, body in enumerate([{"epoch": {"loss": [1.0]}, "epochs_done": True},
                              {"epoch": {"loss": [1.0]}, "epochs_done": -3, "ended": 7},
                              {"epoch": {"val_loss": [1e400, 2.0]}, "epochs_done": 2.5},
                              [1, 2], "text"], start=2):
        (tmp_path / f"bad-{i}").mkdir()
        (tmp_path / f"bad-{i}" / "history.json").write_text(json.dumps(body))
    (tmp_path / "bad-9").mkdir()
    (tmp_path / "bad-9" / "history.json").write_text("{not json")
    msg = PanelBridge(mgr).handle(_req("runs"))
    validate(msg, "KernelMessage")  # the panel drops a message the schema rejects
    rows = {r["folder"]: r for r in msg["runs"]}
    assert len(rows) == 7 and msg["total"] == 7
    assert rows["good-1"]["epochs"] == 2 and rows["good-1"]["best"]["value"] == 0.6
    assert rows["bad-2"]["epochs"] == 1 and rows["bad-3"]["epochs"] == 1  # counted from the history instead
    assert rows["bad-4"]["best"] == {"metric": "val_loss", "value": 2.0, "epoch": 2}


def test_runs_list_says_how_many_it_cut(tmp_path, monkeypatch):
    from cnnlive.surfaces import panel_queries

    monkeypatch.setattr(panel_queries, "MAX_RUNS_SENT", 3)
    for i in range(5):
        (tmp_path / f"r-{i}").mkdir()
    msg = panel_queries.runs_message(str(tmp_path), "q")
    validate(msg, "KernelMessage")
    assert len(msg["runs"]) == 3 and msg["total"] == 5


def test_listing_reuses_parsed_histories_until_the_file_changes(tmp_path, monkeypatch):
    from cnnlive.engines import runs

    _history(tmp_path / "a-1", [1.0, 0.5])
    parsed = []
    real = runs.load_json
    monkeypatch.setattr(runs, "load_json", lambda path, *a, **k: parsed.append(path) or real(path, *a, **k))
    assert runs.list_runs(str(tmp_path))["a-1"].epochs == 2
    assert runs.list_runs(str(tmp_path))["a-1"].epochs == 2
    assert len(parsed) == 1  # the second listing read no file
    assert runs.list_runs(str(tmp_path))["a-1"].history["loss"] == [1.0, 0.5]  # the history: read when asked
    assert len(parsed) == 2
    runs.list_runs(str(tmp_path))["a-1"].history["loss"].append(9.0)  # a caller's change stays its own
    assert runs.list_runs(str(tmp_path))["a-1"].history["loss"] == [1.0, 0.5]
    assert len(parsed) == 2  # the compared history is cached too
    _history(tmp_path / "b-2", [1.0])
    (tmp_path / "a-1" / "history.json").write_text(json.dumps({"epoch": {"loss": [1.0, 0.5, 0.2]}}))
    assert runs.list_runs(str(tmp_path))["a-1"].epochs == 3 and len(parsed) == 4


def test_compare_thinning_sends_epoch_numbers_and_the_last_epoch(tmp_path, monkeypatch):
    from cnnlive.surfaces import panel_queries

    monkeypatch.setattr(panel_queries, "MAX_EPOCHS_SENT", 4)
    _history(tmp_path / "long-1", [float(e) for e in range(1, 11)], [float(-e) for e in range(1, 10)])
    msg = panel_queries.compare_message(str(tmp_path), ["long-1"], "q")
    validate(msg, "KernelMessage")
    run = msg["runs"][0]
    assert run["epochs"] == [1, 4, 7, 10]  # the last epoch is kept
    assert run["history"]["loss"] == [1.0, 4.0, 7.0, 10.0]
    assert run["history"]["val_accuracy"] == [-1.0, -4.0, -7.0, None]  # one epoch short: null at epoch 10
    _history(tmp_path / "odd-2", [float(e) for e in range(1, 12)])  # 11 epochs: a stride of 3 misses the last
    odd = panel_queries.compare_message(str(tmp_path), ["odd-2"], "q")["runs"][0]
    assert odd["epochs"] == [1, 4, 7, 11] and odd["history"]["loss"] == [1.0, 4.0, 7.0, 11.0]
    monkeypatch.setattr(panel_queries, "MAX_EPOCHS_SENT", 2000)  # below the limit: every epoch
    short = panel_queries.compare_message(str(tmp_path), ["long-1"], "q")["runs"][0]
    assert short["epochs"] == list(range(1, 11)) and len(short["history"]["loss"]) == 10


class _BrokenTimeline(Timeline):
    def frame(self, index):
        raise AttributeError("'NoneType' object has no attribute 'shape'")


def test_an_unexpected_error_while_answering_still_sends_a_reply(tmp_path, caplog):
    mgr = jobs.JobManager()
    mgr.runs_root = str(tmp_path)
    timeline = _BrokenTimeline(cap=1 << 30)
    timeline.add("step 0", np.zeros((1, 4, 4, 1), np.float32), value=0.0)
    result = OIPResult(np.zeros((1, 4, 4, 1), np.float32), np.array([1.0]), [0], [(3.0,)],
                       np.zeros((0, 1)), np.zeros((1, 1, 4, 4, 1), np.float32), {}, timeline=timeline)

    async def work(ctx):
        return result

    job = mgr.start(work, name="broken", kind="oip")
    assert job.wait(60).value == "completed"
    bridge = PanelBridge(mgr)
    with caplog.at_level("ERROR", logger="cnnlive"):
        reply = bridge.handle(_req("frame", job_id=job.id, index=0))
    validate(reply, "KernelMessage")
    assert reply["type"] == "reply" and reply["ok"] is False and reply["request_id"] == "q-frame"
    assert reply["message"] == (f"could not send snapshot 0 of job {job.id}: AttributeError: "
                                "'NoneType' object has no attribute 'shape'")
    assert any("frame request failed" in r.getMessage() for r in caplog.records)
    assert bridge.handle(_req("runs"))["type"] == "runs"  # the bridge keeps answering
    mgr.remove(job)


def test_an_oip_job_without_snapshots_yet_says_so(tmp_path):
    mgr = jobs.JobManager()

    async def work(ctx):
        return None

    job = mgr.start(work, name="early", kind="oip")
    assert job.wait(60).value == "completed"
    reply = PanelBridge(mgr).handle(_req("frame", job_id=job.id, index=0))
    assert reply["ok"] is False and reply["message"] == f"job {job.id} has no snapshots yet"
    mgr.remove(job)


def test_runs_by_kind_training_first(tmp_path):
    """cl.runs() lists training runs (kind='all' every run; the heading counts
    those left out); the panel's list puts training runs first."""
    import os
    import time

    import cnnlive as cl
    from cnnlive.surfaces import panel_queries

    _history(tmp_path / "trained-1", [1.0, 0.5])
    for i, (name, file) in enumerate((("oip-quick-2", "oip.npz"), ("dream-3", "dream-0.png"),
                                      ("oip-quick-4", "oip.png"))):
        (tmp_path / name).mkdir()
        (tmp_path / name / file).write_bytes(b"x")
        stamp = time.time() + 10 * (i + 1)  # newer than the training run
        os.utime(tmp_path / name / file, (stamp, stamp))
    table = cl.runs(str(tmp_path))
    assert table.names() == ["trained-1"] and "3 of other kinds" in repr(table)
    assert cl.runs(str(tmp_path), kind="all").names() == ["oip-quick-4", "dream-3", "oip-quick-2", "trained-1"]
    assert cl.runs(str(tmp_path), kind="oip").names() == ["oip-quick-4", "oip-quick-2"]
    with pytest.raises(ValueError, match="'train', 'oip', 'dream', 'other', 'all'"):
        cl.runs(str(tmp_path), kind="training")
    msg = panel_queries.runs_message(str(tmp_path), "q")
    validate(msg, "KernelMessage")
    assert [r["folder"] for r in msg["runs"]] == ["trained-1", "oip-quick-4", "dream-3", "oip-quick-2"]
