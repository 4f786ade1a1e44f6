"""The clustering pipeline's steps, and analyze() end to end on small conversations."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import DBSCAN, KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.metrics import adjusted_rand_score

from accord.deliberate.math import (
    Pipeline,
    PolisGrouping,
    PolisKMeans,
    PolisParams,
    ReduceAndCluster,
    SparsePCA,
    SparsityAwareScaler,
    VoteMatrix,
    analyze,
    polis_update,
    silhouette,
)
from accord.errors import AccordError

from ..helpers import conversation_from_matrix, two_camps


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


def test_math_package_is_public_and_needs_no_storage():
    import accord.deliberate.math as math

    assert [n for n in math.__all__ if not hasattr(math, n)] == []
    # Run in a fresh interpreter: analysing must not load the database or web layers.
    code = ("import sys\n"
            "from accord.deliberate.math import Conversation, Participant, Statement, "
            "VoteLog, analyze\n"
            "conv = Conversation(statements={j: Statement(j, 's') for j in range(3)},\n"
            "                    participants={i: Participant(i) for i in range(4)},\n"
            "                    votes=VoteLog([0, 1, 2, 3, 0, 1], [0, 0, 1, 2, 1, 2],\n"
            "                                  [1, -1, 1, 0, 1, -1], [0, 1, 2, 3, 4, 5]))\n"
            "analyze(conv, bridging=False)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in\n"
            "             ('sqlalchemy', 'fastapi', 'pydantic', 'typer', 'torch')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def _same(a, b) -> bool:
    return json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)


def test_pipeline_object_and_keyword_options_give_the_same_analysis():
    conv = conversation_from_matrix(two_camps(20, 8, seed=4))
    by_keywords = analyze(conv, seed=3, history=False, bridging=False, pick_max=2)
    by_pipeline = analyze(conv, Pipeline(grouping=PolisGrouping(history=False), bridging=False,
                                         pick_max=2), seed=3)
    assert _same(by_keywords, by_pipeline)
    assert by_pipeline.method == "single"
    # Keywords apply on top of a pipeline: here they switch the replay back on.
    replayed = analyze(conv, Pipeline(grouping=PolisGrouping(history=False)), history=True,
                       max_updates=3)
    assert replayed.method == "replay" and replayed.n_updates == 3


def test_unknown_options_are_refused_with_the_allowed_ones():
    conv = conversation_from_matrix(two_camps(5, 4))
    with pytest.raises(AccordError, match=r"unknown option\(s\) \['histroy'\].*history"):
        analyze(conv, histroy=False)
    custom = Pipeline(grouping=ReduceAndCluster(SparsePCA(2), PolisKMeans(2)))
    with pytest.raises(AccordError, match=r"configure Polis's grouping.*ReduceAndCluster"):
        analyze(conv, custom, max_updates=3)


def test_reduce_and_cluster_composes_any_reducer_and_clusterer():
    conv = conversation_from_matrix(two_camps(25, 10, seed=6))
    truth = [0] * 25 + [1] * 25
    clusterer = PolisKMeans(2)
    a = analyze(conv, Pipeline(grouping=ReduceAndCluster(SparsePCA(2), clusterer)), seed=1)
    assert a.method == "SparsePCA+PolisKMeans" and a.n_updates == 1
    assert adjusted_rand_score(truth, [a.group_of()[i] for i in range(50)]) == 1.0
    assert set(a.silhouettes) == {2} and a.silhouettes[2] > 0.5 and a.best_k == 2
    assert any(s.x != 0 for s in a.statements)  # SparsePCA places the statements
    assert not hasattr(clusterer, "labels_")  # what was passed in is cloned, not fitted

    sk = analyze(conv, Pipeline(grouping=ReduceAndCluster(TruncatedSVD(2), KMeans(2, n_init=4),
                                                          name="svd-kmeans")))
    assert sk.method == "svd-kmeans"
    assert adjusted_rand_score(truth, [sk.group_of()[i] for i in range(50)]) == 1.0
    assert all(s.x == 0 and s.y == 0 for s in sk.statements)  # no statement_projection


def test_noise_labels_leave_participants_out_of_every_group():
    conv = conversation_from_matrix(two_camps(10, 6, seed=2))
    a = analyze(conv, Pipeline(grouping=ReduceAndCluster(SparsePCA(2), DBSCAN(eps=1e-9,
                                                                                min_samples=50))))
    assert a.groups == [] and a.silhouettes == {} and a.best_k == 0
    assert all(p.group is None for p in a.participants)
    assert all(s.group_tallies == {} for s in a.statements)


def test_meta_statements_are_left_out_of_the_grouping_as_polis_does():
    # Polis's moderation update puts is-meta statements in mod-out with the moderated-out
    # ones: the map and the groups are the same whichever of the two a statement is.
    import dataclasses

    conv = conversation_from_matrix(two_camps(20, 8, seed=3))
    first = conv.statements[0]
    as_meta = dataclasses.replace(conv, statements={
        **conv.statements, 0: dataclasses.replace(first, is_meta=True)})
    as_out = dataclasses.replace(conv, statements={
        **conv.statements, 0: dataclasses.replace(first, moderated=-1)})
    meta = analyze(as_meta, bridging=False)
    out = analyze(as_out, bridging=False)
    assert meta.group_of() == out.group_of()
    assert [(p.x, p.y) for p in meta.participants] == [(p.x, p.y) for p in out.participants]
    assert all(r.statement_id != 0 for g in meta.groups for r in g.representative)
