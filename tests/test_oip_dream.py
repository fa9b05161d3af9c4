import time

import numpy as np
import pytest

import cnnlive as cl
from cnnlive.engines.dream import (DreamSettings, blended_tiles, carve, prepare_dream, run_dream, seam_ratio,
                                   tile_window)
from cnnlive.engines.oip.noise import initial_noise, radial_spectrum
from cnnlive.engines.oip import OIPSettings, prepare, search
from cnnlive.jobs import JobState

from .engines_helpers import digits, trained_cnn, wait_until

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("wavelength", [14.0, 7.0, 4.0])
def test_noise_spectrum_peaks_at_the_chosen_length_scale(wavelength):
    x = initial_noise(8, (56, 56, 1), [wavelength], seed=3)
    spectra = np.mean([radial_spectrum(img[..., 0])[1] for img in x], axis=0)
    freqs = radial_spectrum(x[0, ..., 0])[0]
    peak = freqs[np.argmax(spectra)]
    assert abs(1 / peak - wavelength) / wavelength < 0.25, (1 / peak, wavelength)


def test_noise_is_standardized_and_reproducible():
    a = initial_noise(3, (28, 28, 1), [14, 3], seed=5)
    assert np.allclose(a.mean(axis=(1, 2, 3)), 0, atol=1e-5) and np.allclose(a.std(axis=(1, 2, 3)), 1, atol=1e-3)
    assert np.array_equal(a, initial_noise(3, (28, 28, 1), [14, 3], seed=5))


@pytest.mark.parametrize("objective,node", [("map", None), ("node", (1, 1)), ("layer", None)])
def test_each_objective_increases_activation(objective, node):
    m = trained_cnn()
    spec = prepare(m, "Conv2D_3", [3, 7], OIPSettings(steps=60, objective=objective, node=node, seed=2))
    r = search(spec)
    first = r.curves[0]
    assert r.images.shape == (2, 28, 28, 1)
    assert np.all(r.activations >= first - 1e-6) and np.any(r.activations > first + 1e-3)
    assert np.allclose(r.images.mean(axis=(1, 2, 3)), 0, atol=1e-3)  # standardized input each step
    assert np.allclose(r.images.std(axis=(1, 2, 3)), 1, atol=1e-2)
    assert r.provenance["layer"] == "Conv2D_3" and r.provenance["settings"]["objective"] == objective


def test_batched_equals_one_at_a_time():
    m = trained_cnn()
    settings = OIPSettings(steps=30, seed=4, tolerance=0.0, restarts=0)
    batched = search(prepare(m, "Conv2D_3", [5, 9, 11], settings))
    for i, mp in enumerate([5, 9, 11]):
        spec = prepare(m, "Conv2D_3", mp, settings)
        single = search(spec, x0=initial_noise(3, (28, 28, 1), settings.wavelengths, settings.seed)[i:i + 1])
        assert np.allclose(single.activations, batched.activations[i], rtol=1e-3, atol=1e-4)
        assert np.allclose(single.images[0], batched.images[i], atol=1e-3)


def test_wavelength_sweep_gives_one_image_per_scale():
    m = trained_cnn()
    spec = prepare(m, "Conv2D_3", 4, OIPSettings(steps=10, wavelengths=(20, 10, 4), sweep=True))
    r = search(spec)
    assert r.images.shape[0] == 3 and r.wavelengths == [(20.0,), (10.0,), (4.0,)] and r.maps == [4, 4, 4]


def test_oip_job_stop_keeps_best_images_and_exports(runs_dir, tmp_path):
    m = trained_cnn()
    job = cl.oip(m, layer="Conv2D_3", maps="all", steps=100000, snapshots=5)
    wait_until(lambda: job.channels.latest("images") is not None, job)
    job.stop()
    assert job.wait(60) is JobState.STOPPED
    r = job.result
    assert r.images.shape == (128, 28, 28, 1) and 0 < r.steps_done < 100000
    assert r.activations.shape == (128,)
    png, gif = r.save_png(str(tmp_path / "g.png")), r.save_gif(str(tmp_path / "e.gif"))
    from PIL import Image

    assert Image.open(png).size[0] > 28 * 11 and Image.open(gif).n_frames == len(r.timeline)  # the timeline: every kept snapshot


@pytest.mark.parametrize("kwargs,match", [
    (dict(layer="Conv2D_9"), r"unknown layer 'Conv2D_9'; layers with maps: Conv2D_1, Max_Pool_1"),
    (dict(layer="Dense_1"), r"layer 'Dense_1' \(Dense\) has no spatial maps"),
    (dict(layer="Flatten"), r"has no spatial maps"),
    (dict(maps=128), r"map 128 is out of range: layer 'Conv2D_3' has maps 0..127"),
    (dict(maps=[1, -1]), r"map -1 is out of range"),
    (dict(objective="node", node=(3, 0)), r"node \(3, 0\) is outside the 3x3 maps"),
    (dict(wavelengths=(0,)), r"wavelength 0 px is outside 2..28"),
    (dict(wavelengths=(40,)), r"wavelength 40 px is outside 2..28"),
    (dict(objective="max"), r"unknown objective 'max'; valid: map, node, layer"),
])
def test_oip_bad_input(kwargs, match):
    args = dict(layer="Conv2D_3", maps=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        cl.oip(trained_cnn(), **args)


def test_oip_model_without_fixed_input_shape():
    import keras

    free = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(4, 3, name="c")])
    with pytest.raises(ValueError, match="no fixed input shape"):
        cl.oip(free, layer="c")


