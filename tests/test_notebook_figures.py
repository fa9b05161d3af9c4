"""A training + OIP + dream notebook with ``%matplotlib widget`` in a real
kernel (nbclient): exactly one figure per ``plot=True`` cell and per
``job.plot()`` call, and no stderr anywhere (TensorFlow's import noise goes to
logging, not into the cells)."""

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

WIDGET = "application/vnd.jupyter.widget-view+json"

CELLS = [
    "%matplotlib widget\n%load_ext cnnlive\nimport cnnlive as cl\nimport logging\n"
    "seen = []\nnote = logging.Handler(logging.INFO)\nnote.emit = lambda r: seen.append(r.getMessage())\n"
    "logging.getLogger('cnnlive').addHandler(note)\nlogging.getLogger('cnnlive').setLevel(logging.INFO)\n"
    "logging.getLogger('cnnlive').propagate = False  # INFO for this handler only (absl gives root a stderr handler)",
    "model = cl.models.simple_cnn()\njob = cl.train(model, 'digits', epochs=2, batch_size=64, plot=True, name='nb')",
    "print(job.wait(600).value)",
    "search = cl.oip(job, layer='Conv2D_3', maps=[0, 1], steps=60, plot=True)",
    "import time\nstate, t0 = search.wait(600).value, time.monotonic()\n"
    "while not search.views[-1].frames and time.monotonic() - t0 < 60:  # the renderer may still be on the last view\n"
    "    time.sleep(0.1)\nprint(state, search.views[-1].frames > 0)",
    "again = job.plot()",
    "dream = cl.dream(job, layer='Conv2D_2', maps=3, iterations=1, steps=5, size=112, plot=True)\n"
    "print(dream.wait(600).value)",
    "print(any('oneDNN' in m or 'cuInit' in m or 'cuda' in m for m in seen))",
]
PLOT_CELLS = (1, 3, 5, 6)


def test_one_figure_per_plot_and_clean_cells(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIVE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [c.get("outputs", []) for c in nb.cells]
    errors = [o for out in outputs for o in out if o.output_type == "error"]
    assert not errors, errors
    stderr = {i: o.text for i, out in enumerate(outputs) for o in out
              if o.output_type == "stream" and o.name == "stderr"}
    assert not stderr, stderr
    for i in PLOT_CELLS:
        widgets = [o for o in outputs[i] if o.output_type == "display_data" and WIDGET in o.get("data", {})]
        assert len(widgets) == 1, (i, CELLS[i], outputs[i])
    text = lambda i: "".join(o.get("text", "") for o in outputs[i] if o.output_type == "stream")  # noqa: E731
    assert text(2).split() == ["completed"]
    assert text(4).split() == ["completed", "True"]
    assert text(6).split() == ["completed"]
    assert text(7).split() == ["True"]  # TensorFlow's import lines went to logging.getLogger("cnnlive")
