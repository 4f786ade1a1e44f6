"""Bridging scores by matrix factorisation, after Community Notes.

Each vote is modelled as ``r_ui ≈ μ + b_u + b_i + f_u·f_i`` with agree = 1, disagree = 0
(passes carry no opinion and are left out). The 1-D factor ``f`` soaks up the main axis
of disagreement: a statement one camp likes gets a large ``|f_i|`` and explains its
support through it. What is left in the intercept ``b_i`` is support that does not
depend on which side a participant is on, so a high ``b_i`` means people who usually
disagree both agree: the statement bridges.

Fitting is alternating ridge regression: with one side's parameters fixed, every
participant's (or statement's) ``(b, f)`` solves its own 2×2 system, and all the sums
those systems need are sparse matrix-vector products, so a fit over tens of millions
of votes takes seconds. Uncertainty: the Laplace approximation (the posterior covariance
of a statement's ``(b_i, f_i)`` given the participants' parameters, σ²·H⁻¹), and, on
request, a bootstrap over participants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class BridgingFit:
    """A fitted bridging model.

    Attributes:
        intercept: b_i per statement — the bridging score (agree-probability units).
        intercept_se: its standard error (Laplace, or bootstrap when requested).
        factor: f_i per statement: its position on the main axis of disagreement.
        n_ratings: agree/disagree votes each statement got.
        participant_factor: f_u per participant.
        mu: global mean; residual_sd: σ of the residuals.
    """

    intercept: np.ndarray
    intercept_se: np.ndarray
    factor: np.ndarray
    n_ratings: np.ndarray
    participant_factor: np.ndarray
    mu: float
    residual_sd: float
    iterations: int


def _solve2(a: np.ndarray, b: np.ndarray, c: np.ndarray, y0: np.ndarray, y1: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve [[a, b], [b, c]] x = y for many 2×2 systems; also return (H⁻¹)₀₀."""
    det = a * c - b * b
    inv00 = c / det
    return (c * y0 - b * y1) / det, (a * y1 - b * y0) / det, inv00


