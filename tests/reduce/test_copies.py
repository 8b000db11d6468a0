"""Copies of one image stay exactly equal through the reduction, and count once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clustering.clusters.kmeans import KSweep
from clustering.errors import TooFewImages
from clustering.files.discover import discover
from clustering.reduce.copies import HEAD_COLUMNS, count_distinct, first_copies
from clustering.reduce.pca import FeatureReducer
from tests.helpers import offline_features, save_image


def with_copies(n: int = 300, d: int = 64, every: int = 7) -> np.ndarray:
    """Random rows where every ``every``-th row is a copy of row 0."""
    X = np.random.default_rng(0).random((n, d), dtype=np.float32)
    X[::every] = X[0]
    return X


def test_each_row_points_to_its_first_copy_and_a_shared_head_is_not_a_copy() -> None:
    X = with_copies(20, 12, every=5)
    X[3] = X[0]
    X[3, HEAD_COLUMNS:] += 1.0  # same first columns, different image
    X[19] = X[4]
    first = first_copies(X)
    assert first.tolist() == [0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 0, 16, 17, 18, 4]
    assert count_distinct(X) == 16


@pytest.mark.parametrize("n_components", [0.95, 10, None])
@pytest.mark.parametrize("normalize", [True, False])
def test_copies_of_a_row_are_exactly_equal_after_the_reduction(n_components, normalize) -> None:
    # Before first_copies, PCA gave the 43 copies of row 0 two different results on
    # this machine (a row's place in BLAS's blocks changes the order of its sums).
    X = with_copies()
    reduced = FeatureReducer(n_components, normalize=normalize).fit(X).transform(X)
    assert len(np.unique(reduced[::7], axis=0)) == 1
    assert count_distinct(reduced) == count_distinct(X) == 300 - 42


def test_five_copies_of_one_photo_are_too_few_to_cluster_after_pca(tmp_path: Path) -> None:
    # The Choose k page's refusal: before first_copies these five rows came out of
    # PCA as two distinct ones on this machine, and k-means split the copies.
    for i in range(5):
        save_image(tmp_path / f"copy_{i}.png", (200, 30, 30), seed=1)
    features = offline_features(discover(tmp_path).images).features
    reduced = FeatureReducer(0.95).fit(features).transform(features)
    with pytest.raises(TooFewImages, match="only 1 distinct image"):
        KSweep().fit(reduced)
