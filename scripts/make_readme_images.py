"""Render the README's pictures with the same calls the example notebooks make."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
OUT = Path(__file__).resolve().parents[1] / "docs"
os.environ.setdefault("CNNLIVE_RUNS", "/tmp/cnnlive-readme-runs")

import numpy as np  # noqa: E402

import cnnlive as cl  # noqa: E402
from cnnlive.views.grids import pair_figure  # noqa: E402


def judge_pictures(data) -> None:
    """Runs compared, OIPs judged against the test digits, exemplars (issue 17)."""
    runs = []
    for name, convs in (("narrow", ((8, 3, "relu"), (16, 3, "relu"), (32, 3, "relu"))),
                        ("wide", ((32, 3, "relu"), (64, 3, "relu"), (128, 3, "relu")))):
        j = cl.train(cl.models.simple_cnn(convs=convs, name=name), data, epochs=6, batch_size=32, name=name)
        j.wait()
        runs.append(j)
    third = cl.train(cl.models.simple_cnn(name="third"), data, epochs=6, batch_size=32, name="third")
    view = cl.compare(third, runs[0].run_dir, runs[1].run_dir, metrics=["loss", "accuracy"])
    third.wait()
    view.save(str(OUT / "compare.png"))
    model = runs[1].result.model
    early = cl.oip(model, layer="Conv2D_3", maps=list(range(16)), steps=40, data=data)
    early.wait()
    cl.oip_grid(early.result, cols=8, title="Conv2D_3 OIPs after 40 steps, judged against the test digits "
                "(red: quality < 1, the OIP does not beat the best digit)").savefig(OUT / "oip-quality.png", dpi=110)
    o = cl.oip(model, layer="Conv2D_3", maps=list(range(16)), steps=300, data=data)
    o.wait()
    maps = [int(o.result.maps[i]) for i in np.argsort(-o.result.data_best)[:4]]  # the maps digits drive most
    ex = cl.exemplars(model, data, "Conv2D_3", maps=maps, k=8, oip=o)
    ex.figure.savefig(OUT / "exemplars.png", dpi=110)


def main_pictures(data) -> None:
    model = cl.models.simple_cnn()
    job = cl.train(model, data, epochs=6, batch_size=32, plot=True)  # live view (Agg): keeps the resource history
    job.wait()
    job.save_plots(str(OUT / "tmp"))
    (OUT / "tmp" / f"job{job.id}-train-0.png").rename(OUT / "dashboard.png")
    cl.activation_grid(model, data.x_test[0], layer="Conv2D_1").savefig(OUT / "activation-grid.png", dpi=110)
    o = cl.oip(model, layer="Conv2D_3", maps=list(range(16)), steps=300)
    o.wait()
    pair_figure(o.result.grid(), o.result.grid(contrast=True), "Conv2D_3 maps 0-15").savefig(OUT / "oip.png", dpi=110)
    o.save_plots(str(OUT / "tmp"))  # the live OIP view: evolution, objective per pattern, best patterns
    (OUT / "tmp" / f"job{o.id}-oip-0.png").rename(OUT / "oip-evolution.png")
    o.result.save_gif(str(OUT / "oip-evolution.gif"))
    d = cl.dream(model, layer="Conv2D_3", maps=56, iterations=4, levels=2)
    d.wait()
    pair_figure(d.result.image, d.result.contrast(), "dream, map 56").savefig(OUT / "dream.png", dpi=110)
    d.save_plots(str(OUT / "tmp"))  # the live dream view: original, current stage, contrast, all stages
    (OUT / "tmp" / f"job{d.id}-dream-0.png").rename(OUT / "dream-view.png")
    d.result.save_stages(str(OUT / "dream-stages.png"), cols=5, side=192)
    for f in (OUT / "tmp").glob("*"):
        f.unlink()
    (OUT / "tmp").rmdir()


data = cl.data.load("digits")
if sys.argv[1:] != ["judge"]:  # `python scripts/make_readme_images.py judge` renders only issue 17's pictures
    main_pictures(data)
judge_pictures(data)
print("wrote", sorted(p.name for p in OUT.glob("*.png")))