class BridgingModel:
    """Fit ``r ≈ μ + b_u + b_i + f_u f_i`` on a sparse vote matrix.

    Args:
        lambda_intercept: ridge penalty on intercepts, in pseudo-votes (Community Notes
            penalises intercepts five times harder than factors so that a statement's
            intercept must be earned by many votes).
        lambda_factor: ridge penalty on factors.
        max_iter: alternating rounds at most (the intercepts' last digits drift slowly
            between participant and statement intercepts; twenty rounds from the PCA
            start settle statement intercepts well inside their standard error).
        tol: stop when no statement's intercept or factor moves more in a round.
        bootstrap: if > 0, replace the Laplace standard error with that of this many
            refits on participants resampled with replacement.
        random_state: seeds the factor initialisation and the bootstrap.
    """

    def __init__(self, lambda_intercept: float = 5.0, lambda_factor: float = 1.0,
                 max_iter: int = 20, tol: float = 1e-3, bootstrap: int = 0,
                 random_state: int = 0) -> None:
        self.lambda_intercept = lambda_intercept
        self.lambda_factor = lambda_factor
        self.max_iter = max_iter
        self.tol = tol
        self.bootstrap = bootstrap
        self.random_state = random_state

    def fit(self, votes: sp.csr_matrix, init_factor: np.ndarray | None = None) -> BridgingFit:
        """Fit the model.

        Args:
            votes: participants × statements, values in {-1, 0, 1}, missing absent.
            init_factor: a starting participant factor, e.g. the first principal
                component of the projection: the axis the factor will find anyway, so
                alternating least squares starts near its answer and converges in a few
                rounds instead of dozens. Random (seeded) when omitted.
        """
        m = sp.csr_matrix(votes)
        opinion = m.data != 0
        row_of = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        indptr = np.zeros(m.shape[0] + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(row_of[opinion], minlength=m.shape[0]))
        R = sp.csr_matrix(((m.data[opinion] > 0).astype(np.float64), m.indices[opinion],
                           indptr), shape=m.shape)
        rng = np.random.default_rng(self.random_state)
        fit = self._fit(R, np.ones(m.shape[0]), rng, None, init_factor)
        if self.bootstrap > 0:
            draws = []
            for _ in range(self.bootstrap):
                w = rng.multinomial(m.shape[0], np.full(m.shape[0], 1 / m.shape[0]))
                draws.append(self._fit(R, w.astype(float), rng, fit).intercept)
            fit.intercept_se = np.std(np.array(draws), axis=0, ddof=1)
        return fit

    def _fit(self, R: sp.csr_matrix, w: np.ndarray, rng: np.random.Generator,
             warm: BridgingFit | None, init_factor: np.ndarray | None = None) -> BridgingFit:
        n, p = R.shape
        A = sp.csr_matrix((np.ones_like(R.data), R.indices, R.indptr), shape=R.shape)
        # Participant weights (bootstrap multiplicities) enter the statement-side sums.
        unit = bool(np.all(w == 1.0))
        Aw, Rw = (A, R) if unit else (sp.diags(w) @ A, sp.diags(w) @ R)
        Awt, Rwt = Aw.T.tocsr(), Rw.T.tocsr()
        n_u, n_i = np.asarray(A.sum(axis=1)).ravel(), np.asarray(Aw.sum(axis=0)).ravel()
        r_u, r_i = np.asarray(R.sum(axis=1)).ravel(), np.asarray(Rw.sum(axis=0)).ravel()
        total_w, total_r = float(n_i.sum()), float(r_i.sum())
        lb, lf = self.lambda_intercept, self.lambda_factor
        if warm is None:
            mu = total_r / max(total_w, 1.0)
            if init_factor is not None and np.std(init_factor) > 0:
                fu = (init_factor - np.mean(init_factor)) / np.std(init_factor)
            else:
                fu = rng.normal(0.0, 0.1, n)
            bu, bi, fi = np.zeros(n), np.zeros(p), np.zeros(p)
        else:
            mu, fu, fi, bi = warm.mu, warm.participant_factor.copy(), warm.factor.copy(), \
                warm.intercept.copy()
            bu = np.zeros(n)
        it = 0
        prev_b, prev_f = bi.copy(), fi.copy()
        for it in range(1, self.max_iter + 1):  # noqa: B007 - reported as iterations
            # Statements given participants: one pass over the matrix for all four sums.
            s_f, s_ff, s_b, s_bf = (Awt @ np.column_stack([fu, fu * fu, bu, bu * fu])).T
            y0 = r_i - mu * n_i - s_b
            y1 = Rwt @ fu - mu * s_f - s_bf
            bi, fi, inv00 = _solve2(n_i + lb, s_f, s_ff + lf, y0, y1)
            # Participants given statements.
            s_f, s_ff, s_b, s_bf = (A @ np.column_stack([fi, fi * fi, bi, bi * fi])).T
            y0 = r_u - mu * n_u - s_b
            y1 = R @ fi - mu * s_f - s_bf
            bu, fu, _ = _solve2(n_u + lb, s_f, s_ff + lf, y0, y1)
            pred_sum = w @ (n_u * bu) + n_i @ bi + w @ (fu * s_f)
            mu = (total_r - pred_sum) / max(total_w, 1.0)
            # Converged when no statement parameter moves by more than tol.
            moved = max(np.abs(bi - prev_b).max(initial=0), np.abs(fi - prev_f).max(initial=0))
            if moved <= self.tol:
                break
            prev_b, prev_f = bi.copy(), fi.copy()
        rss = self._rss(R, A, w, mu, bu, bi, fu, fi)
        sigma2 = rss / max(total_w, 1.0)  # maximum-likelihood residual variance
        s_f, s_ff = Awt @ fu, Awt @ (fu * fu)
        _, _, inv00 = _solve2(n_i + lb, s_f, s_ff + lf, np.zeros(p), np.zeros(p))
        return BridgingFit(bi, np.sqrt(sigma2 * inv00), fi, n_i, fu, float(mu),
                           float(np.sqrt(sigma2)), it)

    @staticmethod
    def _rss(R: sp.csr_matrix, A: sp.csr_matrix, w: np.ndarray, mu: float, bu: np.ndarray,
             bi: np.ndarray, fu: np.ndarray, fi: np.ndarray) -> float:
        rows = np.repeat(np.arange(R.shape[0]), np.diff(R.indptr))
        pred = mu + bu[rows] + bi[R.indices] + fu[rows] * fi[R.indices]
        return float(w[rows] @ (R.data - pred) ** 2)
