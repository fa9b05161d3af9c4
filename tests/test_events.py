import pytest

from cnnlive.events import Channels, MetricHistory


def test_history_downsamples_past_cap_and_keeps_order():
    h = MetricHistory(cap=100)
    for i in range(100_000):
        h.add("loss", i, float(i))
    s = h.series("loss")
    assert len(s) <= 100
    steps = [p[0] for p in s]
    assert steps == sorted(steps) and steps[0] == 0
    assert steps[-1] > 90_000  # covers the whole run
    assert h.count("loss") == 100_000


def test_latest_value_wins_and_log_is_bounded():
    c = Channels(log_lines=10)
    for i in range(50):
        c.publish("images", i)
        c.publish("log", f"line {i}\n")
    assert c.latest("images") == 49
    lines = c.log_lines()
    assert len(lines) == 10 and lines[-1] == "line 49"


def test_metrics_split_by_scope():
    c = Channels()
    c.publish("metrics", {"loss": 1.0, "step": 0})
    c.publish("metrics", {"loss": 0.5, "step": 1})
    c.publish("metrics", {"loss": 0.7, "val_loss": 0.8, "scope": "epoch", "step": 1})
    assert c.history("batch")["loss"] == [1.0, 0.5]
    assert c.history("epoch")["val_loss"] == [0.8]


def test_unknown_channel_names_the_valid_ones():
    with pytest.raises(ValueError, match="status, metrics, images, log"):
        Channels().publish("video", 1)
