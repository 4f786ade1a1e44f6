"""Replaying a conversation's vote history the way Polis saw it arrive.

Polis updates its analysis as votes arrive, and each update starts from the last one:
participants once admitted stay admitted, k-means starts from the previous clusters,
and the number of groups changes only after a new best k has won ``k_buffer`` updates
in a row. The final groups therefore depend on the history, which the vote timestamps
let us replay: votes are cut into update batches (Polis's math worker picks up new
votes every poll; we cut wherever ``interval_ms`` of time separates update times) and
each batch runs one ``polis_update`` on all votes seen so far.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._conversation import VoteLog
from ._matrix import VoteMatrix
from ._update import PolisParams, PolisState, PolisStep, polis_update


def update_boundaries(timestamps_ms: np.ndarray, interval_ms: int, max_updates: int
                      ) -> np.ndarray:
    """End index (exclusive) of each update batch over chronologically sorted votes.

    A batch closes at the first vote of each new ``interval_ms`` time bucket; when that
    gives more than ``max_updates`` batches, every batch grows evenly (by vote count)
    so the cost stays bounded on long histories.
    """
    n = len(timestamps_ms)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    bucket = timestamps_ms // max(interval_ms, 1)
    ends = np.flatnonzero(np.diff(bucket) != 0) + 1
    ends = np.append(ends, n)
    if len(ends) > max_updates:
        ends = ends[np.unique(np.linspace(0, len(ends) - 1, max_updates).round().astype(int))]
        ends[-1] = n
    return ends


def _n_zeroed(full: VoteMatrix, keep: np.ndarray, params: PolisParams | None) -> int:
    """Moderated-out statements with votes, which Polis keeps as zeroed columns."""
    zero = (params or PolisParams()).zero_moderated
    return full.shape[1] - len(keep) if zero else 0


def replay(log: VoteLog, moderated_out: set[int], *, params: PolisParams | None = None,
           interval_ms: int = 60_000, max_updates: int = 400, seed: int = 0,
           on_update: Callable[[PolisState, PolisStep], None] | None = None
           ) -> tuple[PolisState, PolisStep, VoteMatrix, int]:
    """Run Polis's updates over the history; returns the final state and step, the final
    vote matrix (moderated-out statements removed) and the number of updates run.

    Args:
        log, moderated_out: the vote history and the statements left out of the math.
        params: Polis's constants; interval_ms, max_updates: the update schedule (see
            :func:`update_boundaries`); seed: the analysis seed.
        on_update: called with the state and step after every update (e.g. to study how
            the silhouettes and the chosen k move over a conversation's life).
    """
    order = log.chronological()
    chrono = VoteLog(log.voter_ids[order], log.statement_ids[order], log.values[order],
                     log.timestamps_ms[order])
    ends = update_boundaries(chrono.timestamps_ms, interval_ms, max_updates)
    mod = np.fromiter(moderated_out, dtype=np.int64, count=len(moderated_out))
    state: PolisState | None = None
    step: PolisStep | None = None
    matrix: VoteMatrix | None = None
    for end in ends.tolist():
        prefix = VoteLog(chrono.voter_ids[:end], chrono.statement_ids[:end],
                         chrono.values[:end], chrono.timestamps_ms[:end])
        full = VoteMatrix.from_log(prefix)
        keep = np.flatnonzero(~np.isin(full.statement_ids, mod))
        if len(keep) == 0:
            continue
        matrix = VoteMatrix(full.votes[:, keep], full.participant_ids,
                            full.statement_ids[keep])
        state, step = polis_update(state, matrix, moderated_out=moderated_out, params=params,
                                   seed=seed, vote_counts=full.votes_per_participant(),
                                   n_statements=full.shape[1],
                                   n_moderated_columns=_n_zeroed(full, keep, params))
        if on_update is not None:
            on_update(state, step)
    if step is None or state is None or matrix is None:
        raise ValueError("replay: no votes on statements that are not moderated out")
    return state, step, matrix, len(ends)
