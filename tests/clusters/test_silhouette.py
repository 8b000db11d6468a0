"""The fast silhouettes in clustering.clusters.kmeans agree with scikit-learn's definition."""

from __future__ import annotations

import os

import numpy as np
import pytest
from sklearn.metrics import silhouette_samples, silhouette_score

from clustering.clusters.kmeans import KSweep
from clustering.clusters.silhouette import sample_silhouettes, silhouette_values


@pytest.fixture
def grouped() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 600)
    X = (rng.normal(size=(600, 24)) + 3 * rng.normal(size=(5, 24))[labels]).astype(np.float32)
    return X, labels


def test_silhouette_values_match_scikit_learn(grouped) -> None:
    X, labels = grouped
    np.testing.assert_allclose(silhouette_values(X, labels), silhouette_samples(X, labels),
                               atol=1e-5)


def test_singleton_cluster_scores_zero_like_scikit_learn(grouped) -> None:
    X, labels = grouped
    labels = labels.copy()
    labels[7] = 99  # alone in its cluster
    ours = silhouette_values(X, labels)
    assert ours[7] == 0.0
    np.testing.assert_allclose(ours, silhouette_samples(X, labels), atol=1e-5)


def test_duplicate_points_give_finite_values() -> None:
    X = np.repeat(np.eye(3, dtype=np.float32), 4, axis=0)
    labels = np.repeat(np.arange(3), 4)
    values = silhouette_values(X, labels)
    assert np.isfinite(values).all()
    np.testing.assert_allclose(values, silhouette_samples(X, labels), atol=1e-5)


def test_sample_silhouettes_only_fill_the_sample(grouped) -> None:
    X, labels = grouped
    values = sample_silhouettes(X, labels, max_samples=200)
    assert np.isfinite(values).sum() == 200
    assert np.isnan(values).sum() == 400


def test_sweep_mean_silhouette_is_the_sampled_mean(grouped) -> None:
    X, _ = grouped
    sweep = KSweep(2, 6, n_init=1, silhouette_sample=10_000).fit(X)
    from sklearn.cluster import KMeans

    for k, mean in zip(sweep.ks_, sweep.silhouettes_):
        labels = KMeans(int(k), n_init=1, random_state=0).fit_predict(X)
        assert mean == pytest.approx(silhouette_score(X, labels), abs=1e-5)


def test_k_means_thread_limits(grouped, monkeypatch: pytest.MonkeyPatch) -> None:
    from threadpoolctl import threadpool_info

    import clustering.clusters.kmeans as kmeans

    seen: list[tuple[str, int]] = []
    make = kmeans._kmeans

    def spy(*args, **kwargs):
        seen.extend((p["user_api"], p["num_threads"]) for p in threadpool_info())
        return make(*args, **kwargs)

    monkeypatch.setattr(kmeans, "_kmeans", spy)
    X, _ = grouped
    kmeans.KSweep(2, 4, n_init=1).fit(X)
    kmeans.ImageClusterer(3).fit(X)
    assert {n for api, n in seen if api == "blas"} == {1}
    assert {n for api, n in seen if api == "openmp"} == {kmeans.KMEANS_THREADS}
    assert kmeans.KMEANS_THREADS == max(1, (os.cpu_count() or 1) // 2)
