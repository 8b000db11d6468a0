"""The offline feature extractor: colour, texture and shape, no neural network.

Every image becomes four blocks, computed on 112 x 112 (grey) and 56 x 56 (colour)
copies of the 224 x 224 input:

* ``colour``: joint HSV histograms of the whole image and of each cell of a grid,
  grey pixels binned by brightness instead of by their meaningless hue;
* ``bands``: mean and spread of CIELAB colour in horizontal bands (sky, horizon,
  ground ...), which keeps the coarse layout of a scene but not its details;
* ``gist``: the energy of the whole image in a bank of log-Gabor filters
  (scales x orientations), a texture and scene-structure signature;
* ``hog``: histograms of oriented gradients on a coarse grid, the shape.

Histograms are square-rooted (Hellinger); each block is then L2-normalised and
scaled by 1/sqrt(4), so every block weighs the same and the vector has unit norm.
The features of an image never depend on the rest of its batch.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import scipy.fft
from scipy.ndimage import gaussian_filter
from skimage.color import rgb2lab
from skimage.feature import hog

from clustering.features.base import FeatureExtractor

VERSION = 2

# Pixels below this saturation or value are grey: their hue is noise.
_MIN_SATURATION = 0.2
_MIN_VALUE = 0.15
# Chromatic pixels are split into 2 saturation x 3 value levels per hue.
_SATURATION_SPLIT = 0.55
_CHROMATIC_LEVELS = 6
# GIST pre-filter: local contrast normalisation at this scale (pixels of the 112 image).
_CONTRAST_SIGMA = 4.0
_HIGHEST_FREQUENCY = 0.3  # cycles per pixel of the finest Gabor filter
_GABOR_BANDWIDTH = 0.55  # log-Gabor sigma_f / f0


class HandcraftedExtractor(FeatureExtractor):
    """Colour + texture + shape descriptors of uint8 RGB images, computed on the CPU."""

    input_size = 224

    def __init__(self, hue_bins: int = 12, grey_bins: int = 4, colour_grid: int = 2,
                 bands: int = 4, gist_scales: int = 4, gist_orientations: int = 8,
                 hog_cells: int = 4, hog_orientations: int = 9) -> None:
        self.hue_bins = hue_bins
        self.grey_bins = grey_bins
        self.colour_grid = colour_grid
        self.bands = bands
        self.gist_scales = gist_scales
        self.gist_orientations = gist_orientations
        self.hog_cells = hog_cells
        self.hog_orientations = hog_orientations

    @property
    def cache_key(self) -> str:
        return (f"handcrafted-v{VERSION}-hsv{self.hue_bins}g{self.grey_bins}c{self.colour_grid}"
                f"-b{self.bands}-gist{self.gist_scales}x{self.gist_orientations}"
                f"-hog{self.hog_cells}x{self.hog_orientations}")

    @property
    def label(self) -> str:
        return "Offline extractor (colour + texture + shape descriptors, no neural network)"

    @property
    def block_dims(self) -> dict[str, int]:
        """Length of each block of the feature vector, in order."""
        colour_bins = self.hue_bins * _CHROMATIC_LEVELS + self.grey_bins
        return {
            "colour": colour_bins * (1 + self.colour_grid ** 2),
            "bands": 6 * self.bands,
            "gist": self.gist_scales * self.gist_orientations,
            "hog": (self.hog_cells - 1) ** 2 * 4 * self.hog_orientations,
        }

    @property
    def dim(self) -> int:
        return sum(self.block_dims.values())

    def extract(self, batch: np.ndarray) -> np.ndarray:
        if len(batch) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        rgb112 = _halve_uint8(np.asarray(batch, dtype=np.uint8))
        rgb56 = _halve(rgb112) / 255.0
        grey = rgb112 @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # 0..255
        blocks = [self._colour(rgb56), self._bands(rgb56), self._gist(grey),
                  np.stack([self._hog(image) for image in grey])]
        weight = 1.0 / np.sqrt(len(blocks))
        return np.concatenate([_l2(block) * weight for block in blocks], axis=1).astype(np.float32)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "version": VERSION, "hue_bins": self.hue_bins,
                "grey_bins": self.grey_bins, "colour_grid": self.colour_grid,
                "bands": self.bands, "gist_scales": self.gist_scales,
                "gist_orientations": self.gist_orientations, "hog_cells": self.hog_cells,
                "hog_orientations": self.hog_orientations, "blocks": self.block_dims}

    def _colour(self, rgb: np.ndarray) -> np.ndarray:
        """Square-rooted HSV histograms of the whole image and of each grid cell."""
        bins = _hsv_bins(rgb, self.hue_bins, self.grey_bins)
        n_bins = self.hue_bins * _CHROMATIC_LEVELS + self.grey_bins
        size = bins.shape[1] // self.colour_grid
        regions = [bins] + [bins[:, r * size:(r + 1) * size, c * size:(c + 1) * size]
                            for r in range(self.colour_grid) for c in range(self.colour_grid)]
        return np.sqrt(np.concatenate([_histograms(region, n_bins) for region in regions], axis=1))

    def _bands(self, rgb: np.ndarray) -> np.ndarray:
        """CIELAB mean (/50) and standard deviation (/30) of each horizontal band."""
        lab = rgb2lab(rgb)
        height = lab.shape[1]
        parts = []
        for band in range(self.bands):
            pixels = lab[:, band * height // self.bands:(band + 1) * height // self.bands]
            parts += [pixels.mean(axis=(1, 2)) / 50.0, pixels.std(axis=(1, 2)) / 30.0]
        return np.concatenate(parts, axis=1)

    def _gist(self, grey: np.ndarray) -> np.ndarray:
        """Mean log-Gabor response magnitude of each contrast-normalised grey image."""
        spectrum = scipy.fft.fft2(_normalise_contrast(grey), workers=-1)
        return np.stack([np.abs(scipy.fft.ifft2(spectrum * gain, workers=-1)).mean(axis=(1, 2))
                         for gain in self._gabor_bank], axis=1)

    @cached_property
    def _gabor_bank(self) -> np.ndarray:
        """The filters' frequency responses for the (input_size / 2)-pixel grey images."""
        return log_gabor_bank(self.input_size // 2, self.gist_scales, self.gist_orientations)

    def _hog(self, grey: np.ndarray) -> np.ndarray:
        """HOG of one grey image on a ``hog_cells`` x ``hog_cells`` grid of cells."""
        cell = grey.shape[0] // self.hog_cells
        return hog(grey, orientations=self.hog_orientations, pixels_per_cell=(cell, cell),
                   cells_per_block=(2, 2), block_norm="L2-Hys", feature_vector=True)


def log_gabor_bank(size: int, scales: int, orientations: int) -> np.ndarray:
    """Frequency responses (scales * orientations, size, size) of a log-Gabor filter bank.

    Scales are an octave apart from ``_HIGHEST_FREQUENCY`` down; each filter keeps one
    orientation band, so its response is complex and its magnitude an energy.
    """
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.fftfreq(size)[None, :]
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1.0  # avoid log(0); the DC gain is zeroed below
    angle = np.arctan2(fy, fx)
    angular_sigma = np.pi / orientations / 1.2
    filters = []
    for scale in range(scales):
        centre = _HIGHEST_FREQUENCY / 2.0 ** scale
        radial = np.exp(-np.log(radius / centre) ** 2 / (2 * np.log(_GABOR_BANDWIDTH) ** 2))
        radial[0, 0] = 0.0
        for orientation in range(orientations):
            offset = np.angle(np.exp(1j * (angle - np.pi * orientation / orientations)))
            filters.append(radial * np.exp(-offset ** 2 / (2 * angular_sigma ** 2)))
    return np.array(filters, dtype=np.float32)


def _normalise_contrast(grey: np.ndarray) -> np.ndarray:
    """Log intensity of 0..255 grey images, high-passed and divided by its local
    amplitude (the GIST pre-filter), so that lighting and contrast matter less."""
    log = np.log1p(grey)
    sigma = (0, _CONTRAST_SIGMA, _CONTRAST_SIGMA)
    detail = log - gaussian_filter(log, sigma)
    return detail / (0.2 + np.sqrt(gaussian_filter(detail ** 2, sigma)))


def _halve_uint8(images: np.ndarray) -> np.ndarray:
    """Average 2 x 2 blocks of uint8 (N, S, S, C) images: float32 (N, S/2, S/2, C)."""
    total = images[:, 0::2, 0::2].astype(np.uint16)
    total += images[:, 1::2, 0::2]
    total += images[:, 0::2, 1::2]
    total += images[:, 1::2, 1::2]
    return total.astype(np.float32) * 0.25


def _halve(images: np.ndarray) -> np.ndarray:
    """Average 2 x 2 blocks of float (N, S, S, C) images."""
    return (images[:, 0::2, 0::2] + images[:, 1::2, 0::2]
            + images[:, 0::2, 1::2] + images[:, 1::2, 1::2]) * 0.25


def _hsv_bins(rgb: np.ndarray, hue_bins: int, grey_bins: int) -> np.ndarray:
    """Colour-bin index of every pixel of float RGB in [0, 1]: (N, H, W) int.

    Chromatic pixels get ``hue x 2 saturations x 3 values`` bins; grey pixels
    (low saturation or dark) get one of ``grey_bins`` brightness bins after them.
    """
    value = rgb.max(axis=-1)
    chroma = value - rgb.min(axis=-1)
    saturation = chroma / np.maximum(value, 1e-6)
    red, green, blue = np.moveaxis(rgb, -1, 0)
    safe = np.maximum(chroma, 1e-6)
    hue = np.where(value == red, (green - blue) / safe,
                   np.where(value == green, 2.0 + (blue - red) / safe, 4.0 + (red - green) / safe))
    hue = (hue / 6.0) % 1.0
    h = np.minimum((hue * hue_bins).astype(np.int64), hue_bins - 1)
    s = (saturation >= _SATURATION_SPLIT).astype(np.int64)
    v = np.clip(((value - _MIN_VALUE) / (1 - _MIN_VALUE) * 3).astype(np.int64), 0, 2)
    chromatic = (h * 2 + s) * 3 + v
    grey = hue_bins * _CHROMATIC_LEVELS + np.minimum((value * grey_bins).astype(np.int64),
                                                     grey_bins - 1)
    is_grey = (saturation < _MIN_SATURATION) | (value < _MIN_VALUE)
    return np.where(is_grey, grey, chromatic)


def _histograms(bins: np.ndarray, n_bins: int) -> np.ndarray:
    """Normalised histogram of each image's integer bin indices (N, ...): (N, n_bins)."""
    n = len(bins)
    flat = bins.reshape(n, -1)
    offsets = np.arange(n)[:, None] * n_bins
    counts = np.bincount((flat + offsets).ravel(), minlength=n * n_bins)
    return counts.reshape(n, n_bins) / flat.shape[1]


def _l2(block: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero)."""
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    return block / np.maximum(norms, 1e-12)
