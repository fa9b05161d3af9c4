"""Run every benchmark in one process and print a table (also written to
tests/benchmarks/RESULTS.md). Usage: ./run.sh bench [--quick]"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_dashboard  # noqa: E402
import bench_engines  # noqa: E402
import bench_jobs  # noqa: E402
import bench_own_fit  # noqa: E402
import bench_panel  # noqa: E402


def main() -> None:
    rows: dict[str, str] = {}
    rows.update(bench_jobs.run())
    rows.update(bench_panel.run())
    model = bench_engines._trained()
    rows.update(bench_engines.oip(model))
    rows.update(bench_engines.peers(model))
    rows.update(bench_engines.limit(model))
    rows.update(bench_engines.dream(model))
    rows.update(bench_engines.training())
    rows.update(bench_dashboard.run())
    rows.update(bench_own_fit.run())
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}", "",
             "| benchmark | result |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows.items()]
    text = "\n".join(lines)
    print(text)
    (Path(__file__).resolve().parent / "RESULTS.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
