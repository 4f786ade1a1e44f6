"""Bridging scores recover a statement both camps support."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from accord.deliberate.math import BridgingModel


def _planted(seed: int = 0):
    """300 participants in two camps (240 vs 60), 30 statements, 60 % of votes cast.

    Statements 0–27 are partisan: camp A agrees with even ones, camp B with odd ones.
    Statement 28 bridges: 75 % of both camps agree. Statement 29 is majority-only:
    camp A (four fifths of everyone) agrees 97 %, camp B 5 %, so its overall agree
    share beats the bridging statement's while it divides the camps.
    """
    rng = np.random.default_rng(seed)
    camp = np.array([0] * 240 + [1] * 60)
    n, p = len(camp), 30
    prob = np.empty((n, p))
    for j in range(28):
        prob[:, j] = np.where(camp == j % 2, 0.9, 0.1)
    prob[:, 28] = 0.75
    prob[:, 29] = np.where(camp == 0, 0.97, 0.05)
    votes = np.where(rng.random((n, p)) < prob, 1.0, -1.0)
    cast = rng.random((n, p)) < 0.6
    rows, cols = np.nonzero(cast)
    return sp.csr_matrix((votes[rows, cols], (rows, cols)), shape=(n, p)), votes, cast


def test_bridging_statement_has_the_highest_intercept():
    X, votes, cast = _planted()
    fit = BridgingModel(random_state=0).fit(X)
    assert int(np.argmax(fit.intercept)) == 28
    # Majority agreement alone would have ranked the majority-only statement first.
    share = [(votes[cast[:, j], j] > 0).mean() for j in range(30)]
    assert share[29] > share[28]
    assert fit.intercept[28] > fit.intercept[29] + 2 * fit.intercept_se[28]
    # Partisan statements load on the factor; the bridging one barely does.
    assert abs(fit.factor[28]) < np.median(np.abs(fit.factor[:28]))
    assert np.all(fit.intercept_se > 0)


def test_bootstrap_standard_errors_are_comparable_to_laplace():
    X, _, _ = _planted(1)
    laplace = BridgingModel(random_state=0).fit(X)
    boot = BridgingModel(random_state=0, bootstrap=20).fit(X)
    ratio = np.median(boot.intercept_se / laplace.intercept_se)
    assert 0.3 < ratio < 3.0
    assert np.allclose(boot.intercept, laplace.intercept)  # same point estimate


def test_bridging_is_deterministic_given_seed():
    X, _, _ = _planted(2)
    a = BridgingModel(random_state=5).fit(X)
    b = BridgingModel(random_state=5).fit(X)
    assert np.array_equal(a.intercept, b.intercept)
