"""Cost of the live dashboard on training throughput, in a real kernel.

A kernel (nbclient) trains the same small CNN on Fashion-MNIST in the
background, alternating ``plot=False`` and ``plot=True``, while the notebook
is idle (the client runs a one-line cell every 3 s to see whether the job
ended). Once with ``%matplotlib widget`` (ipympl; frames by the
renderer thread) and once with ``%matplotlib tk`` under Xvfb (frames by a Tk
timer on the kernel's main thread). Throughput is the job's own samples per
second from start to end of training; runs last long enough (64,000 samples,
25 s or more here) that the first frames' fixed cost fades. Each dashboard run is compared with
the plain runs next to it (the VM drifts). Dashboards are drawn by the helper
process (``--in-kernel``: by the kernel, as before it). Usage:
``python bench_dashboard.py [--backend widget] [--rounds 8] [--in-kernel]``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

SETUP = """import json, time
import cnnlive as cl
data = cl.data.load('fashion_mnist', limit={n}, download=False)
model = cl.models.simple_cnn()
cl.train(model, data, epochs=1, batch_size=64, save=False, validation=False).wait()  # warm-up (compile)
"""
START = """model = cl.models.simple_cnn()
job = cl.train(model, data, epochs={epochs}, batch_size=64, save=False, validation=False, plot={plot})
"""
RESULT = """t = job.finished - job.started
v = job.views[-1] if job.views else None
print(json.dumps({{"rate": {n} * {epochs} / t, "seconds": t, "frames": v.frames if v else 0,
                  "no_front_end": bool(getattr(v and v.canvas, "syncing_data_url", False))}}))
"""


def _front_end_handshake(client: Any, comm_id: str) -> None:
    """Play JupyterLab's part for an ipympl figure: its view says
    "initialized" (at a device pixel ratio of 1), after which frames go out
    through ipympl's ``send_binary``, as they do to a browser that has
    answered."""
    content = {"comm_id": comm_id, "data": {"method": "custom", "content": {"type": "initialized"}}}
    client.kc.shell_channel.send(client.kc.session.msg("comm_msg", content))


def _kernel_runs(backend: str, n: int, epochs: int, rounds: int, env: dict[str, str]) -> list[tuple[str, dict]]:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    client = NotebookClient(nb, timeout=1800, kernel_name="python3")
    results: list[tuple[str, dict]] = []  # in the order run
    old = dict(os.environ)
    os.environ.update(env)
    try:
        with client.setup_kernel():
            def run(code: str) -> str:
                cell = nbformat.v4.new_code_cell(code)
                nb.cells.append(cell)
                client.execute_cell(cell, len(nb.cells) - 1)
                errors = [o for o in cell.outputs if o.output_type == "error"]
                if errors:
                    raise RuntimeError("\n".join(errors[0]["traceback"]))
                return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")

            run(f"%matplotlib {backend}")
            run(SETUP.format(n=n))
            for label in ["plain", "dashboard", "dashboard", "plain"] * (rounds // 2):
                run(START.format(epochs=epochs, plot=label == "dashboard"))
                if label == "dashboard" and backend == "widget":
                    _front_end_handshake(client, run("print(job.views[-1].canvas.comm.comm_id)").strip())
                while run("print(job.done)").strip() != "True":  # an idle notebook: the GUI timer runs
                    time.sleep(3)
                results.append((label, json.loads(run(RESULT.format(n=n, epochs=epochs)).strip().splitlines()[-1])))
                print(f"  {backend} {label}: {results[-1][1]['rate']:.0f} samples/s", file=sys.stderr, flush=True)
                run("import matplotlib.pyplot as plt; plt.close('all')")
    finally:
        os.environ.clear()
        os.environ.update(old)
    return results


def _xvfb() -> tuple[subprocess.Popen, str] | None:
    if shutil.which("Xvfb") is None:
        return None
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                            pass_fds=[w], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        return proc, ":" + f.readline().strip()


def _costs(results: list[tuple[str, dict]]) -> list[float]:
    """Each dashboard run's cost against the plain runs next to it (the
    mean of the nearest before and after): the VM's speed drifts, so runs
    are compared with their neighbours, not with a global median."""
    costs = []
    for i, (label, r) in enumerate(results):
        if label != "dashboard":
            continue
        before = next((p["rate"] for lab, p in reversed(results[:i]) if lab == "plain"), None)
        after = next((p["rate"] for lab, p in results[i + 1:] if lab == "plain"), None)
        near = [v for v in (before, after) if v is not None]
        costs.append(1 - r["rate"] / statistics.mean(near))
    return costs


def run(n: int = 8000, epochs: int = 8, rounds: int = 4, backends: tuple[str, ...] = ("widget", "tk"),
        helper: bool = True) -> dict[str, str]:
    env = {"CUDA_VISIBLE_DEVICES": "", "CNNLIVE_RUNS": tempfile.mkdtemp(prefix="bench-runs-"),
           "CNNLIVE_RENDER_PROCESS": "1" if helper else "0"}
    os.environ.pop("MPLBACKEND", None)
    rows: dict[str, str] = {}
    x = _xvfb() if "tk" in backends else None
    if x is None:
        backends = tuple(b for b in backends if b != "tk")
    else:
        env_tk = dict(env, DISPLAY=x[1])
    try:
        for backend in backends:
            res = _kernel_runs(backend, n, epochs, rounds, env_tk if backend == "tk" else env)
            dashboard = [r for label, r in res if label == "dashboard"]
            assert not any(r["no_front_end"] for r in dashboard), "frames must go to a front end"
            plain = statistics.median(r["rate"] for label, r in res if label == "plain")
            dash = statistics.median(r["rate"] for r in dashboard)
            costs = _costs(res)
            fps = statistics.median(r["frames"] / r["seconds"] for r in dashboard)
            secs = statistics.median(r["seconds"] for _, r in res)
            name = {"widget": "ipympl (%matplotlib widget)", "tk": "Tk (%matplotlib tk, Xvfb)"}[backend]
            name += "" if helper else ", drawn in the kernel"
            rows[f"live dashboard in a real kernel, {name}: samples/s without / with (runs of ~{secs:.0f} s, "
                 f"medians of {len(res) - len(dashboard)}+{len(dashboard)})"] = f"{plain:.0f} / {dash:.0f}"
            rows[f"live dashboard cost, {name}: throughput (median, range over runs vs their neighbours) / "
                 "frames per second"] = (f"{100 * statistics.median(costs):.1f} % ({100 * min(costs):.1f} .. "
                                         f"{100 * max(costs):.1f}) / {fps:.1f} fps")
    finally:
        if x is not None:
            x[0].terminate()
    return rows


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["widget", "tk"], action="append", help="default: both")
    parser.add_argument("--rounds", type=int, default=4, help="plain and dashboard runs each (even)")
    parser.add_argument("--in-kernel", action="store_true", help="draw in the kernel, not the helper process")
    args = parser.parse_args()
    if args.rounds < 2 or args.rounds % 2:
        parser.error("--rounds must be even and at least 2")
    for k, v in run(rounds=args.rounds, backends=tuple(args.backend or ("widget", "tk")),
                    helper=not args.in_kernel).items():
        print(f"| {k} | {v} |")
