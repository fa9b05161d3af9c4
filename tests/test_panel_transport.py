"""PanelTransport under threads and faults: its shared state is guarded, a
snapshot is never followed by an older card, a broken card is reported once
and never stops the others. The comm is the only thing faked (a recorder)."""

import asyncio
import logging
import threading
import time

from cnnlive import jobs
from cnnlive.jobs import JobState
from cnnlive.views.panel_transport import PanelTransport


async def idle(ctx):
    ctx.publish("metrics", {"loss": 1.0})
    while True:
        await asyncio.sleep(0.01)


def running(mgr, n=1):
    js = [mgr.start(idle) for _ in range(n)]
    for j in js:
        deadline = time.monotonic() + 10
        while j.state is not JobState.RUNNING:
            assert time.monotonic() < deadline
            time.sleep(0.002)
    return js


def panel_view(messages):
    """What a panel shows after these messages: the last card per job."""
    cards = {}
    for msg in messages:
        if msg["type"] == "snapshot":
            cards = {c["id"]: c for c in msg["jobs"]}
        elif msg["type"] == "job":
            cards[msg["job"]["id"]] = msg["job"]
        elif msg["type"] == "removed":
            cards.pop(msg["id"], None)
    return cards


class SpyLock:
    def __init__(self, on_contended):
        self._lock, self._on_contended = threading.RLock(), on_contended

    def __enter__(self):
        if not self._lock.acquire(blocking=False):
            self._on_contended()
            self._lock.acquire()
        return self

    def __exit__(self, *exc):
        self._lock.release()


def test_snapshot_from_another_thread_is_never_followed_by_an_older_card():
    mgr = jobs.JobManager()
    (job,) = running(mgr)
    messages, in_send, release, go = [], threading.Event(), threading.Event(), threading.Event()
    pump_thread = []

    def send(msg, buffers):
        if threading.current_thread() in pump_thread and msg["type"] == "job" and not in_send.is_set():
            in_send.set()
            assert release.wait(10)
        messages.append(msg)

    transport = PanelTransport(mgr, send)
    transport.lock = SpyLock(on_contended=go.set)
    pumper = threading.Thread(target=transport.pump)
    pump_thread.append(pumper)
    pumper.start()
    assert in_send.wait(10)  # the pump holds a 'running' card in flight
    job.cancel()
    assert job.wait(10) is JobState.CANCELLED

    def snapshot():
        transport.send_snapshot(messages.append)
        go.set()

    snapper = threading.Thread(target=snapshot)
    snapper.start()
    assert go.wait(10)  # the snapshot either waits for the pump (lock) or is done
    release.set()
    pumper.join(10)
    snapper.join(10)
    transport.pump(now=time.monotonic() + 1)
    assert panel_view(messages)[job.id]["state"] == "cancelled"


def test_pump_and_snapshots_from_two_threads_keep_the_last_state():
    mgr = jobs.JobManager()
    js = running(mgr, 3)
    messages, lock = [], threading.Lock()

    def send(msg, buffers):
        with lock:
            messages.append(msg)

    transport = PanelTransport(mgr, send, rate_hz=1000, tick=0.001)
    transport.start()
    stop = threading.Event()

    def snapshots():
        while not stop.is_set():
            transport.send_snapshot(lambda m: send(m, []))

    snapper = threading.Thread(target=snapshots)
    snapper.start()
    for j in js:
        j.cancel()
        j.wait(10)
    mgr.remove(js[0])
    stop.set()
    snapper.join(10)
    transport.close()
    transport.pump(now=time.monotonic() + 1)
    view = panel_view(messages)
    assert js[0].id not in view
    assert [view[j.id]["state"] for j in js[1:]] == ["cancelled", "cancelled"]


def test_broken_card_is_reported_once_and_other_cards_go_on(caplog):
    mgr = jobs.JobManager()
    good, bad = running(mgr, 2)

    def broken(*a, **k):
        raise RuntimeError("corrupt history")

    bad.channels.values = broken  # the sparkline read fails for this job only
    messages = []
    transport = PanelTransport(mgr, lambda m, b: messages.append(m))
    caplog.set_level(logging.WARNING, logger="cnnlive")
    snap = transport.snapshot()
    assert [c["id"] for c in snap["jobs"]] == [good.id]
    for i in range(5):
        good.channels.publish("metrics", {"loss": float(i)})
        bad.channels.publish("metrics", {"loss": float(i)})
        transport.pump(now=time.monotonic() + i + 1)
    good_cards = [m for m in messages if m["type"] == "job" and m["job"]["id"] == good.id]
    assert len(good_cards) == 5 and good_cards[-1]["job"]["metrics"]["loss"] == 4.0
    assert not [m for m in messages if m["type"] == "job" and m["job"]["id"] == bad.id]
    reports = [r for r in caplog.records if "card of job" in r.getMessage()]
    assert len(reports) == 1 and f"job {bad.id}" in reports[0].getMessage()
    assert sum("panel: the card of this job failed" in line for line in bad.log().splitlines()) == 1
    for j in (good, bad):
        j.cancel()


def test_unrenderable_image_is_reported_once_and_card_still_goes(caplog):
    mgr = jobs.JobManager()
    (job,) = running(mgr)
    messages = []
    transport = PanelTransport(mgr, lambda m, b: messages.append(m))
    caplog.set_level(logging.WARNING, logger="cnnlive")
    for i in range(3):
        job.channels.publish("images", {"image": "not an image", "caption": str(i)})
        transport.pump(now=time.monotonic() + i + 1)
    cards = [m for m in messages if m["type"] == "job"]
    assert len(cards) == 3 and not any("image" in m for m in cards)
    assert len([r for r in caplog.records if "image of job" in r.getMessage()]) == 1
    job.cancel()


def test_a_card_keeps_its_epoch_when_the_latest_row_is_an_epoch_row():
    """Between epochs (a job paused at the boundary) the newest row is the
    epoch's, which carries no epoch number: the card reads the last batch's."""
    from cnnlive.events.channels import point
    from cnnlive.views.panel_transport import card

    async def between_epochs(ctx):
        ctx.publish("metrics", point({"loss": 1.0, "epoch": 2.0, "epochs": 5}, 30, "batch"))
        ctx.publish("metrics", point({"loss": 0.9, "val_loss": 1.1}, 3, "epoch"))
        while True:
            await asyncio.sleep(0.01)

    mgr = jobs.JobManager()
    try:
        job = mgr.start(between_epochs)
        deadline = time.monotonic() + 10
        while job.channels.last("loss", "epoch") is None:
            assert time.monotonic() < deadline
            time.sleep(0.002)
        shown = card(job.watch())
        assert shown["epoch"]["current"] == 3 and shown["metrics"]["val_loss"] == 1.1
    finally:
        mgr.stop_all(timeout=5)