def test_detail_correction_restores_original_without_oip_steps():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 140, 140, 1)).astype(np.float32) * 3 + 5  # far from standardized
    out = carve(x, np.array([0, 0]), None, 0, (28, 28))
    assert np.allclose(out, x, atol=1e-4)


def test_blended_tiles_cover_the_image_and_their_windows_sum_to_one_inside():
    boxes = blended_tiles(560, 2)
    assert len(boxes) == 7 * 7 and {(h, w) for _, _, h, w in boxes} == {(140, 140)}
    assert boxes[0][:2] == (0, 0) and boxes[-1][:2] == (420, 420)
    weight = np.zeros((560, 560))
    for t, l, h, w in boxes:
        weight[t:t + h, l:l + w] += tile_window(h)[..., 0]
    assert weight.min() > 0  # every pixel is covered
    inner = weight[70:-70, 70:-70]  # covered by four half-stride windows: a partition of unity
    assert np.allclose(inner, 1.0, atol=1e-6)
    assert blended_tiles(112, 0) == [(0, 0, 112, 112)]


def test_tiled_dream_leaves_no_seams():
    """Hard tile borders show as whole lines where the change (result minus
    photo) jumps; blended overlapping tiles leave none."""
    m = trained_cnn()
    size, levels = 224, 2
    spec = prepare_dream(m, None, "Conv2D_3", 56, DreamSettings(iterations=2, steps=30, levels=levels, size=size))
    r = run_dream(spec)
    photo = spec.image[..., 0]
    assert np.abs(r.image - photo).mean() > 0.1  # the dream did change the photo
    # the measure: no interior line jumps out more than in the photo
    def jump_ratio(a):
        jumps = np.concatenate([np.abs(np.diff(a, axis=1)).mean(0), np.abs(np.diff(a, axis=0)).mean(1)])
        return jumps.max() / np.median(jumps)
    assert jump_ratio(r.image) <= 1.5 * jump_ratio(photo)
    # the sharper one: at every border of the seeds' 2^level grids (where the
    # old, abutting tiles left seams), the change jumps no more than its
    # neighbouring lines do by chance (1.2-1.55 over trained models here; lines
    # away from any border reach 2.1; abutting tiles gave 4.1-4.7)
    borders = sorted({int(round(size * k / 2 ** lv)) - 1 for lv in range(1, levels + 1) for k in range(1, 2 ** lv)})
    assert seam_ratio(r.image - photo, borders) < 2.0


def test_dream_changes_only_where_tiles_are_carved():
    m = trained_cnn()
    spec = prepare_dream(m, None, "Conv2D_3", 56, DreamSettings(iterations=1, steps=0, levels=1, size=112))
    r0 = run_dream(spec)
    assert np.allclose(r0.image, spec.image[..., 0], atol=1e-3)  # zero steps: the photo comes back
    spec = prepare_dream(m, None, "Conv2D_3", 56, DreamSettings(iterations=2, steps=10, levels=2, size=112,
                                                                tile_maps=(1, 2, 3)))
    r = run_dream(spec)
    assert r.image.shape == (112, 112) and len(r.stages) == 2 * 3
    assert not np.allclose(r.image, spec.image[..., 0], atol=1e-2)
    assert r.provenance["tile_maps"] == [1, 2, 3] and r.iterations_done == 2


def test_dream_job_stop_returns_current_image(runs_dir):
    job = cl.dream(trained_cnn(), iterations=50, steps=20, levels=1, size=224)
    wait_until(lambda: job.channels.latest("images") is not None, job)
    job.stop()
    assert job.wait(60) is JobState.STOPPED
    r = job.result
    assert r.image.shape == (224, 224) and 0 < len(r.stages) < 100
    assert r.provenance["png"].endswith("dream.png")


def test_dream_bad_input(tmp_path):
    m = trained_cnn()
    with pytest.raises(FileNotFoundError, match="no such image file"):
        cl.dream(m, image=str(tmp_path / "missing.jpg"))
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="cannot read .* as an image"):
        cl.dream(m, image=str(tmp_path / "bad.jpg"))
    with pytest.raises(ValueError, match="smaller than the model input"):
        cl.dream(m, image=np.zeros((20, 20)))
    with pytest.raises(ValueError, match="deepest valid level for size 560 is 4"):
        cl.dream(m, levels=5)
    with pytest.raises(ValueError, match="map 200 is out of range"):
        cl.dream(m, maps=200)
    with pytest.raises(ValueError, match="unknown layer"):
        cl.dream(m, layer="nope")


def test_dream_on_rgb_resnet():
    m = cl.models.resnet_v2(input_shape=(32, 32, 3), stacks="cifar-tiny")
    spec = prepare_dream(m, None, "s2u1_add", 3, DreamSettings(iterations=1, steps=3, levels=1, size=64))
    r = run_dream(spec)
    assert r.image.shape == (64, 64, 3)
