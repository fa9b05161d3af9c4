"""OIP timelines: every snapshot kept up to a size cap, exported as GIF (issue 17, part 3)."""

import numpy as np
import pytest
from PIL import Image

import cnnlive as cl
from cnnlive.config import Config
from cnnlive.engines.oip import OIPResult, OIPSettings, OIPTimeline, prepare, search
from cnnlive.engines.oip.timeline import Timeline

from .engines_helpers import digits, trained_cnn


def test_timeline_thins_evenly_past_the_cap_and_keeps_first_and_newest():
    frame = np.zeros((2, 4, 4, 1), np.float32)  # 128 bytes
    t = Timeline(cap=10 * frame.nbytes)
    for i in range(100):
        t.add(i, frame + i)
    assert 2 <= len(t) <= 10 and t.nbytes <= t.cap
    labels = [int(s) for s in t.labels]
    assert labels[0] == 0 and labels[-1] == 99 and labels == sorted(labels)
    assert t.dropped == 100 - len(t)
    assert all(float(f.mean()) == l for l, f in zip(labels, t.frames))
    gaps = np.diff(labels[:-1])
    assert gaps.max() <= 2 * gaps.min()  # evenly thinned, not just the newest kept


def test_the_cap_setting_reads_the_environment_and_rejects_bad_values(monkeypatch):
    monkeypatch.setenv("CNNLIVE_OIP_SNAPSHOT_MB", "3")
    assert Config.from_env().oip_snapshot_mb == 3.0
    monkeypatch.setenv("CNNLIVE_OIP_SNAPSHOT_MB", "lots")
    with pytest.raises(ValueError, match="CNNLIVE_OIP_SNAPSHOT_MB"):
        Config.from_env()
    with pytest.raises(ValueError, match="oip_snapshot_mb must be a number > 0"):
        cl.config.oip_snapshot_mb = 0


@pytest.mark.slow
def test_search_keeps_every_chunk_and_saves_the_timeline_as_gif(tmp_path, monkeypatch):
    model = trained_cnn()
    r = search(prepare(model, "Conv2D_3", [1, 2], OIPSettings(steps=120, tolerance=0.0, restarts=0)))
    assert r.timeline.labels == ["step 0", "step 50", "step 100", "step 120"]  # 50-step chunks without a job
    assert np.array_equal(r.timeline.frames[-1], r.evolution[-1])
    path = r.save_gif(str(tmp_path / "t.gif"))
    with Image.open(path) as gif:
        assert gif.n_frames == 4
        gif.seek(0)
        first = np.asarray(gif.convert("L"), float)
        gif.seek(3)
        last = np.asarray(gif.convert("L"), float)
    assert first.shape == last.shape and np.abs(first - last).mean() > 1  # the pattern changed
    frame_bytes = r.images.nbytes
    monkeypatch.setattr(cl.config, "oip_snapshot_mb", 2.5 * frame_bytes / 2**20, raising=True)
    capped = search(prepare(model, "Conv2D_3", [1, 2], OIPSettings(steps=300, tolerance=0.0, restarts=0)))
    assert len(capped.timeline) == 2 and capped.timeline.labels[0] == "step 0"
    assert capped.timeline.labels[-1] == "step 300" and capped.timeline.dropped == 5


def test_every_epoch_results_are_capped_older_step_timelines_first():
    def result(epoch):
        t = Timeline(cap=1 << 30)
        for s in range(4):
            t.add(f"step {s}", np.zeros((1, 4, 4, 1), np.float32))
        return OIPResult(np.zeros((1, 4, 4, 1), np.float32), np.zeros(1), [0], [(3.0,)], np.zeros((0, 1)),
                         np.zeros((1, 1, 4, 4, 1), np.float32), {"epoch": epoch}, timeline=t)

    size = 64 + 64 + 4 * 64  # images + evolution + timeline
    results = OIPTimeline(cap=3 * size)
    for e in range(3):
        results.add(result(e))
    assert [r.timeline is not None for r in results] == [True] * 3
    results.add(result(3))
    assert [r.timeline is not None for r in results] == [False, False, True, True]
    for e in range(4, 40):
        results.add(result(e))
    epochs = [r.provenance["epoch"] for r in results]
    assert epochs[0] == 0 and epochs[-1] == 39 and results.nbytes <= results.cap and results.dropped > 0


@pytest.mark.slow
def test_every_epoch_search_keeps_each_epoch_and_exports_them(tmp_path):
    data = digits().take(400, 100)
    train = cl.train(cl.models.simple_cnn(), data, epochs=3, save=False)
    watch = cl.oip(train, layer="Conv2D_3", maps=[1, 2], steps=20, every="epoch", data=data)
    assert train.wait(300).value == "completed" and watch.wait(300).value == "completed", watch.error
    results = watch.result
    assert isinstance(results, OIPTimeline) and [r.provenance["epoch"] for r in results][-1] == 3
    assert all(r.quality is not None and r.quality.shape == (2,) for r in results)  # judged every epoch
    with Image.open(results.save_gif(str(tmp_path / "epochs.gif"))) as gif:
        assert gif.n_frames == len(results)
