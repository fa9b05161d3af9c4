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
from cnnlive.engines.timeline import Timeline
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
    reply = bridge.handle(_req("compare", runs=["oip-3"]))
    assert reply["ok"] is False and "no epoch history" in reply["message"]
    for bad in (["../small-1"], [".."], [str(root / "small-1")], []):  # names only, never paths
        reply = bridge.handle(_req("compare", runs=bad))
        assert reply["ok"] is False and reply["type"] == "reply"
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
    with pytest.raises(IndexError, match="out of range: 3 kept"):
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
    with pytest.raises(IndexError):
        epochs.snapshot(-1)


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
    for bad, words in ((_req("frame", job_id=job.id, index=count), "out of range"),
                       (_req("frame", job_id=4242, index=0), "known ids")):
        reply = bridge.handle(bad)
        validate(reply, "KernelMessage")
        assert reply["ok"] is False and words in reply["message"], reply
    reply = bridge.handle(_req("frame", job_id=job.id, index=-1))
    assert reply["ok"] is False  # the schema rejects it
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
