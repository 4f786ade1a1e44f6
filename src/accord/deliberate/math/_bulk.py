"""Detection of bulk voting: votes that look scripted or coordinated rather than read.

Three signals, each a reason attached to a participant:

- ``uniform``: at least ``min_votes`` votes, all the same (agree-to-everything, or
  disagree-to-everything): nobody who reads statements on both sides does that.
- ``burst``: at least ``burst_votes`` votes within ``burst_seconds`` from one participant,
  or from one token pooled over the participants using it (one script, many ids).
- ``clone``: an identical vote vector (same statements, same votes; at least
  ``min_votes`` of them) shared by at least ``clone_group`` participants.

All three run on arrays (sorts and hashes), never on the dense matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._conversation import VoteLog


@dataclass(frozen=True)
class BulkVotingRules:
    """Thresholds for :func:`detect_bulk_voting` (see the module docstring)."""

    min_votes: int = 10
    burst_votes: int = 20
    burst_seconds: float = 10.0
    clone_group: int = 5


@dataclass
class BulkVotingReport:
    """Participant id -> reasons (``uniform``, ``burst``, ``clone``)."""

    flags: dict[int, list[str]] = field(default_factory=dict)
    rules: BulkVotingRules = field(default_factory=BulkVotingRules)

    def flagged(self) -> set[int]:
        return set(self.flags)


def _add(flags: dict[int, list[str]], ids: np.ndarray, reason: str) -> None:
    for pid in ids.tolist():
        flags.setdefault(int(pid), []).append(reason)


def _sorted_by_key_then_time(key: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(key, time) pairs sorted by key then time. Packs both into one int64 and sorts
    values (an argsort over tens of millions of rows is ten times slower)."""
    if len(key) == 0:
        return key, ts
    uniq, code = np.unique(key, return_inverse=True) if int(key.max()) - int(key.min()) \
        > 4 * len(key) + 1_000_000 else (None, key - key.min())
    t0 = int(ts.min())
    t_bits = max(int(ts.max()) - t0, 1).bit_length()
    k_bits = max(int(code.max()), 1).bit_length()
    if t_bits + k_bits > 62:
        order = np.lexsort((ts, key))
        return key[order], ts[order]
    packed = np.sort((code.astype(np.int64) << t_bits) | (ts - t0))
    k = packed >> t_bits
    k = uniq[k] if uniq is not None else k + key.min()
    return k, (packed & ((1 << t_bits) - 1)) + t0


def detect_bulk_voting(log: VoteLog, votes: sp.csr_matrix, participant_ids: np.ndarray,
                       rules: BulkVotingRules | None = None,
                       tokens: dict[int, str] | None = None) -> BulkVotingReport:
    """Flag participants whose voting looks like bulk voting.

    Args:
        log: the full vote history (timestamps for bursts).
        votes: latest votes, participants × statements (rows follow ``participant_ids``).
        participant_ids: the source id of each row of ``votes``.
        rules: thresholds; defaults are conservative for people voting by hand (Polis
            shows one statement at a time; twenty reads in ten seconds is not reading).
        tokens: participant id -> token, to pool bursts across ids sharing a token.
    """
    rules = rules or BulkVotingRules()
    flags: dict[int, list[str]] = {}
    m = sp.csr_matrix(votes)
    n = m.shape[0]
    counts = np.diff(m.indptr)

    # Uniform: min == max over a participant's votes (reduceat over CSR rows).
    nonempty = counts > 0
    starts = m.indptr[:-1][nonempty]
    lo, hi = np.full(n, 2.0), np.full(n, -2.0)
    if len(m.data):
        lo[nonempty] = np.minimum.reduceat(m.data, starts)
        hi[nonempty] = np.maximum.reduceat(m.data, starts)
    _add(flags, participant_ids[(counts >= rules.min_votes) & (lo == hi)], "uniform")

    # Burst: sort each voter's (or token's) votes by time; a window of burst_votes
    # consecutive votes spanning at most burst_seconds.
    key = log.voter_ids
    names: np.ndarray | None = None
    if tokens:
        names = np.array(sorted(set(tokens.values())), dtype=object)
        code = {t: i for i, t in enumerate(names.tolist())}
        offset = int(log.voter_ids.max(initial=0)) + 1
        mapped = np.array([code[tokens[v]] + offset if v in tokens else v
                           for v in log.voter_ids.tolist()], dtype=np.int64)
        key = mapped
    k, t = _sorted_by_key_then_time(key, log.timestamps_ms)
    w = rules.burst_votes - 1
    if w >= 1 and len(k) > w:
        hit = (k[w:] == k[:-w]) & (t[w:] - t[:-w] <= rules.burst_seconds * 1000)
        burst_keys = np.unique(k[w:][hit])
        if names is not None:
            offset = int(log.voter_ids.max(initial=0)) + 1
            token_hits = {names[x - offset] for x in burst_keys.tolist() if x >= offset}
            direct = [x for x in burst_keys.tolist() if x < offset]
            pooled = [p for p, tk in tokens.items() if tk in token_hits]  # type: ignore[union-attr]
            burst_keys = np.array(sorted(set(direct) | set(pooled)), dtype=np.int64)
        _add(flags, burst_keys, "burst")

    # Clones: hash each row's (statement, vote) pairs with random 64-bit keys; equal
    # hashes mean equal vectors (collision odds ~ n² / 2⁶⁴).
    rng = np.random.default_rng(12345)
    salt = rng.integers(1, 2**63, size=(m.shape[1], 3), dtype=np.uint64)
    vals = (m.data.astype(np.int64) + 1).astype(np.intp)
    row_hash = np.zeros(n, dtype=np.uint64)
    if len(m.data):
        # uint64 addition wraps around, which is what a hash wants.
        row_hash[nonempty] = np.add.reduceat(salt[m.indices, vals], starts)
    eligible = counts >= rules.min_votes
    _, inverse, sizes = np.unique(row_hash[eligible], return_inverse=True,
                                     return_counts=True)
    _add(flags, participant_ids[eligible][sizes[inverse] >= rules.clone_group], "clone")
    return BulkVotingReport(flags, rules)
