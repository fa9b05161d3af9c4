"""Desktop windows (``%matplotlib tk`` and ``%matplotlib qt``) in a real
IPython kernel under Xvfb: the live dashboard changes on screen while the
notebook is idle, survives a busy cell, and only the GUI thread draws it.
The client sends nothing but the cells (no nudges): a cell that never goes
idle fails the test, with a ``py-spy dump`` of the kernel when py-spy is
installed. The whole sequence runs 5 times per backend."""

import hashlib
import re
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
        deadline = time.monotonic() + timeout
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no end of {code[:60]!r} in {timeout} s\n{self.dump()}")
            try:
                msg = self.kc.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
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

    def dump(self):
        """Every thread's stack of the kernel (py-spy, when installed)."""
        spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
        if not os.path.exists(spy):
            return "(py-spy is not installed: no stack dump)"
        pid = self.km.provisioner.process.pid
        done = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=60)
        return done.stdout + done.stderr

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def _screen(display):
    shot = subprocess.run(["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True)
    return hashlib.md5(shot.stdout).hexdigest()


def _samples(kernel, seconds, display):
    """Window content (canvas buffer and X screen) every 0.5 s for ``seconds``;
    each sampling cell must end within 20 s (an idle kernel answers at once)."""
    canvas, screen = [], []
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        out, err, errors = kernel.run(SAMPLE, timeout=20)
        assert not errors and not err, (err, errors)
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
    for attempt in range(REPEATS):  # the same sequence, a fresh kernel each time, no nudges
        print(f"{time.strftime('%X')} {gui}: sequence {attempt + 1} of {REPEATS}", file=sys.stderr, flush=True)
        _sequence(gui, xvfb, tmp_path / f"run{attempt}")


REPEATS = 5


def _sequence(gui, xvfb, tmp_path):
    tmp_path.mkdir()
    kernel = Kernel(xvfb, tmp_path)
    try:
        out, err, errors = kernel.run("%load_ext cnnlive")
        assert not errors and not err, (err, errors)
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
        canvas, screen = _samples(kernel, 9, xvfb)
        assert _changes(canvas) >= 2, canvas
        if screen:
            assert _changes(screen) >= 2, "the window on the X screen did not change"
        out, err, errors = kernel.run("import time\ntime.sleep(4)\nprint('slept', job.state.value)")
        assert out.strip() == "slept running" and not err and not errors, (out, err, errors)
        canvas, _ = _samples(kernel, 5, xvfb)
        assert _changes(canvas) >= 1, canvas  # caught up after the busy cell
        out, err, errors = kernel.run(
            "print(threads, view.timer is not None, 'live figure stopped' in job.log(), view._drawn_elsewhere)\n"
            "job.stop(); print(job.wait(60).value)")
        assert not errors and not err, (err, errors)
        # every frame on the GUI thread; the pixels came from the drawing helper process
        assert out.split() == ["{True}", "True", "False", "True", "stopped"], out
    finally:
        kernel.close()


def test_plain_ipython_in_a_terminal_keeps_answering_with_a_tk_window(xvfb, tmp_path):
    """Plain IPython (prompt_toolkit's input hook runs Tk) in a pseudo terminal:
    the live window draws while the prompt waits, every line gets its prompt
    back, and the job stops."""
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, DISPLAY=xvfb, CNNLIVE_RUNS=str(tmp_path / "runs"), TERM="dumb")
    env.pop("MPLBACKEND", None)
    ipython = os.path.join(os.path.dirname(sys.executable), "ipython")
    child = pexpect.spawn(ipython, ["--simple-prompt", "--no-banner", "--colors=NoColor"], env=env,
                          cwd=str(tmp_path), encoding="utf-8", timeout=120)
    prompt = r"In \[\d+\]: "

    def line(code, timeout=120):
        child.sendline(code)
        child.expect(prompt, timeout=timeout)  # a prompt that never comes fails here
        return child.before

    try:
        child.expect(prompt)
        line("%matplotlib tk")
        line("import cnnlive as cl, time")
        line("job = cl.train(cl.models.simple_cnn(), 'digits', epochs=500, batch_size=16, save=False, plot=True)",
             timeout=180)
        line("view = job.views[-1]")
        first = int(re.findall(r"FRAMES (\d+)", line("print('FRAMES', view.frames)"))[-1])
        deadline = time.monotonic() + 60
        frames = first
        while frames < first + 3 and time.monotonic() < deadline:
            time.sleep(1.0)  # the prompt waits: prompt_toolkit's input hook runs Tk's loop
            frames = int(re.findall(r"FRAMES (\d+)", line("print('FRAMES', view.frames)"))[-1])
        assert frames >= first + 3, (first, frames)
        out = line("job.stop(); print('STATE', job.wait(60).value)")
        assert "STATE stopped" in out, out
        child.sendline("exit")
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close(force=True)
