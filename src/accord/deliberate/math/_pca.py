"""PCA of a sparse vote matrix, and Polis's sparsity-aware projection of participants.

Polis imputes each missing vote with its statement's mean and centres the columns; the
centred matrix is then zero wherever a vote is missing, so it keeps the vote matrix's
sparsity pattern and the principal components are the top eigenvectors of its small
statements × statements Gram matrix. Polis finds them by power iteration with deflation,
restarted from the previous components on every update; run to convergence that is the
exact eigen-decomposition, which is what we compute (``eigh`` on the Gram matrix, or
Lanczos on a matrix-free operator when there are many statements).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from sklearn.base import BaseEstimator, TransformerMixin

# The dense Gram matrix costs p² memory and Σ(votes per participant)² work; beyond these
# Lanczos on the matrix-free operator C.T @ C is cheaper.
_DENSE_GRAM_MAX = 4000
_GRAM_MAX_WORK = 2e9


def _centered(X: sp.csr_matrix, center: np.ndarray) -> sp.csr_matrix:
    """X minus its column means on the stored entries only (missing votes stay zero)."""
    data = X.data - center[X.indices]
    return sp.csr_matrix((data, X.indices, X.indptr), shape=X.shape)


def _subspace_iteration(gram: np.ndarray, start: np.ndarray, max_iter: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Top eigenpairs of ``gram`` by block power iteration from ``start`` (rows).

    Polis restarts power iteration from the previous update's components; so do we when
    given them (a conversation update changes the components little, so a few steps
    converge), then rotate within the block (Rayleigh–Ritz) to separate the components.
    """
    p, k = gram.shape[0], start.shape[0]
    q = np.array(start, dtype=np.float64).T
    if q.shape[0] < p:  # statements added since: their loadings start at zero
        q = np.vstack([q, np.zeros((p - q.shape[0], k))])
    q, _ = np.linalg.qr(q + 1e-12)
    for _ in range(max_iter):
        z, _ = np.linalg.qr(gram @ q)
        done = np.abs(np.abs(np.sum(z * q, axis=0)) - 1).max() < 1e-12
        q = z
        if done:
            break
    vals, rot = np.linalg.eigh(q.T @ gram @ q)
    order = np.argsort(vals)[::-1]
    return vals[order], q @ rot[:, order]


class SparsePCA(TransformerMixin, BaseEstimator):
    """PCA on mean-imputed votes, without ever densifying the vote matrix.

    Args:
        n_components: how many components (Polis uses 2).
        random_state: seeds the Lanczos start vector (only used with many statements).

    Attributes (after fit):
        center_: per-statement mean of the cast votes (the imputed value).
        components_: (n_components × n_statements), each sign-fixed so its largest
            entry is positive, so results do not depend on the eigen-solver's whim.
        explained_variance_: eigenvalues of the covariance for each component.
    """

    def __init__(self, n_components: int = 2, random_state: int | None = 0,
                 start_components: np.ndarray | None = None, max_iter: int = 100) -> None:
        self.n_components = n_components
        self.random_state = random_state
        self.start_components = start_components
        self.max_iter = max_iter

    def fit(self, X: sp.csr_matrix, y: object = None) -> SparsePCA:
        X = sp.csr_matrix(X)
        n, p = X.shape
        counts = np.bincount(X.indices, minlength=p)
        sums = np.bincount(X.indices, weights=X.data, minlength=p)
        self.center_ = np.divide(sums, counts, out=np.zeros(p), where=counts > 0)
        C = _centered(X, self.center_)
        k = min(self.n_components, n, p)
        start = self.start_components
        per_row = np.diff(X.indptr).astype(np.float64)
        small = p <= _DENSE_GRAM_MAX and float(per_row @ per_row) <= _GRAM_MAX_WORK
        if small or k >= p - 1:
            gram = C.T @ C
            gram = gram.toarray() if sp.issparse(gram) else np.asarray(gram)
            if start is not None and start.shape[0] >= k and k >= 1:
                vals, vecs = _subspace_iteration(gram, start[:k], self.max_iter)
            else:
                # Only the top k eigenpairs: much cheaper than the full decomposition.
                vals, vecs = sla.eigh(gram, subset_by_index=[p - k, p - 1])
                vals, vecs = vals[::-1], vecs[:, ::-1]
        else:
            Ct = C.T.tocsr()
            op = spla.LinearOperator((p, p), matvec=lambda v: Ct @ (C @ v), dtype=np.float64)
            v0 = np.random.default_rng(self.random_state).standard_normal(p)
            vals, vecs = spla.eigsh(op, k=k, which="LA", v0=v0)
            top = np.argsort(vals)[::-1]
            vals, vecs = vals[top], vecs[:, top]
        comps = vecs.T.copy()
        for c in comps:
            if c[np.argmax(np.abs(c))] < 0:
                c *= -1
        if k < self.n_components:
            comps = np.vstack([comps, np.zeros((self.n_components - k, p))])
            vals = np.concatenate([vals, np.zeros(self.n_components - k)])
        self.components_ = comps
        self.explained_variance_ = np.maximum(vals, 0) / max(n - 1, 1)
        return self

    def transform(self, X: sp.csr_matrix) -> np.ndarray:
        """Raw projection using only the votes each participant cast."""
        return np.asarray(_centered(sp.csr_matrix(X), self.center_) @ self.components_.T)

    def statement_projection(self, n_columns: int) -> np.ndarray:
        """Where each statement sits: a virtual participant who agreed with it alone,
        projected and scaled like a participant (Polis's ``pca-project-cmnts``)."""
        return ((1.0 - self.center_)[:, None] * self.components_.T) * np.sqrt(n_columns)


class SparsityAwareScaler(TransformerMixin, BaseEstimator):
    """Scale each participant's projection by sqrt(n_statements / n_votes_cast).

    A participant who voted on few statements projects near the centre only because the
    missing votes were imputed with the mean; Polis pushes them out by this factor.

    Args:
        n_columns: the statement count in the numerator; Polis counts every column of its
            rating matrix, moderated-out statements included.
        extra_votes: votes every participant is credited with; Polis zeroes moderated-out
            columns for everyone, which turns them into cast "votes", so it is their count.
    """

    def __init__(self, n_columns: int | None = None, extra_votes: int = 0) -> None:
        self.n_columns = n_columns
        self.extra_votes = extra_votes

    def fit(self, X: sp.csr_matrix, y: object = None) -> SparsityAwareScaler:
        X = sp.csr_matrix(X)
        n_cols = X.shape[1] if self.n_columns is None else self.n_columns
        cast = np.diff(X.indptr) + self.extra_votes
        self.scale_ = np.sqrt(n_cols / np.maximum(cast, 1))
        return self

    def transform(self, projection: np.ndarray) -> np.ndarray:
        return projection * self.scale_[:, None]
