"""Initial noise with fluctuations at chosen length scales (numpy only).

For each wavelength λ (pixels) the noise is band-pass filtered in Fourier
space around the spatial frequency 1/λ, so its power spectrum peaks at that
length scale; several wavelengths are superposed with equal weight.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...imaging import standardize


def check_wavelengths(wavelengths: Sequence[float], height: int, width: int) -> tuple[float, ...]:
    waves = tuple(float(w) for w in wavelengths)
    if not waves:
        raise ValueError("give at least one wavelength (pixels)")
    for w in waves:
        if not 2 <= w <= max(height, width):
            raise ValueError(f"wavelength {w:g} px is outside 2..{max(height, width)} px for a "
                             f"{height}x{width} input (below 2 px cannot be represented, above the image size "
                             f"it does not fit)")
    return waves


def band_noise(rng: np.random.Generator, height: int, width: int, wavelength: float) -> np.ndarray:
    """One (H, W) field whose spectrum peaks at spatial frequency 1/wavelength."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    f = np.sqrt(fx**2 + fy**2)
    f0 = 1.0 / wavelength
    sigma = max(0.25 * f0, 0.5 / max(height, width))
    amp = np.exp(-((f - f0) ** 2) / (2 * sigma**2))
    amp[0, 0] = 0.0
    coeff = amp * (rng.standard_normal(amp.shape) + 1j * rng.standard_normal(amp.shape))
    field = np.fft.irfft2(coeff, s=(height, width))
    return standardize(field[None])[0]


def initial_noise(batch: int, shape: tuple[int, int, int], wavelengths: Sequence[float],
                  seed: int | None = None) -> np.ndarray:
    """(batch, H, W, C) standardized noise, a superposition of the wavelengths."""
    h, w, c = shape
    waves = check_wavelengths(wavelengths, h, w)
    rng = np.random.default_rng(seed)
    out = np.zeros((batch, h, w, c), np.float32)
    for b in range(batch):
        for ch in range(c):
            out[b, :, :, ch] = sum(band_noise(rng, h, w, lam) for lam in waves)
    return standardize(out)


def radial_spectrum(field: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum of a (H, W) field: (frequencies, power)."""
    h, w = field.shape
    power = np.abs(np.fft.fft2(field - field.mean())) ** 2
    f = np.sqrt(np.fft.fftfreq(h)[:, None] ** 2 + np.fft.fftfreq(w)[None, :] ** 2)
    bins = np.linspace(0, 0.5, max(h, w) // 2 + 1)
    idx = np.digitize(f.ravel(), bins) - 1
    sums = np.bincount(idx, power.ravel(), minlength=len(bins))[: len(bins) - 1]
    counts = np.bincount(idx, minlength=len(bins))[: len(bins) - 1]
    centres = 0.5 * (bins[1:] + bins[:-1])
    return centres, sums / np.maximum(counts, 1)
