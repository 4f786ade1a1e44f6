"""One Polis update and its history: k-smoothing, update batches, and k-means at scale
(the k-d tree and Hamerly bounds give plain Lloyd's answer). The four real conversations
exercise these end to end only in the slow test; these pin them down quickly."""

from __future__ import annotations

import numpy as np
import pytest

from accord.deliberate.math import (
    PolisKMeans,
    PolisParams,
    VoteMatrix,
    analyze,
    polis_update,
    replay,
)

from ..helpers import conversation_from_matrix


def camps(n_camps: int, per_camp: int, n_statements: int, seed: int) -> list[list[int]]:
    """Camp c agrees with statements j where j % 3 == c and disagrees with the rest; one
    vote in ten flipped, so participants are distinct points."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_camps):
        for _ in range(per_camp):
            row = [1 if j % 3 == c else -1 for j in range(n_statements)]
            rows.append([-v if rng.random() < 0.1 else v for v in row])
    return rows


def test_a_new_best_k_is_adopted_only_after_winning_k_buffer_updates():
    two = VoteMatrix.from_log(conversation_from_matrix(camps(2, 15, 9, seed=1)).votes)
    three = VoteMatrix.from_log(conversation_from_matrix(camps(3, 15, 9, seed=1)).votes)
    state, step = polis_update(None, two, moderated_out=set())
    assert (step.best_k, step.k) == (2, 2)
    used = []
    for _ in range(5):
        state, step = polis_update(state, three, moderated_out=set())
        assert step.best_k == 3
        used.append(step.k)
    assert used == [2, 2, 2, 3, 3]  # k_buffer = 4: the fourth win in a row switches
    _, step = polis_update(None, three, moderated_out=set(), params=PolisParams(k_buffer=9))
    assert step.k == step.best_k  # a fresh start takes its best k at once


def test_history_is_cut_into_time_buckets_and_merged_beyond_max_updates():
    # 20 participants × 6 statements, one vote a second: 120 s of history.
    conv = conversation_from_matrix(camps(2, 10, 6, seed=2))
    assert analyze(conv, bridging=False, replay_interval_ms=60_000).n_updates == 2
    assert analyze(conv, bridging=False, replay_interval_ms=10_000).n_updates == 12
    assert analyze(conv, bridging=False, replay_interval_ms=10_000,
                   max_updates=5).n_updates == 5
    assert analyze(conv, bridging=False, history=False).n_updates == 1


def test_k_margin_takes_the_smallest_k_near_the_best_silhouette():
    two = VoteMatrix.from_log(conversation_from_matrix(camps(2, 15, 9, seed=1)).votes)
    three = VoteMatrix.from_log(conversation_from_matrix(camps(3, 15, 9, seed=1)).votes)
    # Started from the two-camp clusters (as in the test above), k = 3 scores best.
    start, _ = polis_update(None, two, moderated_out=set())
    _, plain = polis_update(start, three, moderated_out=set(), params=PolisParams(k_margin=0))
    # No margin: Polis's rule, the best silhouette among the candidates.
    assert plain.best_k == max(plain.candidates, key=lambda k: (plain.silhouettes[k], -k))
    gap = plain.silhouettes[plain.best_k] - plain.silhouettes[2]
    assert plain.best_k == 3 and gap > 0
    _, within = polis_update(start, three, moderated_out=set(),
                             params=PolisParams(k_margin=gap + 1e-9))
    assert within.best_k == 2  # 3 does not beat 2 by more than the margin
    _, beyond = polis_update(start, three, moderated_out=set(),
                             params=PolisParams(k_margin=gap / 2))
    assert beyond.best_k == 3


def test_replay_reports_every_update_with_its_candidates():
    conv = conversation_from_matrix(camps(2, 10, 6, seed=2))
    seen = []
    state, step, _, n = replay(conv.votes, set(), interval_ms=10_000,
                               on_update=lambda st, sp: seen.append((st, sp)))
    assert n == len(seen) == 12
    assert seen[-1] == (state, step)
    for _, sp in seen:
        assert sp.best_k in sp.candidates
        assert set(sp.candidates) <= set(sp.silhouettes) | {1}


def _lloyd(X: np.ndarray, k: int, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Polis's k-means written plainly: dense distances, every point every step."""
    _, first = np.unique(X, axis=0, return_index=True)
    centers = X[np.sort(first)[:k]]
    labels = np.zeros(len(X), dtype=int)
    for _ in range(max_iter + 1):
        labels = np.argmin(((X[:, None, :] - centers[None]) ** 2).sum(axis=2), axis=1)
        alive = np.unique(labels)
        new = np.array([X[labels == c].mean(axis=0) for c in alive])
        labels = np.searchsorted(alive, labels)
        old_sorted = centers[np.lexsort(centers.T[::-1])]
        new_sorted = new[np.lexsort(new.T[::-1])]
        done = len(centers) == len(new) and bool(
            np.all(np.linalg.norm(old_sorted - new_sorted, axis=1) < 0.01))
        centers = new
        if done:
            break
    return centers, labels


@pytest.mark.parametrize("k", [3, 20])
def test_polis_kmeans_at_scale_equals_plain_lloyd(k):
    # 3000 points, 20 centres: the k-d tree and the bounds are in play.
    rng = np.random.default_rng(5)
    blobs = rng.normal(size=(6, 2)) * 4
    X = blobs[rng.integers(0, 6, 3000)] + rng.normal(size=(3000, 2))
    km = PolisKMeans(k, max_iter=100).fit(X)
    centers, labels = _lloyd(X, k, 100)
    assert np.array_equal(km.labels_, labels)
    assert np.allclose(km.cluster_centers_, centers)
