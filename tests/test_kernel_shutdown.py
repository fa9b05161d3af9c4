"""Kernel shutdown and restart with jobs running (a real ipykernel through
jupyter_client): cooperative jobs stop gracefully, deaf ones are cancelled,
sync code that never yields cannot hang the shutdown, and the kernel exits
by itself (not killed after jupyter_client's 5 s)."""

import time

import pytest

pytestmark = pytest.mark.slow

JOBS = '''
%load_ext cnnlive
import asyncio, pathlib, time
import cnnlive as cl
out = pathlib.Path({folder!r})

async def coop(ctx):
    while not await ctx.checkpoint():
        await asyncio.sleep(0.01)
    (out / "coop-saved").write_text("ok")

async def deaf(ctx):
    try:
        while True:
            await asyncio.sleep(0.01)
    finally:
        (out / "deaf-ended").write_text("ok")

async def blocked(ctx):
    time.sleep(120)  # sync code that never yields

jobs = [cl.jobs.start(coop), cl.jobs.start(deaf), cl.jobs.start(blocked)]
while any(j.state.value == "pending" for j in jobs):
    time.sleep(0.01)
print("STARTED", [j.state.value for j in jobs])
'''


def _start():
    from jupyter_client import KernelManager

    km = KernelManager(kernel_name="python3")
    km.shutdown_wait_time = 10.0  # SIGTERM after 5 s instead of 2.5 s: room for a loaded CI machine
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc


def _run(kc, code):
    outputs = []
    reply = kc.execute_interactive(code, timeout=60, output_hook=lambda m: outputs.append(m))
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")


@pytest.mark.parametrize("how", ["shutdown", "restart"])
def test_kernel_ends_all_jobs_and_exits_by_itself(tmp_path, how):
    km, kc = _start()
    try:
        assert "STARTED ['running', 'running', 'running']" in _run(kc, JOBS.format(folder=str(tmp_path)))
        process = km.provisioner.process
        t0 = time.monotonic()
        if how == "shutdown":
            km.shutdown_kernel(now=False)
        else:
            km.restart_kernel(now=False)
        took = time.monotonic() - t0
        assert process.wait(10) == 0, "the kernel was killed instead of exiting"
        assert (tmp_path / "coop-saved").exists()  # graceful stop ran
        assert (tmp_path / "deaf-ended").exists()  # the deaf job was cancelled
        assert took < 5  # cnnlive's part is bounded by config.shutdown_timeout (1.5 s)
        if how == "restart":
            kc.wait_for_ready(timeout=60)
            assert "0" in _run(kc, "import cnnlive as cl; print(len(cl.jobs.list()))")
    finally:
        kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)
