"""The clustering pipeline's steps, and analyze() end to end on small conversations."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score

from accord.deliberate import (
    PolisKMeans,
    PolisParams,
    SparsePCA,
    SparsityAwareScaler,
    VoteMatrix,
    analyze,
    polis_update,
    silhouette,
)

from .helpers import conversation_from_matrix, two_camps


def test_pca_equals_dense_pca_of_mean_imputed_votes():
    rng = np.random.default_rng(1)
    dense = rng.choice([-1.0, 0.0, 1.0, np.nan], size=(40, 9), p=[0.3, 0.2, 0.3, 0.2])
    mask = ~np.isnan(dense)
    X = sp.csr_matrix(np.where(mask, dense, 0.0))
    # Keep stored zeros for passes: rebuild from the mask so passes are entries.
    rows, cols = np.nonzero(mask)
    X = sp.csr_matrix((dense[rows, cols], (rows, cols)), shape=dense.shape)
    pca = SparsePCA(2).fit(X)
    col_mean = np.nanmean(dense, axis=0)
    imputed = np.where(mask, dense, col_mean)
    centred = imputed - imputed.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    assert np.allclose(pca.center_, col_mean)
    for k in range(2):
        assert abs(abs(pca.components_[k] @ vt[k]) - 1) < 1e-8
    # Projection of the cast votes only equals the dense projection (missing -> mean).
    assert np.allclose(pca.transform(X), centred @ pca.components_.T)


def test_sparsity_scaling_pushes_light_voters_out():
    X = sp.csr_matrix(np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 0, 0, 0]]))
    X.eliminate_zeros()  # participant 1 voted once
    scale = SparsityAwareScaler().fit(X).scale_
    assert scale.tolist() == pytest.approx([1.0, 2.0])  # sqrt(4/4), sqrt(4/1)
    # Polis's zeroed moderated-out columns: two more statements, two more "votes" each.
    scale = SparsityAwareScaler(n_columns=6, extra_votes=2).fit(X).scale_
    assert scale.tolist() == pytest.approx([(6 / 6) ** 0.5, (6 / 3) ** 0.5])


def test_polis_kmeans_starts_from_first_distinct_rows_and_weights_points():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [10.0, 0.0], [11.0, 0.0], [0.0, 1.0]])
    km = PolisKMeans(2, max_iter=20).fit(X)
    # Initial centres are rows 0 and 2 (row 1 repeats row 0).
    assert sorted(km.labels_.tolist()) == [0, 0, 0, 1, 1]
    assert km.labels_[2] == km.labels_[3] != km.labels_[0]
    weighted = PolisKMeans(2).fit(X, sample_weight=np.array([1, 1, 3, 1, 1]))
    far = weighted.cluster_centers_[weighted.labels_[2]]
    assert far[0] == pytest.approx((3 * 10 + 11) / 4)


def test_silhouette_by_hand():
    pts = np.array([0.0, 1.0, 10.0])
    dist = np.abs(pts[:, None] - pts[None, :])
    # Points 0,1 together, 2 alone (scores 0 as in Polis).
    s0 = (10 - 1) / 10  # a = 1 (to point 1), b = 10 (to point 2)
    s1 = (9 - 1) / 9
    assert silhouette(dist, np.array([0, 0, 1])) == pytest.approx((s0 + s1 + 0) / 3)


def test_in_conv_threshold_and_greedy_fill():
    # 20 participants; the first 16 vote on 8 statements, the last 4 on 2.
    rows = [[1] * 8 for _ in range(16)] + [[1, 1] + [None] * 6 for _ in range(4)]
    for i in range(16):
        rows[i][i % 8] = -1
    conv = conversation_from_matrix(rows)
    m = VoteMatrix.from_log(conv.votes)
    _, step = polis_update(None, m, moderated_out=set())
    assert step.in_conv.sum() == 16
    _, step = polis_update(None, m, moderated_out=set(), params=PolisParams(greedy_n=18))
    assert step.in_conv.sum() == 18  # two of the light voters let in to reach 18


def test_two_camps_are_found_and_results_are_deterministic():
    rows = two_camps(40, 12, seed=3)
    conv = conversation_from_matrix(rows)
    a = analyze(conv, seed=7)
    truth = [0] * 40 + [1] * 40
    got = [a.group_of()[i] for i in range(80)]
    assert adjusted_rand_score(truth, got) == 1.0
    assert len(a.groups) == 2
    b = analyze(conv, seed=7)
    assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)
    # Each camp's representative statements are its own side's: even for camp 0.
    g0 = a.groups[a.group_of()[0]]
    top = g0.representative[0]
    assert (top.statement_id % 2 == 0) == (top.direction == "agree")


def test_single_update_and_replay_agree_on_clear_structure():
    conv = conversation_from_matrix(two_camps(30, 10, seed=5))
    single = analyze(conv, history=False, bridging=False)
    replayed = analyze(conv, history=True, bridging=False)
    assert single.method == "single" and replayed.method == "replay"
    ids = sorted(single.group_of())
    assert adjusted_rand_score([single.group_of()[i] for i in ids],
                               [replayed.group_of()[i] for i in ids]) == 1.0


def test_moderated_out_statements_are_not_representative_or_consensus():
    rows = two_camps(30, 10, seed=2)
    for r in rows:
        r.append(1)  # statement 10: everyone agrees
    conv = conversation_from_matrix(rows)
    assert any(c.statement_id == 10 for c in analyze(conv, bridging=False).consensus["agree"])
    st = conv.statements[10]
    conv.statements[10] = type(st)(st.id, st.text, moderated=-1)
    a = analyze(conv, bridging=False)
    assert all(c.statement_id != 10 for c in a.consensus["agree"])
    assert a.statement(10).moderated_out
    assert a.statement(10).tally.agree == 60  # still tallied


def test_public_surface_resolves():
    import accord.deliberate as deliberate

    missing = [n for n in deliberate.__all__ if not hasattr(deliberate, n)]
    assert missing == []
