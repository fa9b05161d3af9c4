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


def test_a_copy_fed_with_changes_keeps_every_series_equal_through_downsampling():
    """Channels.changes/apply keep a copy (the drawing helper's) equal to the
    original, across down-sampling, new names and rounds with nothing new;
    the latest metrics go along as plain values only."""
    import random

    original, copy = Channels(metric_cap=16), Channels(metric_cap=16)
    marks: dict = {}
    rng = random.Random(1)
    step = 0
    for round_ in range(40):
        for _ in range(rng.choice([0, 1, 3, 9])):
            step += 1
            value = {"loss": rng.random(), "step": step, "note": object()}
            if step > 30:
                value["accuracy"] = rng.random()
            original.publish("metrics", value)
        if round_ % 7 == 0:
            original.publish("metrics", {"scope": "epoch", "loss": rng.random(), "step": round_})
        copy.apply(original.changes(marks))
        for scope in ("batch", "epoch"):
            assert copy.history(scope) == original.history(scope), (round_, scope)
    assert original.batch._stride["loss"] > 1  # it did down-sample on the way
    latest = copy.latest("metrics")
    assert "note" not in latest and latest["loss"] == original.latest("metrics")["loss"]
