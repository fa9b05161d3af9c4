"""Desktop windows (``%matplotlib tk`` and ``%matplotlib qt``) in a real
IPython kernel under Xvfb: the live dashboard changes on screen while the
notebook is idle, survives a busy cell, and only the GUI thread draws it."""

import hashlib
import os
import queue
import shutil
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow

SAMPLE = ("print(hashlib.md5(np.asarray(view.canvas.get_renderer().buffer_rgba()).tobytes()).hexdigest(), "
          "view.frames, job.state.value)")


@pytest.fixture(scope="module")
def xvfb():
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (./run.sh setup installs Debian's xvfb)")
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                            pass_fds=[w], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        display = ":" + f.readline().strip()
    yield display
    proc.terminate()
    proc.wait(10)


class Kernel:
    """A jupyter_client kernel; ``run`` returns (stdout, stderr, errors) of a cell."""

    def __init__(self, display, tmp_path):
        from jupyter_client.manager import KernelManager

        env = dict(os.environ, DISPLAY=display, CNNLIVE_RUNS=str(tmp_path / "runs"), MPLBACKEND="")
        env.pop("MPLBACKEND")
        self.km = KernelManager(kernel_cmd=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"])
        self.km.start_kernel(env=env, cwd=str(tmp_path))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)

    def run(self, code, timeout=300):
        out, err, errors = [], [], []
        print(f"{time.strftime('%X')} run {code[:60]!r}", file=sys.stderr, flush=True)
        msg_id = self.kc.execute(code)
        deadline = quiet = time.monotonic()
        deadline += timeout
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no end of {code[:60]!r} in {timeout} s")
            try:
                msg = self.kc.get_iopub_msg(timeout=1)
            except queue.Empty:
                if time.monotonic() - quiet > 10:
                    # ipykernel's Tk loop waits on the shell socket's edge-triggered descriptor and now
                    # and then misses a wake-up after a busy cell; any new request wakes it
                    print(f"{time.strftime('%X')} no output for 10 s: nudging the kernel", file=sys.stderr, flush=True)
                    self.kc.kernel_info()
                    quiet = time.monotonic()
                continue
            quiet = time.monotonic()
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "stream":
                (out if content["name"] == "stdout" else err).append(content["text"])
            elif kind == "error":
                errors.append("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                break
        return "".join(out), "".join(err), errors

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def _screen(display):
    shot = subprocess.run(["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True)
    return hashlib.md5(shot.stdout).hexdigest()


def _samples(kernel, seconds, display):
    """Window content (canvas buffer and X screen) every 0.5 s for ``seconds``."""
    canvas, screen = [], []
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        asked = time.monotonic()
        out, err, errors = kernel.run(SAMPLE, timeout=60)
        assert not errors and not err, (err, errors)
        if time.monotonic() - asked > 2.0:  # the kernel's GUI loop missed a wake-up (see Kernel.run):
            t_end += time.monotonic() - asked  # that wait was not idle time the window could use
        canvas.append(out.split()[0])
        if shutil.which("xwd"):
            screen.append(_screen(display))
        time.sleep(0.5)
    return canvas, screen


def _changes(seq):
    return sum(1 for a, b in zip(seq, seq[1:]) if a != b)


@pytest.mark.parametrize("gui", ["tk", "qt"])
def test_desktop_window_updates_idle_and_survives_busy_cell(gui, xvfb, tmp_path):
    if gui == "qt":
        pytest.importorskip("PyQt6.QtWidgets", reason="PyQt6 is in the test extra")
    kernel = Kernel(xvfb, tmp_path)
    try:
        out, err, errors = kernel.run(f"%matplotlib {gui}\nimport matplotlib; print(matplotlib.get_backend())")
        assert not errors, errors
        assert out.strip().lower().startswith(gui), out
        out, err, errors = kernel.run(
            "import hashlib, threading, numpy as np\nimport cnnlive as cl\n"
            "model = cl.models.simple_cnn()\n"
            "job = cl.train(model, 'digits', epochs=500, batch_size=16, save=False, plot=True, name='desk')\n"
            "view = job.views[-1]\nthreads = set()\n_step = view.step\n"
            "def _recorded():\n    threads.add(threading.current_thread() is threading.main_thread())\n    return _step()\n"
            "view.step = _recorded\nprint(view.push.kind)")
        assert not errors, errors
        assert out.split()[-1] == "gui"
        # the first frames come once the kernel is idle and the job has batches
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            out, _, _ = kernel.run(SAMPLE)
            if int(out.split()[1]) >= 2:
                break
            time.sleep(0.5)
        canvas, screen = _samples(kernel, 5, xvfb)
        assert _changes(canvas) >= 2, canvas
        if screen:
            assert _changes(screen) >= 2, "the window on the X screen did not change"
        out, err, errors = kernel.run("import time\ntime.sleep(4)\nprint('slept', job.state.value)")
        assert out.strip() == "slept running" and not err and not errors, (out, err, errors)
        canvas, _ = _samples(kernel, 3, xvfb)
        assert _changes(canvas) >= 1, canvas  # caught up after the busy cell
        out, err, errors = kernel.run(
            "print(threads, view.timer is not None, 'live figure stopped' in job.log(), view._drawn_elsewhere)\n"
            "job.stop(); print(job.wait(60).value)")
        assert not errors and not err, (err, errors)
        # every frame on the GUI thread; the pixels came from the drawing helper process
        assert out.split() == ["{True}", "True", "False", "True", "stopped"], out
    finally:
        kernel.close()
