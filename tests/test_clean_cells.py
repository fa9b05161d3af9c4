"""A notebook as a new user writes it, in a real kernel run by nbclient, with
a second client that does what the CNN Live panel does (opens the ``cnnlive``
comm on its own subshell, asks for the saved runs when a job ends): no cell
writes to stderr, the OIP grid shows exactly one figure in its cell, the
status table one output, and TensorFlow's retracing warning never shows."""

import threading
import time
import uuid

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

CELLS = [
    "%matplotlib widget",
    "%load_ext cnnlive\nimport cnnlive as cl",
    "import tensorflow as tf\nimport numpy as np",
    "data = cl.data.load('digits')\nmodel = cl.models.simple_cnn()\n"
    "model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])\n"
    "h = model.fit(data.x_train[:256], data.y_train[:256], epochs=1, batch_size=64, verbose=0)",
    "o = cl.oip(model, 'Conv2D_2', [0, 1, 2], steps=20)\no.wait()\ncl.oip_grid(o.result)",
    "for i in range(12):\n    cl.oip(model, 'Conv2D_2', list(range(1 + i % 4)), steps=4 + i,\n"
    "           objective=['map', 'layer'][i % 2]).wait()",
    "cl.jobs.status()",
    "j = cl.train(model, data, epochs=1, batch_size=64, plot=True, save=False)\nj.wait()\nprint(j.state.value)",
    "cl.activation_grid(model, data.x_test[0], 'Conv2D_1')",
    "print('before')\nex = cl.exemplars(model, data, 'Conv2D_2', [0, 1], k=4)\nprint('after')",
    "view = cl.compare(j)\nprint(view.metrics)",
]
GRID, SEARCHES, STATUS, LIVE, ACTIVATIONS, EXEMPLARS, COMPARE = 4, 5, 6, 7, 8, 9, 10


class Panel(threading.Thread):
    """The side panel's part of the protocol, from a second client: its own
    subshell, the comm opened there, a runs request whenever a card turns
    finished (as ``src/model.ts`` does)."""

    def __init__(self, km):
        super().__init__(daemon=True)
        from jupyter_client.blocking import BlockingKernelClient
        from jupyter_client.session import Session

        # a front end of its own: its own session id (km.client() copies the notebook client's,
        # and two clients counting msg_ids from 0 under one session id send duplicate ids)
        self.kc = BlockingKernelClient()
        self.kc.load_connection_info(km.get_connection_info())
        self.kc.session = Session(key=km.session.key, signature_scheme=km.session.signature_scheme)
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        msg = self.kc.session.msg("create_subshell_request", {})
        self.kc.control_channel.send(msg)
        reply = self.kc.control_channel.get_msg(timeout=30)
        assert reply["content"]["status"] == "ok", reply
        self.subshell = reply["content"]["subshell_id"]
        self.comm_id = uuid.uuid4().hex
        self._send("comm_open", {"comm_id": self.comm_id, "target_name": "cnnlive",
                                 "data": {"type": "hello", "protocol": self._protocol()}})
        self.finished, self.answers, self.done = set(), 0, threading.Event()

    @staticmethod
    def _protocol():
        from cnnlive.protocol import PROTOCOL_VERSION

        return PROTOCOL_VERSION

    def _send(self, kind, content):
        msg = self.kc.session.msg(kind, content)
        msg["header"]["subshell_id"] = self.subshell
        self.kc.shell_channel.send(msg)

    def run(self):
        while not self.done.is_set():
            try:
                msg = self.kc.get_iopub_msg(timeout=0.5)
            except Exception:  # noqa: BLE001 - queue.Empty
                continue
            if msg["header"]["msg_type"] != "comm_msg" or msg["content"].get("comm_id") != self.comm_id:
                continue
            data = msg["content"]["data"]
            cards = data.get("jobs", []) if data.get("type") == "snapshot" else \
                [data["job"]] if data.get("type") == "job" else []
            if data.get("type") == "runs":
                self.answers += 1
            for card in cards:
                if card["state"] in ("completed", "stopped", "cancelled", "failed") and card["id"] not in self.finished:
                    self.finished.add(card["id"])
                    self._send("comm_msg", {"comm_id": self.comm_id, "data": {
                        "type": "request", "request_id": f"runs-{card['id']}", "action": "runs"}})

    def close(self):
        self.done.set()
        self.join(5)
        self.kc.stop_channels()


def _figures(outputs):
    return [o for o in outputs if o["output_type"] in ("display_data", "execute_result")
            and ("application/vnd.jupyter.widget-view+json" in o["data"] or "image/png" in o["data"])]


def test_a_user_notebook_stays_clean_with_the_panel_open(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIVE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path))
    panel = None
    try:
        client = NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(tmp_path)}})
        with client.setup_kernel():
            for i, cell in enumerate(nb.cells):
                client.execute_cell(cell, i)
                if i == 1:  # the panel connects once cnnlive's comm target exists
                    panel = Panel(km)
                    panel.start()
        deadline = time.monotonic() + 30
        while panel.answers < len(panel.finished) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(panel.finished) >= 14 and panel.answers >= len(panel.finished), (panel.finished, panel.answers)
    finally:
        if panel is not None:
            panel.close()
        km.shutdown_kernel(now=True)
    for i, cell in enumerate(nb.cells):
        stderr = [o["text"] for o in cell.outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
        assert not stderr, (CELLS[i], stderr)
        assert not [o for o in cell.outputs if o["output_type"] == "error"], (CELLS[i], cell.outputs)
        assert "retracing" not in str(cell.outputs), (CELLS[i], cell.outputs)
    for index, count in ((GRID, 1), (SEARCHES, 0), (LIVE, 1), (ACTIVATIONS, 1), (EXEMPLARS, 1), (COMPARE, 1)):
        shown = [(o["output_type"], sorted(o.get("data", {}))) for o in nb.cells[index].outputs]
        assert len(_figures(nb.cells[index].outputs)) == count, (CELLS[index], shown)
    status = nb.cells[STATUS].outputs
    assert len(status) == 1 and "<table>" in status[0]["data"]["text/html"], status
    assert "completed" in status[0]["data"]["text/plain"]
