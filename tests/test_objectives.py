"""OIP objectives as composable callables, and the step cap (CNNLIVE_MAX_STEPS)."""

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.config import Config
from cnnlive.engines.dream import DreamSettings, prepare_dream, run_dream
from cnnlive.engines.oip.objectives import Layer, Map, Node, Sum, as_objective
from cnnlive.engines.oip import OIPSettings, ascent_for, prepare, search

from .engines_helpers import trained_cnn

pytestmark = pytest.mark.slow


def _act():
    rng = np.random.default_rng(0)
    act = rng.standard_normal((3, 4, 5, 6)).astype(np.float32)
    maps = np.array([0, 2, 5], np.int32)
    nodes = np.array([[0, 0], [1, 3], [3, 4]], np.int32)
    return act, maps, nodes


def test_each_objective_scores_what_its_name_says():
    act, maps, nodes = _act()
    assert np.allclose(Map()(act, maps, nodes), [act[b, :, :, m].mean() for b, m in enumerate(maps)], atol=1e-6)
    assert np.allclose(Node()(act, maps, nodes), [act[b, r, c, m] for b, (m, (r, c)) in enumerate(zip(maps, nodes))])
    assert np.allclose(Layer()(act, maps, nodes), act.mean(axis=(1, 2, 3)), atol=1e-6)


def test_objectives_compose_into_weighted_sums():
    act, maps, nodes = _act()
    mixed = 2 * Map() + 0.5 * Layer() - Node()
    assert isinstance(mixed, Sum) and mixed.uses_node and not (Map() + Layer()).uses_node
    expect = 2 * Map()(act, maps, nodes) + 0.5 * Layer()(act, maps, nodes) - Node()(act, maps, nodes)
    assert np.allclose(mixed(act, maps, nodes), expect, atol=1e-5)
    assert str(mixed) == "2*map + 0.5*layer - node" and str(-Map() + Layer()) == "-map + layer"
    assert as_objective("map") == Map() and hash(Map() + Layer()) == hash(Map() + Layer())


def test_unknown_objective_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown objective 'mean'; valid: map, node, layer"):
        as_objective("mean")
    with pytest.raises(ValueError, match="needs node=\\(row, col\\)"):
        prepare(trained_cnn(), "Conv2D_3", 0, OIPSettings(objective=Map() + Node()))


def test_a_named_objective_and_its_object_share_one_compiled_ascent():
    m = trained_cnn()
    assert ascent_for(m, "Conv2D_3", "map") is ascent_for(m, "Conv2D_3", Map())
    assert ascent_for(m, "Conv2D_3", "map") is not ascent_for(m, "Conv2D_3", Map() + Layer())


def test_search_towards_a_weighted_sum_raises_it():
    m = trained_cnn()
    objective = Map() + 0.25 * Layer()
    r = search(prepare(m, "Conv2D_3", [3, 7], OIPSettings(steps=40, objective=objective, seed=2)))
    assert np.all(r.activations >= r.curves[0] - 1e-6) and np.any(r.activations > r.curves[0] + 1e-3)
    assert r.provenance["settings"]["objective"] == "map + 0.25*layer"


def test_the_api_takes_an_objective_object(runs_dir):
    assert cl.objectives.Map is Map
    job = cl.oip(trained_cnn(), "Conv2D_3", 2, steps=10, objective=cl.objectives.Map() + Layer())
    assert job.wait(120).value == "completed", job.error
    assert job.result.provenance["settings"]["objective"] == "map + layer"


def test_step_cap_from_the_environment(monkeypatch):
    monkeypatch.setenv("CNNLIVE_MAX_STEPS", "7")
    assert Config.from_env().max_steps == 7
    monkeypatch.setenv("CNNLIVE_MAX_STEPS", "")
    assert Config.from_env().max_steps is None
    for bad in ("0", "2.5", "many"):
        monkeypatch.setenv("CNNLIVE_MAX_STEPS", bad)
        with pytest.raises(ValueError, match="CNNLIVE_MAX_STEPS"):
            Config.from_env()
    with pytest.raises(ValueError, match="max_steps must be None or a whole number > 0"):
        cl.config.max_steps = 0


def test_step_cap_limits_oip_and_dream(monkeypatch):
    m = trained_cnn()
    settings = OIPSettings(steps=200, tolerance=0.0, restarts=0, seed=3)
    monkeypatch.setattr(cl.config, "max_steps", 12)
    r = search(prepare(m, "Conv2D_3", [1, 2], settings))
    assert r.steps_done == 12 and r.curves.shape == (12, 2) and r.provenance["steps"] == 12
    spec = prepare_dream(m, None, "Conv2D_3", 5, DreamSettings(iterations=1, steps=30, levels=1, size=84))
    capped = run_dream(spec).image
    monkeypatch.setattr(cl.config, "max_steps", None)
    short = run_dream(prepare_dream(m, None, "Conv2D_3", 5,
                                    DreamSettings(iterations=1, steps=12, levels=1, size=84))).image
    full = run_dream(spec).image
    assert np.allclose(capped, short, atol=1e-4) and not np.allclose(capped, full, atol=1e-3)
