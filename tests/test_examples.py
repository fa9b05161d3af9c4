"""Every example notebook runs top to bottom (small settings) without error
and without stderr: none in any cell, none from the kernel process."""

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_example_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIVE_SMALL", "1")
    monkeypatch.setenv("CNNLIVE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(path, as_version=4)
    # IPC transport: over TCP without keys the kernel itself warns on stderr (a jupyter_client matter)
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    kernel_stderr = tmp_path / "kernel-stderr.txt"
    with open(kernel_stderr, "wb") as sink:
        km.start_kernel(cwd=str(tmp_path), stderr=sink)
        try:
            client = NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(tmp_path)}})
            client.execute()
        finally:
            km.shutdown_kernel(now=True)
    outputs = [(c.source[:60], o) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for _, o in outputs if o.output_type == "error"]
    stderr = [(src, o.text) for src, o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, stderr
    assert kernel_stderr.read_text(errors="replace").strip() == ""
