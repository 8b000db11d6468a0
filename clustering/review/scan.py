"""Duplicate signatures and quality scores of a collection in one pass.

Each file is read, hashed and decoded once (:func:`clustering.review.decode.review_image`)
and gives both its :func:`~clustering.review.duplicates.signature_of` vector and its
:func:`~clustering.review.quality.quality_of` scores; each is cached under its own
key, so :func:`~clustering.review.duplicates.compute_signatures` and
:func:`~clustering.review.quality.score_images` find them later (and this pass finds
what they computed before). About half the work of running the two one after the
other (``bench/review_scan.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from clustering.cache import FeatureCache, JointCache
from clustering.files.discover import ImageRef
from clustering.images.engine import ProgressCallback, map_images
from clustering.review.decode import review_image
from clustering.review.duplicates import (SIGNATURE_DIM, SIGNATURE_KEY, Signatures,
                                          signature_of, signatures_from)
from clustering.review.quality import MEASURED, QUALITY_KEY, quality_of, scores_from


def _both(data: bytes) -> np.ndarray:
    view = review_image(data)
    return np.concatenate([signature_of(view), quality_of(view)])


def scan_images(images: Sequence[ImageRef], cache: FeatureCache | None = None,
                workers: int = 2, progress: ProgressCallback | None = None
                ) -> tuple[Signatures, pd.DataFrame]:
    """Signatures (with the files skipped) and quality scores of ``images``."""
    joint = JointCache(cache, [(SIGNATURE_KEY, SIGNATURE_DIM), (QUALITY_KEY, len(MEASURED))]
                       ) if cache is not None else None
    found = map_images(images, _both, dim=SIGNATURE_DIM + len(MEASURED), cache=joint,
                       cache_key=joint.key if joint is not None else None, workers=workers,
                       progress=progress)
    signatures = signatures_from(replace(found, values=found.values[:, :SIGNATURE_DIM]), images)
    scores, _ = scores_from(replace(found, values=found.values[:, SIGNATURE_DIM:]))
    return signatures, scores
