"""FeatureReducer's faster PCA solvers give what the full SVD gives."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import normalize

from clustering.reduce.pca import FeatureReducer


def features(n: int, d: int, latent: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spread = 1.0 / np.arange(1, latent + 1) ** 0.5
    z = rng.normal(size=(n, latent)) * spread
    x = np.maximum(z @ rng.normal(size=(latent, d)) + 0.3, 0) + 0.01 * rng.random((n, d))
    return x.astype(np.float32)


def assert_same_projection(ours: np.ndarray, full: np.ndarray) -> None:
    """Same components up to sign: each column correlates >= 0.999 with the full SVD's."""
    assert ours.shape == full.shape
    for i in range(full.shape[1]):
        assert abs(np.corrcoef(ours[:, i], full[:, i])[0, 1]) >= 0.999, i
    signs = np.sign((ours * full).sum(0))
    np.testing.assert_allclose(ours * signs, full, atol=5e-3 * np.abs(full).max())


@pytest.fixture
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the randomized path on small matrices (fast tests)."""
    import clustering.reduce.pca as reduce

    monkeypatch.setattr(reduce, "RANDOMIZED_ABOVE", 100)
    monkeypatch.setattr(reduce, "RANDOMIZED_START", 32)


@pytest.mark.parametrize("n, d", [(3000, 200), (500, 400), (400, 500)])
@pytest.mark.parametrize("whiten", [False, True])
def test_variance_fraction_matches_the_full_svd(n: int, d: int, whiten: bool,
                                                small_thresholds) -> None:
    X = features(n, d)
    reducer = FeatureReducer(0.9, whiten=whiten).fit(X)
    full = PCA(0.9, whiten=whiten, svd_solver="full").fit(normalize(X))
    assert reducer.n_components_ == full.n_components_
    np.testing.assert_allclose(reducer.cumulative_variance_,
                               np.cumsum(full.explained_variance_ratio_), atol=1e-4)
    assert_same_projection(reducer.transform(X), full.transform(normalize(X)))


def test_component_count_matches_the_full_svd() -> None:
    X = features(3000, 300)
    reducer = FeatureReducer(12).fit(X)
    full = PCA(12, svd_solver="full").fit(normalize(X))
    assert reducer.n_components_ == 12
    assert_same_projection(reducer.transform(X), full.transform(normalize(X)))


def test_randomized_path_doubles_its_rank_when_short(small_thresholds, monkeypatch) -> None:
    import clustering.reduce.pca as reduce

    monkeypatch.setattr(reduce, "RANDOMIZED_START", 4)  # far fewer than needed
    X = features(500, 400)
    reducer = FeatureReducer(0.95).fit(X)
    full = PCA(0.95, svd_solver="full").fit(normalize(X))
    assert reducer.n_components_ == full.n_components_ > 4
