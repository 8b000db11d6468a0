"""PCA by count and by variance, the k sweep, the suggested k, and clustering."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from clustering.clusters.kmeans import ImageClusterer, KSweep, check_k, suggest_k
from clustering.clusters.silhouette import sample_silhouettes
from clustering.errors import InvalidK, TooFewImages
from clustering.reduce.pca import FeatureReducer, parse_pca, project_2d, variance_curve


@pytest.fixture
def blobs() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=300, centers=5, n_features=40, cluster_std=1.0, random_state=3)
    return X.astype(np.float32), y


@pytest.mark.parametrize("text,expected", [("none", None), ("50", 50), ("0.95", 0.95),
                                           (" 8 ", 8), (None, None), (0.5, 0.5)])
def test_parse_pca(text, expected) -> None:
    assert parse_pca(text) == expected


@pytest.mark.parametrize("bad", ["1.5", "-3", "0", "abc", "2.0001"])
def test_parse_pca_rejects_nonsense(bad) -> None:
    with pytest.raises(ValueError, match="PCA"):
        parse_pca(bad)


def test_pca_by_component_count(blobs) -> None:
    X, _ = blobs
    reducer = FeatureReducer(n_components=7).fit(X)
    assert reducer.transform(X).shape == (300, 7) and reducer.n_components_ == 7
    assert len(reducer.cumulative_variance_) == 7
    assert np.all(np.diff(reducer.cumulative_variance_) >= 0)


def test_pca_count_is_capped_by_the_data() -> None:
    X = np.random.default_rng(0).normal(size=(10, 30))
    assert FeatureReducer(n_components=50).fit(X).n_components_ == 10


def test_pca_by_variance_fraction(blobs) -> None:
    X, _ = blobs
    reducer = FeatureReducer(n_components=0.9).fit(X)
    curve = reducer.cumulative_variance_
    assert curve[-1] >= 0.9 and (len(curve) == 1 or curve[-2] < 0.9)


def test_no_pca_keeps_l2_normalised_features(blobs) -> None:
    X, _ = blobs
    out = FeatureReducer(n_components=None).fit(X).transform(X)
    assert out.shape == X.shape
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1, rtol=1e-5)
    raw = FeatureReducer(n_components=None, normalize=False).fit(X).transform(X)
    np.testing.assert_allclose(raw, X)


def test_whitening_gives_unit_variance(blobs) -> None:
    X, _ = blobs
    out = FeatureReducer(n_components=5, whiten=True).fit_transform(X)
    np.testing.assert_allclose(out.std(axis=0, ddof=1), 1, rtol=1e-3)


def test_variance_curve_and_projection(blobs) -> None:
    X, _ = blobs
    curve = variance_curve(X, max_components=20)
    assert len(curve) == 20 and 0 < curve[0] < curve[-1] <= 1.0 + 1e-6
    assert project_2d(X).shape == (300, 2)


def test_sweep_finds_the_true_number_of_clusters(blobs) -> None:
    X, _ = blobs
    sweep = KSweep(2, 12, random_state=0).fit(X)
    assert list(sweep.ks_) == list(range(2, 13))
    assert np.all(np.diff(sweep.inertias_) < 0)
    assert sweep.choice_.k == 5 and sweep.choice_.knee_k == 5
    assert sweep.choice_.best_silhouette_k == 5
    assert "elbow" in sweep.choice_.rule


def test_sweep_range_is_capped_at_n_minus_one() -> None:
    X = np.random.default_rng(1).normal(size=(6, 4))
    assert list(KSweep(2, 20).fit(X).ks_) == [2, 3, 4, 5]


def test_suggest_k_prefers_better_silhouette_next_to_the_elbow() -> None:
    ks = np.arange(2, 10)
    inertia = np.array([100, 50, 20, 15, 12, 10, 9, 8.0])  # elbow at 4
    silhouette = np.array([0.3, 0.35, 0.4, 0.5, 0.2, 0.1, 0.1, 0.1])
    choice = suggest_k(ks, inertia, silhouette)
    assert (choice.knee_k, choice.k) == (4, 5) and "k=5" in choice.rule


def test_suggest_k_without_elbow_uses_silhouette() -> None:
    ks = np.arange(2, 4)
    choice = suggest_k(ks, np.array([10.0, 5.0]), np.array([0.2, 0.6]))
    assert choice.k == 3 and choice.knee_k is None


def test_clusterer_labels_and_distances(blobs) -> None:
    X, y = blobs
    model = ImageClusterer(5, random_state=0).fit(X)
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(y, model.labels_) == pytest.approx(1.0)
    expected = np.linalg.norm(X - model.cluster_centers_[model.labels_], axis=1)
    np.testing.assert_allclose(model.distances_, expected, rtol=1e-4)


def test_minibatch_is_used_above_the_threshold(blobs, monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics import adjusted_rand_score

    from clustering.clusters import kmeans

    fitted: list[int] = []

    class CountingMiniBatch(MiniBatchKMeans):
        def fit(self, X, y=None, sample_weight=None):
            fitted.append(len(X))
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(kmeans, "MiniBatchKMeans", CountingMiniBatch)
    X, y = blobs
    ImageClusterer(5, random_state=0, minibatch_above=len(X)).fit(X)
    assert fitted == []
    model = ImageClusterer(5, random_state=0, minibatch_above=len(X) - 1).fit(X)
    assert fitted == [len(X)]
    assert adjusted_rand_score(y, model.labels_) > 0.95


def test_silhouettes_on_a_sample(blobs) -> None:
    X, y = blobs
    full = sample_silhouettes(X, y)
    assert not np.isnan(full).any() and full.mean() > 0.5
    sampled = sample_silhouettes(X, y, max_samples=100)
    assert np.isnan(sampled).sum() == 200


def test_k_checks() -> None:
    with pytest.raises(TooFewImages):
        check_k(2, 2)
    with pytest.raises(InvalidK, match="smaller than the number of images"):
        check_k(10, 10)
    with pytest.raises(InvalidK):
        check_k(1, 10)
    check_k(9, 10)
