import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "" if os.environ.get("CNNLIVE_TEST_GPU") is None else os.environ["CUDA_VISIBLE_DEVICES"])


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """A fresh run folder root for artefacts written by jobs."""
    from cnnlive.jobs import manager

    monkeypatch.setattr(manager(), "runs_root", str(tmp_path / "runs"))
    return tmp_path / "runs"
