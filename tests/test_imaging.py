"""The shared numpy image helpers (cnnlive/imaging.py)."""

import numpy as np

from cnnlive.imaging import clip_std, enhance_contrast, min_max, to_uint8


def test_to_uint8_min_max_scales_and_survives_constant_and_nan():
    ramp = np.linspace(-3.0, 5.0, 9, dtype=np.float32)
    out = to_uint8(ramp)
    assert out.dtype == np.uint8 and out[0] == 0 and out[-1] == 255 and np.all(np.diff(out.astype(int)) > 0)
    assert np.array_equal(to_uint8(np.full((3, 3), 7.0)), np.zeros((3, 3), np.uint8))
    assert to_uint8(np.array([4.0, np.nan, 2.0])).tolist() == [255, 0, 128]  # NaN counts as 0
    assert np.allclose(min_max(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])


def test_the_two_contrasts_differ():
    x = np.concatenate([np.linspace(-1, 1, 99), [50.0]]).astype(np.float32)
    clipped = clip_std(x, 2.0)  # display stretch: an outlier no longer dominates the min-max range
    assert clipped.max() < 50 and np.array_equal(clipped[:99], x[:99])
    assert (to_uint8(clipped)[:99] > to_uint8(x)[:99] + 1).sum() > 40
    seeds = enhance_contrast(x)  # the seeds': standardize, scale by 1.1, clip symmetric
    assert np.isclose(seeds.max(), -seeds.min()) and abs(seeds.mean()) < 0.1
