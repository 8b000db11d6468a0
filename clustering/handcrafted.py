"""An offline feature extractor: colour, texture and shape descriptors, no neural network.

Each image becomes the concatenation of blocks computed on downscaled copies of
the 224 x 224 input:

* ``colour``: joint HSV histograms of the whole image and of each cell of a grid,
  grey pixels binned by brightness instead of by their meaningless hue;
* ``layout``: a tiny CIELAB thumbnail (the mean colour of each cell of a grid);
* ``hog``: histograms of oriented gradients of the grey image;
* ``lbp``: histograms of rotation-invariant uniform local binary patterns.

Histograms are square-rooted (Hellinger), every block is L2-normalised and
scaled by its weight. Features depend only on the image, never on the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from skimage.color import rgb2lab
from skimage.feature import hog, local_binary_pattern

from clustering.extractor import FeatureExtractor

VERSION = 1

# Pixels below this saturation or value are grey: their hue is noise.
_MIN_SATURATION = 0.2
_MIN_VALUE = 0.15
_LBP_POINTS = 8


class HandcraftedExtractor(FeatureExtractor):
    """Colour + texture + shape features of uint8 RGB images, computed on the CPU."""

    input_size = 224

    def __init__(self, hue_bins: int = 12, grey_bins: int = 4, colour_grid: int = 2,
                 layout_grid: int = 4, hog_cells: int = 4, orientations: int = 9,
                 lbp_radii: tuple[int, ...] = (1, 3)) -> None:
        self.hue_bins = hue_bins
        self.grey_bins = grey_bins
        self.colour_grid = colour_grid
        self.layout_grid = layout_grid
        self.hog_cells = hog_cells
        self.orientations = orientations
        self.lbp_radii = tuple(lbp_radii)

    @property
    def cache_key(self) -> str:
        radii = "_".join(str(r) for r in self.lbp_radii)
        return (f"handcrafted-v{VERSION}-h{self.hue_bins}g{self.grey_bins}c{self.colour_grid}"
                f"-t{self.layout_grid}-hog{self.hog_cells}x{self.orientations}-lbp{radii}")

    @property
    def label(self) -> str:
        return "Offline extractor (colour + texture + shape histograms, no neural network)"

    @property
    def block_dims(self) -> dict[str, int]:
        """Length of each block of the feature vector, in order."""
        colour_bins = self.hue_bins * 6 + self.grey_bins
        hog_blocks = (self.hog_cells - 1) ** 2
        return {
            "colour": colour_bins * (1 + self.colour_grid ** 2),
            "layout": 3 * self.layout_grid ** 2,
            "hog": hog_blocks * 4 * self.orientations,
            "lbp": (_LBP_POINTS + 2) * len(self.lbp_radii),
        }

    @property
    def dim(self) -> int:
        return sum(self.block_dims.values())

    def extract(self, batch: np.ndarray) -> np.ndarray:
        rgb = _block_mean(np.asarray(batch, dtype=np.float32) / 255.0, 4)  # (N, 56, 56, 3)
        grey = _grey(_block_mean(np.asarray(batch, dtype=np.float32), 2))  # (N, 112, 112)
        blocks = [
            self._colour(rgb),
            self._layout(rgb),
            np.stack([self._hog(image) for image in grey]),
            np.stack([self._lbp(image) for image in grey]),
        ]
        weight = 1.0 / np.sqrt(len(blocks))
        return np.concatenate([_l2(block) * weight for block in blocks], axis=1).astype(np.float32)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "version": VERSION, "hue_bins": self.hue_bins,
                "grey_bins": self.grey_bins, "colour_grid": self.colour_grid,
                "layout_grid": self.layout_grid, "hog_cells": self.hog_cells,
                "orientations": self.orientations, "lbp_radii": list(self.lbp_radii),
                "blocks": self.block_dims}

    def _colour(self, rgb: np.ndarray) -> np.ndarray:
        """Square-rooted HSV histograms of the whole image and of each grid cell."""
        bins = _hsv_bins(rgb, self.hue_bins, self.grey_bins)
        n_bins = self.hue_bins * 6 + self.grey_bins
        whole = _histograms(bins.reshape(len(bins), -1), n_bins)
        cells = _grid_cells(bins, self.colour_grid)
        parts = [whole] + [_histograms(cell, n_bins) for cell in cells]
        return np.sqrt(np.concatenate(parts, axis=1))

    def _layout(self, rgb: np.ndarray) -> np.ndarray:
        """The mean CIELAB colour of each cell of a ``layout_grid`` grid, scaled to about +-1."""
        thumb = _block_mean(rgb, rgb.shape[1] // self.layout_grid)
        lab = rgb2lab(thumb)
        lab[..., 0] -= 50.0
        return (lab / 50.0).reshape(len(rgb), -1)

    def _hog(self, grey: np.ndarray) -> np.ndarray:
        """HOG of one grey image on a ``hog_cells`` x ``hog_cells`` grid of cells."""
        cell = grey.shape[0] // self.hog_cells
        return hog(grey, orientations=self.orientations, pixels_per_cell=(cell, cell),
                   cells_per_block=(2, 2), block_norm="L2-Hys", feature_vector=True)

    def _lbp(self, grey: np.ndarray) -> np.ndarray:
        """Square-rooted uniform-LBP histograms of one grey image, one per radius."""
        parts = []
        for radius in self.lbp_radii:
            codes = local_binary_pattern(grey, _LBP_POINTS, radius, method="uniform")
            counts = np.bincount(codes.astype(np.int64).ravel(), minlength=_LBP_POINTS + 2)
            parts.append(np.sqrt(counts / codes.size))
        return np.concatenate(parts)


def _block_mean(images: np.ndarray, factor: int) -> np.ndarray:
    """Downscale (N, S, S, ...) images by averaging ``factor`` x ``factor`` blocks."""
    n, size = images.shape[:2]
    out = size // factor
    trimmed = images[:, :out * factor, :out * factor]
    return trimmed.reshape(n, out, factor, out, factor, *images.shape[3:]).mean(axis=(2, 4))


def _grey(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of (..., 3) RGB."""
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=rgb.dtype)


