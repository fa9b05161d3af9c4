"""The public wavelength sweep: cl.oip(..., sweep=True) gives one image per
map and wavelength, labelled in the result and in cl.oip_grid."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

import cnnlive as cl
from cnnlive.engines.oip import by_wavelengths

pytestmark = pytest.mark.slow


def test_sweep_gives_one_labelled_image_per_wavelength(runs_dir):
    model = cl.models.simple_cnn()
    job = cl.oip(model, layer="Conv2D_3", maps=[1, 2], steps=6, wavelengths=(14, 7, 3), sweep=True)
    assert job.wait(300).value == "completed", job.error
    r = job.result
    assert r.maps == [1, 1, 1, 2, 2, 2] and [tuple(w) for w in r.wavelengths] == [(14,), (7,), (3,)] * 2
    parts = by_wavelengths(r)
    assert list(parts) == [(14.0,), (7.0,), (3.0,)]
    for i, (waves, part) in enumerate(parts.items()):
        assert part.maps == [1, 2] and part.images.shape[0] == 2
        assert np.array_equal(part.images, r.images[[i, 3 + i]])
        assert part.provenance["wavelengths"] == list(waves)
    fig = cl.oip_grid(job, cols=3)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[:3] == ["map 1 · λ 14 px", "map 1 · λ 7 px", "map 1 · λ 3 px"]
    plain = cl.oip(model, layer="Conv2D_3", maps=[1], steps=3, wavelengths=(14, 7))
    assert plain.wait(300).value == "completed"
    assert len(plain.result.images) == 1  # without sweep: one image from their superposition
    assert [ax.get_title() for ax in cl.oip_grid(plain).axes if ax.get_title()] == ["map 1"]
    with pytest.raises(ValueError, match="sweep must be True or False"):
        cl.oip(model, sweep="yes")
