"""Dimensionality reduction: optional L2 normalisation, then PCA."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.preprocessing import normalize

from clustering.reduce.copies import first_copies
from clustering.settings import Settings


def parse_pca(value: str | int | float | None) -> int | float | None:
    """``"none"`` -> None, ``"50"`` -> 50 components, ``"0.95"`` -> keep 95 % of variance."""
    text = "none" if value is None else str(value).strip().lower()
    if text in ("", "none", "off"):
        return None
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if 0 < number < 1:
        return number
    if number >= 1 and number.is_integer():
        return int(number)
    raise ValueError(f"PCA must be a whole number of components (>= 1), a fraction of "
                     f"variance between 0 and 1, or 'none' (got {value!r})")


class FeatureReducer(BaseEstimator, TransformerMixin):
    """L2-normalise (optional), then PCA to ``n_components``.

    ``n_components`` is a count (int), a fraction of variance to keep (0 < f < 1),
    or None for no PCA. A count larger than the data allows is capped.
    After ``fit``: ``n_components_``, ``explained_variance_ratio_`` (per component)
    and ``cumulative_variance_`` (the explained-variance curve).
    """

    def __init__(self, n_components: int | float | None = Settings.pca,
                 whiten: bool = Settings.whiten, normalize: bool = Settings.normalize,
                 random_state: int = Settings.seed) -> None:
        self.n_components = n_components
        self.whiten = whiten
        self.normalize = normalize
        self.random_state = random_state

    def fit(self, X: np.ndarray, y=None) -> "FeatureReducer":
        X = self._prepare(X)
        self.n_features_in_ = X.shape[1]
        if self.n_components is None:
            self.pca_ = None
            self.n_components_ = X.shape[1]
            self.explained_variance_ratio_ = np.array([])
            self.cumulative_variance_ = np.array([])
            return self
        n = self.n_components
        if isinstance(n, int):
            n = min(n, min(X.shape))
        self.pca_ = _fit_pca(X, n, self.whiten, self.random_state)
        self.n_components_ = int(self.pca_.n_components_)
        self.explained_variance_ratio_ = self.pca_.explained_variance_ratio_
        self.cumulative_variance_ = np.cumsum(self.explained_variance_ratio_)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The reduced rows; copies of one row get exactly equal results."""
        X = np.asarray(X, dtype=np.float32)
        copies = first_copies(X)
        X = self._prepare(X)
        reduced = X if self.pca_ is None else self.pca_.transform(X).astype(np.float32)
        return reduced if np.array_equal(copies, np.arange(len(copies))) else reduced[copies]

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        return normalize(X) if self.normalize else X


COVARIANCE_UP_TO = 1000  # features: up to this many, PCA via the covariance matrix
RANDOMIZED_ABOVE = 1000  # samples and features: above, a variance fraction via randomized SVD
RANDOMIZED_START = 256  # components tried first by the randomized SVD (doubled if short)


def _fit_pca(X: np.ndarray, n: int | float, whiten: bool, random_state: int) -> PCA:
    """PCA to ``n`` components (or variance fraction), with a solver fit for the shape.

    A full SVD costs n x d^2 (minutes for 10k x 4096 on two cores); instead:

    * few features and many more samples: the eigen-decomposition of the d x d
      covariance matrix (exact, d^2 memory);
    * many of both and a variance fraction: randomized SVD for the leading
      ``RANDOMIZED_START`` components (doubled until they reach the fraction), cut
      where the fraction is reached, against the exact total variance;
    * otherwise the full SVD.
    """
    rows, cols = X.shape
    if cols <= COVARIANCE_UP_TO and rows >= 2 * cols:
        return PCA(n_components=n, whiten=whiten, svd_solver="covariance_eigh",
                   random_state=random_state).fit(X)
    limit = min(rows, cols)
    if isinstance(n, float) and limit > RANDOMIZED_ABOVE:
        rank = RANDOMIZED_START
        while 2 * rank <= limit:
            pca = PCA(n_components=rank, whiten=whiten, svd_solver="randomized",
                      random_state=random_state).fit(X)
            cumulative = np.cumsum(pca.explained_variance_ratio_)
            keep = int(np.searchsorted(cumulative, n, side="right")) + 1  # as PCA does
            if keep <= rank:
                return _first_components(pca, keep)
            rank *= 2
    return PCA(n_components=n, whiten=whiten, svd_solver="full",
               random_state=random_state).fit(X)


def _first_components(pca: PCA, keep: int) -> PCA:
    """A fitted PCA cut to its first ``keep`` components (the rest discarded)."""
    pca.components_ = pca.components_[:keep]
    pca.explained_variance_ = pca.explained_variance_[:keep]
    pca.explained_variance_ratio_ = pca.explained_variance_ratio_[:keep]
    pca.singular_values_ = pca.singular_values_[:keep]
    total = pca.explained_variance_[0] / pca.explained_variance_ratio_[0]
    rest = pca.n_features_in_ - keep
    pca.noise_variance_ = max(0.0, total - pca.explained_variance_.sum()) / rest if rest else 0.0
    pca.n_components_ = pca.n_components = keep
    return pca


def variance_curve(X: np.ndarray, normalize_rows: bool = True,
                   max_components: int = 200) -> np.ndarray:
    """Cumulative explained variance of the first components (for the PCA chart)."""
    X = np.asarray(X, dtype=np.float32)
    if normalize_rows:
        X = normalize(X)
    n = min(max_components, *X.shape)
    pca = PCA(n_components=n, svd_solver="randomized" if n < min(X.shape) else "full",
              random_state=0).fit(X)
    return np.cumsum(pca.explained_variance_ratio_)


def _plane_pca(X: np.ndarray, random_state: int) -> PCA | None:
    """The 2-D map's PCA (unfitted), or None when ``X`` has under 2 rows or dimensions."""
    if len(X) < 2 or X.ndim != 2 or X.shape[1] < 2:
        return None
    return PCA(n_components=2, random_state=random_state)


def project_2d(X: np.ndarray, random_state: int = 0) -> np.ndarray:
    """A 2-D PCA projection of ``X`` for plotting (all zeros for 1-D data)."""
    X = np.asarray(X, dtype=np.float32)
    pca = _plane_pca(X, random_state)
    if pca is None:
        return np.zeros((len(X), 2), dtype=np.float32)
    return pca.fit_transform(X).astype(np.float32)


def fit_plane(X: np.ndarray, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and the two axes (2, dim) of :func:`project_2d`'s map of ``X``, to place
    other points on it (:func:`on_plane`); zero axes when it has no plane."""
    X = np.asarray(X, dtype=np.float32)
    pca = _plane_pca(X, random_state)
    if pca is None:
        return np.zeros(X.shape[-1]), np.zeros((2, X.shape[-1]))
    pca.fit(X)
    return pca.mean_, pca.components_


def on_plane(X: np.ndarray, plane: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``X``'s (n, 2) float32 coordinates on a plane from :func:`fit_plane`."""
    mean, axes = plane
    return ((np.asarray(X, dtype=np.float32) - mean) @ axes.T).astype(np.float32)
