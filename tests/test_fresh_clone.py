"""A fresh clone stays clean: ``./run.sh setup`` leaves ``git status`` empty.

The clone's .venv sees this environment's packages through a .pth file, so
pip has only cnnlive itself to install; npm ci and the editable install run
as they do for a user (with the committed labextension fresh, no rebuild).
"""

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("git") is None, reason="needs git and Node")
def test_setup_leaves_a_fresh_clone_clean(tmp_path):
    clone = tmp_path / "cnnlive"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run([sys.executable, "-m", "venv", str(clone / ".venv")], check=True)
    venv_site = next((clone / ".venv" / "lib").glob("python*/site-packages"))
    (venv_site / "outer.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # this environment's jupyter commands, run by the clone's Python (so they act on the clone's .venv)
    own = clone / ".venv" / "bin" / "python"
    for script in Path(sys.executable).parent.glob("jupyter*"):
        text = script.read_text(errors="replace")
        if text.startswith("#!") and "python" in text.splitlines()[0]:
            shim = clone / ".venv" / "bin" / script.name
            shim.write_text(f"#!{own}\n" + text.split("\n", 1)[1])
            shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(["./run.sh", "setup"], cwd=clone, env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "no rebuild" in done.stdout
    assert _git(clone, "status", "--porcelain") == ""
    link = clone / ".venv" / "share" / "jupyter" / "labextensions" / "cnnlive"
    assert link.resolve() == (clone / "labextension").resolve()  # served from the clone's own build
