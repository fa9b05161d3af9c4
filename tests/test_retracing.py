"""One compiled ascent per model layer: OIPs with different map lists, step
counts, objectives and step sizes on one model reuse it (no tf.function
retracing, nothing printed)."""

import logging

import numpy as np
import pytest

from cnnlive.engines.oip.ascent import traces
from cnnlive.engines.oip.objectives import Layer, Map, Node
from cnnlive.engines.oip import OIPSettings, prepare, search

pytestmark = pytest.mark.slow


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_twenty_searches_trace_a_handful_of_times_and_print_nothing(capfd):
    import cnnlive as cl

    model = cl.models.simple_cnn()
    records = _Records()
    watched = [logging.getLogger(n) for n in ("cnnlive.tensorflow", "tensorflow", "absl", "")]
    for logger in watched:
        logger.addHandler(records)
    objectives = ["map", "layer", Map() + 0.5 * Layer(), "node", 0.25 * Map() - Layer()]
    rng = np.random.default_rng(0)
    try:
        capfd.readouterr()
        for i in range(20):
            objective = objectives[i % len(objectives)]
            maps = sorted(rng.choice(16, size=int(rng.integers(1, 6)), replace=False).tolist())
            uses_node = objective == "node"
            settings = OIPSettings(steps=int(rng.integers(3, 12)), objective=objective, seed=i, chunk=4,
                                   step_size=float(rng.choice([0.01, 0.02])), node=(1, 1) if uses_node else None)
            result = search(prepare(model, "Conv2D_2", maps, settings))
            assert result.images.shape[0] == len(maps)
        out, err = capfd.readouterr()
    finally:
        for logger in watched:
            logger.removeHandler(records)
    print("traces", traces(model))
    assert 1 <= traces(model) <= 3, traces(model)
    seen = out + err + "\n".join(records.messages)
    assert "retracing" not in seen, seen
