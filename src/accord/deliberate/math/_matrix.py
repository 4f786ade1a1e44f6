"""The participant × statement vote matrix, sparse.

Rows are participants in order of their first vote and columns statements in order of
their first vote: that is the order Polis's named matrix grows in, and Polis's k-means
starts from the first distinct rows, so the order is part of reproducing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._conversation import VoteLog


def _dense_ranks(ids: np.ndarray, timestamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank each id by its first appearance in time (ties: first row) — the order Polis's
    matrix grows in. Returns (rank of every element, the ids in rank order)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lo, hi = int(ids.min()), int(ids.max())
    if hi - lo < 4 * len(ids) + 1_000_000:  # compact ids: a lookup table, no sorting
        offset = ids - lo
        present = np.bincount(offset, minlength=hi - lo + 1) > 0
        uniq = np.flatnonzero(present)
        lut = np.full(hi - lo + 1, -1, dtype=np.int64)
        lut[uniq] = np.arange(len(uniq))
        code = lut[offset]
        uniq = uniq + lo
    else:
        uniq, code = np.unique(ids, return_inverse=True)
    first_ts = np.full(len(uniq), np.iinfo(np.int64).max)
    np.minimum.at(first_ts, code, timestamps)
    first_row = np.full(len(uniq), len(ids))
    hit = timestamps == first_ts[code]
    np.minimum.at(first_row, code[hit], np.flatnonzero(hit))
    order = np.lexsort((first_row, first_ts))
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    return rank[code], uniq[order].astype(np.int64)


@dataclass
class VoteMatrix:
    """Latest votes as CSR; missing votes are absent entries, passes are stored zeros.

    Attributes:
        votes: CSR (n_participants × n_statements), values in {-1, 0, 1}; an entry is
            stored exactly when the participant voted, pass included.
        participant_ids: source id of each row.
        statement_ids: source id of each column.
        first_vote_ms: time of each participant's first vote (for replaying history).
    """

    votes: sp.csr_matrix
    participant_ids: np.ndarray
    statement_ids: np.ndarray

    @classmethod
    def from_log(cls, log: VoteLog) -> VoteMatrix:
        """Build from a vote history; the latest vote per (voter, statement) wins.

        Written for tens of millions of votes: numpy's argsort on that many keys is
        ten times slower than a plain sort, so rows are ordered by sorting one packed
        int64 (cell key, row number) and duplicates are resolved by timestamp after.
        """
        n = len(log)
        v_rank, p_ids = _dense_ranks(log.voter_ids, log.timestamps_ms)
        s_rank, s_ids = _dense_ranks(log.statement_ids, log.timestamps_ms)
        n_cols = max(len(s_ids), 1)
        cell = v_rank * n_cols + s_rank
        row_bits = max(int(n).bit_length(), 1)
        if n and int(cell.max()) < (1 << (62 - row_bits)):
            packed = np.sort((cell << row_bits) | np.arange(n, dtype=np.int64))
            src = packed & ((1 << row_bits) - 1)
            cell = packed >> row_bits
        else:  # ids too spread out to pack: fall back to the slower argsort
            src = np.argsort(cell, kind="stable")
            cell = cell[src]
        # Runs of equal cells are one voter's votes on one statement: keep the latest
        # (largest timestamp; among equal timestamps the later row).
        starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if n else np.zeros(0, int)
        if len(starts) < n:
            ts = log.timestamps_ms[src]
            lengths = np.diff(np.r_[starts, n])
            t_max = np.repeat(np.maximum.reduceat(ts, starts), lengths)
            pos = np.where(ts == t_max, np.arange(n), -1)
            pick = np.maximum.reduceat(pos, starts)
        else:
            pick = np.arange(n)
        cell, src = cell[pick], src[pick]
        rows, cols = cell // n_cols, cell % n_cols
        indptr = np.zeros(len(p_ids) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(rows, minlength=len(p_ids)))
        itype = np.int32 if len(cell) < 2**31 else np.int64
        mat = sp.csr_matrix((log.values[src].astype(np.float64), cols.astype(itype),
                             indptr.astype(itype)), shape=(len(p_ids), len(s_ids)))
        return cls(mat, p_ids, s_ids)

    @classmethod
    def from_arrays(cls, voter_ids: np.ndarray, statement_ids: np.ndarray, values: np.ndarray,
                    participant_order: np.ndarray | None = None,
                    statement_order: np.ndarray | None = None) -> VoteMatrix:
        """Build from one vote per (voter, statement); orders default to sorted ids."""
        p_ids = np.unique(voter_ids) if participant_order is None else participant_order
        s_ids = np.unique(statement_ids) if statement_order is None else statement_order
        p_sorted, s_sorted = np.argsort(p_ids), np.argsort(s_ids)
        rows = p_sorted[np.searchsorted(p_ids, voter_ids, sorter=p_sorted)]
        cols = s_sorted[np.searchsorted(s_ids, statement_ids, sorter=s_sorted)]
        # Build CSR directly (no COO→CSR sum) so stored zeros (passes) are kept.
        order = np.argsort(rows * len(s_ids) + cols)
        indptr = np.zeros(len(p_ids) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(rows, minlength=len(p_ids)))
        itype = np.int32 if len(rows) < 2**31 else np.int64
        mat = sp.csr_matrix((values[order].astype(np.float64), cols[order].astype(itype),
                             indptr.astype(itype)), shape=(len(p_ids), len(s_ids)))
        return cls(mat, np.asarray(p_ids, dtype=np.int64), np.asarray(s_ids, dtype=np.int64))

    @property
    def shape(self) -> tuple[int, int]:
        return self.votes.shape  # type: ignore[return-value]

    def voted(self) -> sp.csr_matrix:
        """1 where a vote (agree, disagree or pass) exists."""
        m = self.votes
        return sp.csr_matrix((np.ones_like(m.data), m.indices, m.indptr), shape=m.shape)

    def equal_to(self, value: int) -> sp.csr_matrix:
        """1 where the vote equals ``value`` (stored zeros excluded)."""
        m = self.votes
        hit = (m.data == value).astype(np.float64)
        out = sp.csr_matrix((hit, m.indices, m.indptr), shape=m.shape)
        out.eliminate_zeros()
        return out

    def votes_per_participant(self) -> np.ndarray:
        return np.diff(self.votes.indptr)

    def rows(self, mask: np.ndarray) -> VoteMatrix:
        """The sub-matrix of the participants where ``mask`` is true (columns kept)."""
        idx = np.flatnonzero(mask)
        return VoteMatrix(self.votes[idx], self.participant_ids[idx], self.statement_ids)

    def column_mask(self, ids: set[int]) -> np.ndarray:
        return np.isin(self.statement_ids, np.fromiter(ids, dtype=np.int64, count=len(ids)))
