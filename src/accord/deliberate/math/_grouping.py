"""The pluggable step of :func:`analyze`: placing participants on the opinion map and
forming opinion groups.

A grouping method turns the vote matrix into a position per participant (the reducer's
job) and a group per participant (the clusterer's). :class:`PolisGrouping` is Polis's:
sparsity-aware PCA, base clusters, k chosen by silhouette with k-smoothing, and the vote
history replayed as Polis's successive updates. :class:`ReduceAndCluster` composes any
scikit-learn-style reducer and clusterer in one update, in the manner of red-dwarf's
``reducer=`` / ``clusterer=`` pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ._conversation import VoteLog
from ._history import replay
from ._matrix import VoteMatrix
from ._update import PolisParams, polis_update


@dataclass(frozen=True)
class Grouping:
    """Where a grouping method put the participants, and in which groups.

    Attributes:
        matrix: the votes it worked on (rows participants, columns the statements not
            moderated out); :func:`analyze` maps its rows onto every voter by id.
        projection: (rows × 2) each row's position in the opinion map.
        labels: each row's group, 0…k−1, or −1 when the method left the row out.
        statement_xy: (columns × 2) each statement's position in the opinion map.
        silhouettes: k -> silhouette of the clustering into k groups (may be empty).
        best_k: the k the method judged best (the groups may use another, e.g. Polis's
            k-smoothing holds the previous k for a few updates).
        method: a short name recorded as :attr:`Analysis.method`.
        n_updates: updates run (1 unless a history was replayed).
    """

    matrix: VoteMatrix
    projection: np.ndarray
    labels: np.ndarray
    statement_xy: np.ndarray
    silhouettes: dict[int, float]
    best_k: int
    method: str
    n_updates: int = 1


class GroupingMethod(Protocol):
    """What :class:`Pipeline` accepts as its ``grouping`` step."""

    def group(self, log: VoteLog, full: VoteMatrix, moderated_out: set[int], seed: int
              ) -> Grouping:
        """Place and group the voters of ``full`` (the latest votes of ``log``).

        Args:
            log: the vote history the matrix was built from (for methods that replay it).
            full: latest votes, every statement included.
            moderated_out: ids of statements excluded from the math.
            seed: the analysis seed; the same seed must give the same grouping.
        """
        ...


def _without_moderated(full: VoteMatrix, moderated_out: set[int]) -> VoteMatrix:
    keep_cols = np.flatnonzero(~full.column_mask(moderated_out))
    return VoteMatrix(full.votes[:, keep_cols], full.participant_ids,
                      full.statement_ids[keep_cols])


@dataclass(frozen=True)
class PolisGrouping:
    """Polis's grouping (the default): see docs/deliberation.md for each step.

    Attributes:
        params: Polis's constants (participant threshold, k range, k-smoothing buffer).
        history: replay the vote history as Polis's successive updates (what makes its
            k-smoothing and k-means starting points reproducible); False groups all votes
            in one update, as a fresh Polis conversation would.
        replay_interval_ms: votes are cut into updates at every new bucket of this many
            milliseconds.
        max_updates: at most this many replayed updates (batches merge evenly beyond).
    """

    params: PolisParams = field(default_factory=PolisParams)
    history: bool = True
    replay_interval_ms: int = 60_000
    max_updates: int = 300

    def group(self, log: VoteLog, full: VoteMatrix, moderated_out: set[int], seed: int
              ) -> Grouping:
        params = self.params
        if self.history:
            _, step, matrix, n_updates = replay(log, moderated_out, params=params,
                                                interval_ms=self.replay_interval_ms,
                                                max_updates=self.max_updates, seed=seed)
        else:
            matrix = _without_moderated(full, moderated_out)
            _, step = polis_update(None, matrix, moderated_out=moderated_out, params=params,
                                   seed=seed, vote_counts=full.votes_per_participant(),
                                   n_statements=full.shape[1],
                                   n_moderated_columns=(full.shape[1] - matrix.shape[1]
                                                        if params.zero_moderated else 0))
            n_updates = 1
        return Grouping(matrix, step.projection, step.group_labels,
                        step.pca.statement_projection(matrix.shape[1]),
                        {int(k): float(s) for k, s in step.silhouettes.items()}, step.best_k,
                        "replay" if self.history else "single", n_updates)


@dataclass(frozen=True)
class ReduceAndCluster:
    """Any reducer followed by any clusterer, on all votes at once (no history).

    For example ``ReduceAndCluster(SparsePCA(2), PolisKMeans(3))``, or scikit-learn's
    ``TruncatedSVD(2)`` with ``KMeans(3)`` or ``HDBSCAN()``. Both are cloned before
    fitting (the objects passed in stay unfitted) and given the analysis seed as
    ``random_state`` when they take one.

    Attributes:
        reducer: ``fit_transform(votes)`` on the sparse participants × statements matrix
            (values 1, −1, 0 for pass; missing votes absent) returning at least one
            column; the first two are the map position. If it has
            ``statement_projection(n_columns)`` (as :class:`SparsePCA`), statements are
            placed with it; otherwise at the origin.
        clusterer: ``fit_predict(positions)`` returning a label per participant; a
            negative label (noise, e.g. HDBSCAN's) means no group.
        name: what :attr:`Analysis.method` records; by default ``Reducer+Clusterer``.
    """

    reducer: Any
    clusterer: Any
    name: str | None = None

    def group(self, log: VoteLog, full: VoteMatrix, moderated_out: set[int], seed: int
              ) -> Grouping:
        matrix = _without_moderated(full, moderated_out)
        reducer, clusterer = _seeded(self.reducer, seed), _seeded(self.clusterer, seed)
        reduced = np.asarray(reducer.fit_transform(matrix.votes), dtype=np.float64)
        xy = np.zeros((matrix.shape[0], 2))
        xy[:, :min(2, reduced.shape[1])] = reduced[:, :2]
        raw = np.asarray(clusterer.fit_predict(xy)).astype(np.int64)
        # Groups are numbered 0…k−1 in order of their lowest raw label; noise stays −1.
        found = np.unique(raw[raw >= 0])
        labels = np.where(raw >= 0, np.searchsorted(found, raw), -1)
        k = len(found)
        silhouettes: dict[int, float] = {}
        grouped = labels >= 0
        if 2 <= k < int(grouped.sum()):
            from sklearn.metrics import silhouette_score

            silhouettes[k] = float(silhouette_score(xy[grouped], labels[grouped]))
        project = getattr(reducer, "statement_projection", None)
        stmt_xy = (np.asarray(project(matrix.shape[1]))[:, :2] if callable(project)
                   else np.zeros((matrix.shape[1], 2)))
        name = self.name or f"{type(reducer).__name__}+{type(clusterer).__name__}"
        return Grouping(matrix, xy, labels, stmt_xy, silhouettes, k, name, 1)


def _seeded(estimator: Any, seed: int) -> Any:
    """An unfitted copy, seeded with ``seed`` when the estimator takes ``random_state``."""
    from sklearn.base import clone

    copy = clone(estimator)
    if "random_state" in copy.get_params(deep=False):
        copy.set_params(random_state=seed)
    return copy