def _hsv_bins(rgb: np.ndarray, hue_bins: int, grey_bins: int) -> np.ndarray:
    """Colour-bin index of every pixel of float RGB in [0, 1]: (N, H, W) int.

    Chromatic pixels get ``hue x 2 saturations x 3 values`` bins; grey pixels
    (low saturation or dark) get one of ``grey_bins`` brightness bins after them.
    """
    value = rgb.max(axis=-1)
    chroma = value - rgb.min(axis=-1)
    saturation = np.where(value > 0, chroma / np.maximum(value, 1e-6), 0.0)
    red, green, blue = np.moveaxis(rgb, -1, 0)
    safe = np.maximum(chroma, 1e-6)
    hue = np.where(value == red, (green - blue) / safe,
                   np.where(value == green, 2.0 + (blue - red) / safe, 4.0 + (red - green) / safe))
    hue = (hue / 6.0) % 1.0
    h = np.minimum((hue * hue_bins).astype(np.int64), hue_bins - 1)
    s = (saturation >= 0.55).astype(np.int64)
    v = np.minimum(((value - _MIN_VALUE) / (1 - _MIN_VALUE) * 3).astype(np.int64), 2)
    chromatic = (h * 2 + s) * 3 + v
    grey = hue_bins * 6 + np.minimum((value * grey_bins).astype(np.int64), grey_bins - 1)
    is_grey = (saturation < _MIN_SATURATION) | (value < _MIN_VALUE)
    return np.where(is_grey, grey, chromatic)


def _histograms(bins: np.ndarray, n_bins: int) -> np.ndarray:
    """Normalised histograms of each row of integer bin indices: (N, n_bins)."""
    n, count = bins.shape
    offsets = np.arange(n)[:, None] * n_bins
    flat = np.bincount((bins + offsets).ravel(), minlength=n * n_bins)
    return flat.reshape(n, n_bins) / count


def _grid_cells(images: np.ndarray, grid: int) -> list[np.ndarray]:
    """The pixels of each cell of a ``grid`` x ``grid`` split, each as (N, pixels)."""
    size = images.shape[1] // grid
    return [images[:, r * size:(r + 1) * size, c * size:(c + 1) * size].reshape(len(images), -1)
            for r in range(grid) for c in range(grid)]


def _l2(block: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero)."""
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    return block / np.maximum(norms, 1e-12)
