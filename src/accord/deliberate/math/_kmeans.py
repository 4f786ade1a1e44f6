"""Polis's k-means, its silhouette, and the choice of the number of opinion groups.

Polis's k-means differs from scikit-learn's in ways that change answers on real data:
it starts from the first k *distinct* rows in data order (or from the previous update's
clusters), weights points (base clusters count as many participants as they hold),
drops clusters that lose all members instead of re-seeding them, and stops when no
centre moved by 0.01 or after a fixed number of iterations.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator, ClusterMixin

# Polis: clusterings are "the same" when every centre moved less than this.
SAME_CLUSTERING_TOL = 0.01
_CHUNK = 131_072  # rows per distance block: bounds memory at ~k * 1 MiB


def distinct_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first index of each distinct row in data order, each row's distinct-row number
    in that same order)."""
    if len(X) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.lexsort(X.T[::-1])
    s = X[order]
    new = np.ones(len(X), dtype=bool)
    new[1:] = np.any(s[1:] != s[:-1], axis=1)
    group = np.empty(len(X), dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    first = np.full(int(group.max()) + 1, len(X), dtype=np.int64)
    np.minimum.at(first, group, np.arange(len(X)))
    rank = np.empty_like(first)
    rank[np.argsort(first)] = np.arange(len(first))
    return np.sort(first), rank[group]


def distinct_row_starts(X: np.ndarray) -> np.ndarray:
    """Index of the first occurrence of each distinct row, in data order."""
    return distinct_rows(X)[0]


def first_distinct_rows(X: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` distinct rows of X in order (Polis's ``init-clusters``)."""
    return X[distinct_row_starts(X)[:k]]


def nearest_center(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for each row, in blocks so memory stays bounded."""
    labels = np.empty(len(X), dtype=np.int64)
    c_sq = (centers**2).sum(axis=1)
    for start in range(0, len(X), _CHUNK):
        block = X[start:start + _CHUNK]
        d = c_sq[None, :] - 2.0 * block @ centers.T
        labels[start:start + _CHUNK] = np.argmin(d, axis=1)
    return labels


def _assign_full(X: np.ndarray, centers: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest centre, distance to it, and distance to the second nearest, per row."""
    if len(centers) > 8 and len(X) > 1000:
        # Many centres, many points: a k-d tree over the centres is several times faster
        # than the dense distance blocks.
        d, i = cKDTree(centers).query(X, k=2)
        return i[:, 0].astype(np.int64), d[:, 0], d[:, 1]
    labels = np.empty(len(X), dtype=np.int64)
    d1 = np.empty(len(X))
    d2 = np.full(len(X), np.inf)
    c_sq = (centers**2).sum(axis=1)
    for start in range(0, len(X), _CHUNK):
        block = X[start:start + _CHUNK]
        d = c_sq[None, :] - 2.0 * block @ centers.T + (block**2).sum(axis=1)[:, None]
        np.maximum(d, 0.0, out=d)
        a = np.argmin(d, axis=1)
        rows = np.arange(len(block))
        labels[start:start + _CHUNK] = a
        d1[start:start + _CHUNK] = np.sqrt(d[rows, a])
        if d.shape[1] > 1:
            d[rows, a] = np.inf
            d2[start:start + _CHUNK] = np.sqrt(d.min(axis=1))
    return labels, d1, d2


def _reassign(X: np.ndarray, centers: np.ndarray, labels: np.ndarray, upper: np.ndarray,
              lower: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lloyd's assignment step, recomputing only rows whose bounds do not prove their
    centre is still the nearest (exactly the same labels, far less work once centres
    settle)."""
    check = np.flatnonzero(upper > lower)
    if len(check):
        upper[check] = np.linalg.norm(X[check] - centers[labels[check]], axis=1)
        check = check[upper[check] > lower[check]]
    if len(check):
        a, d1, d2 = _assign_full(X[check], centers)
        labels[check], upper[check], lower[check] = a, d1, d2
    return labels, upper, lower


def _same(old: np.ndarray, new: np.ndarray) -> bool:
    if len(old) != len(new):
        return False
    a, b = old[np.lexsort(old.T[::-1])], new[np.lexsort(new.T[::-1])]
    return bool(np.all(np.linalg.norm(a - b, axis=1) < SAME_CLUSTERING_TOL))


class PolisKMeans(ClusterMixin, BaseEstimator):
    """k-means as Polis runs it.

    Args:
        n_clusters: the k asked for; fewer clusters come out when some lose all members
            or the data has fewer distinct points.
        max_iter: Polis uses 100 for base clusters and 20 for groups.
        init: starting centres (e.g. the previous update's); by default the first k
            distinct rows of the data.

    Attributes (after fit):
        cluster_centers_: (n_found × d).
        labels_: index into ``cluster_centers_`` for every row.
        init_index_: for each final centre, the starting centre it grew from (clusters
            that lost all members are dropped, so this is how ids stay stable).
        n_iter_: iterations run.
    """

    def __init__(self, n_clusters: int = 2, max_iter: int = 20,
                 init: np.ndarray | None = None) -> None:
        self.n_clusters = n_clusters
        self.max_iter = max_iter
        self.init = init

    def fit(self, X: np.ndarray, y: object = None,
            sample_weight: np.ndarray | None = None) -> PolisKMeans:
        X = np.asarray(X, dtype=np.float64)
        w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
        centers = (first_distinct_rows(X, self.n_clusters) if self.init is None
                   else np.asarray(self.init, dtype=np.float64))
        index = np.arange(len(centers))
        self.n_iter_ = 0
        labels, upper, lower = _assign_full(X, centers)
        # Polis runs one step more than max_iter (its loop counts down to zero inclusive);
        # members are those assigned in the last step, centres their means after it.
        for step in range(self.max_iter + 1):
            if step > 0:
                labels, upper, lower = _reassign(X, centers, labels, upper, lower)
            wsum = np.bincount(labels, weights=w, minlength=len(centers))
            alive = wsum > 0
            new = np.column_stack([
                np.bincount(labels, weights=w * X[:, j], minlength=len(centers))
                for j in range(X.shape[1])])[alive] / wsum[alive, None]
            shift = np.linalg.norm(centers[alive] - new, axis=1)
            remap = np.cumsum(alive) - 1
            labels = remap[labels]
            self.n_iter_ += 1
            done = _same(centers, new)
            centers, index = new, index[alive]
            if done:
                break
            # Hamerly's bounds: a point's distance to its centre grows by at most that
            # centre's shift, to any other centre shrinks by at most the largest shift.
            upper = upper + shift[labels]
            lower = lower - (shift.max() if len(shift) else 0.0)
        self.cluster_centers_ = centers
        self.init_index_ = index
        self.labels_ = labels
        return self


def silhouette(dist: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette over points given their distance matrix (Polis's definition:
    a point alone in its cluster scores 0)."""
    n = len(labels)
    ks = np.unique(labels)
    if len(ks) < 2:
        return 0.0
    onehot = (labels[:, None] == ks[None, :]).astype(np.float64)
    sizes = onehot.sum(axis=0)
    sums = dist @ onehot  # distance from each point to all members of each cluster
    own = np.searchsorted(ks, labels)
    own_size = sizes[own] - 1
    a = np.divide(sums[np.arange(n), own], own_size, out=np.zeros(n), where=own_size > 0)
    means = sums / sizes[None, :]
    means[np.arange(n), own] = np.inf
    b = means.min(axis=1)
    s = np.divide(b - a, np.maximum(a, b), out=np.zeros(n), where=np.maximum(a, b) > 0)
    s[own_size == 0] = 0.0
    return float(s.mean())


def max_group_k(n_base: int, max_k: int = 5) -> int:
    """Polis tries k = 2 … min(max_k, 2 + n_base // 12) groups."""
    return min(max_k, 2 + n_base // 12)
