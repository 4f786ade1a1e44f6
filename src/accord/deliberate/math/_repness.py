"""Polis's statement statistics: representativeness, consensus, group-informed consensus.

Counts per group and statement: ``na`` agrees, ``nd`` disagrees, ``ns`` votes seen (passes
included). Probabilities carry a +1/+2 prior, ``pa = (na+1)/(ns+2)``. Polis's tests:

- ``prop_test(s, n) = 2·sqrt(n+1)·((s+1)/(n+1) − 1/2)``: is the share above one half?
- ``two_prop_test(s1, s2, n1, n2)``: a two-proportion z-test on (s+1)/(n+1) in-group vs
  the rest of the participants.

``ra = pa / ((1+na_rest)/(2+ns_rest))`` is the repness (how much likelier the group is to
agree than everyone else); a statement is representative when both its z-tests pass 90 %
one-sided (z > 1.2816), ranked by ``repness · z_repness · p · z_p``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

Z_90 = 1.2816  # one-sided 90 % critical value used throughout Polis


def prop_test(succ: np.ndarray, n: np.ndarray) -> np.ndarray:
    succ, n = np.asarray(succ, float) + 1, np.asarray(n, float) + 1
    return 2.0 * np.sqrt(n) * (succ / n - 0.5)


def two_prop_test(succ_in: np.ndarray, succ_out: np.ndarray, n_in: np.ndarray,
                  n_out: np.ndarray) -> np.ndarray:
    s1, s2 = np.asarray(succ_in, float) + 1, np.asarray(succ_out, float) + 1
    n1, n2 = np.asarray(n_in, float) + 1, np.asarray(n_out, float) + 1
    pi_hat = (s1 + s2) / (n1 + n2)
    denom = np.sqrt(pi_hat * (1 - pi_hat) * (1 / n1 + 1 / n2))
    # Polis returns 0 when everyone agrees (pi_hat == 1) rather than dividing by zero.
    return np.divide(s1 / n1 - s2 / n2, denom, out=np.zeros(np.broadcast(s1, s2).shape),
                     where=denom > 0)


@dataclass
class GroupStats:
    """Per (group, statement) counts and tests; every array is (n_groups × n_statements)."""

    na: np.ndarray
    nd: np.ndarray
    ns: np.ndarray

    def __post_init__(self) -> None:
        rest = lambda x: x.sum(axis=0, keepdims=True) - x  # noqa: E731 - the other groups
        self.pa, self.pd = (self.na + 1) / (self.ns + 2), (self.nd + 1) / (self.ns + 2)
        self.pat, self.pdt = prop_test(self.na, self.ns), prop_test(self.nd, self.ns)
        na_r, nd_r, ns_r = rest(self.na), rest(self.nd), rest(self.ns)
        self.ra = self.pa / ((1 + na_r) / (2 + ns_r))
        self.rd = self.pd / ((1 + nd_r) / (2 + ns_r))
        self.rat = two_prop_test(self.na, na_r, self.ns, ns_r)
        self.rdt = two_prop_test(self.nd, nd_r, self.ns, ns_r)


def group_counts(votes: sp.csr_matrix, labels: np.ndarray, n_groups: int,
                 weights: np.ndarray | None = None) -> GroupStats:
    """Count agrees, disagrees and votes per group; ``labels`` < 0 rows are left out."""
    n = votes.shape[0]
    keep = labels >= 0
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    member = sp.csr_matrix((w[keep], (labels[keep], np.flatnonzero(keep))),
                           shape=(n_groups, n))
    m = sp.csr_matrix(votes)

    def count(mask: np.ndarray) -> np.ndarray:
        ind = sp.csr_matrix((mask.astype(float), m.indices, m.indptr), shape=m.shape)
        return np.asarray((member @ ind).todense())

    return GroupStats(count(m.data == 1), count(m.data == -1), count(np.ones_like(m.data)))


@dataclass(frozen=True)
class RepresentativeStatement:
    """Why a statement represents a group.

    Attributes:
        statement_id: as in the source data.
        direction: ``"agree"`` or ``"disagree"``: what the group does more than the rest.
        n_success: group members voting that way; n_trials: group members who voted.
        p_success: (n_success+1)/(n_trials+2); p_test: its z against one half.
        repness: p_success over the same probability among everyone else.
        repness_test: two-proportion z of the group against everyone else.
        best_agree: the statement Polis puts first as the group's best agreement.
    """

    statement_id: int
    direction: str
    n_success: int
    n_trials: int
    p_success: float
    p_test: float
    repness: float
    repness_test: float
    best_agree: bool = False

    @property
    def metric(self) -> float:
        return self.repness * self.repness_test * self.p_success * self.p_test


def _finalize(st: GroupStats, g: int, j: int, sid: int, best_agree: bool = False
              ) -> RepresentativeStatement:
    if st.rat[g, j] > st.rdt[g, j]:
        vals = (st.na, st.pa, st.pat, st.ra, st.rat, "agree")
    else:
        vals = (st.nd, st.pd, st.pdt, st.rd, st.rdt, "disagree")
    n, p, pt, r, rt, d = vals
    return RepresentativeStatement(sid, d, int(n[g, j]), int(st.ns[g, j]), float(p[g, j]),
                                   float(pt[g, j]), float(r[g, j]), float(rt[g, j]), best_agree)


def select_representative(st: GroupStats, statement_ids: np.ndarray, excluded: set[int],
                          pick_max: int = 5) -> list[list[RepresentativeStatement]]:
    """Polis's ``select-rep-comments``: for each group the statements passing both tests
    in one direction, best first (at most ``pick_max``), led by the group's best
    agreement; if none passes, the single best by test."""
    out = []
    for g in range(st.na.shape[0]):
        sufficient: list[int] = []
        best: int | None = None
        best_agree: int | None = None
        for j, sid in enumerate(statement_ids.tolist()):
            if sid in excluded:
                continue
            passes = ((st.rat[g, j] > Z_90 and st.pat[g, j] > Z_90)
                      or (st.rdt[g, j] > Z_90 and st.pdt[g, j] > Z_90))
            if passes:
                sufficient.append(j)
            if not sufficient and (best is None or max(st.rat[g, j], st.rdt[g, j])
                                   > max(st.rat[g, best], st.rdt[g, best])):
                best = j
            if _beats_best_agree(st, g, j, best_agree):
                best_agree = j
        ids = statement_ids
        head = ([_finalize(st, g, best_agree, int(ids[best_agree]), True)]
                if best_agree is not None else [])
        if not sufficient:
            out.append(head or ([_finalize(st, g, best, int(ids[best]))] if best is not None
                                else []))
            continue
        ranked = sorted((_finalize(st, g, j, int(ids[j])) for j in sufficient
                         if j != best_agree), key=lambda r: -r.metric)
        chosen = (head + ranked)[:pick_max]
        out.append([r for r in chosen if r.direction == "agree"]
                   + [r for r in chosen if r.direction == "disagree"])
    return out


def _beats_best_agree(st: GroupStats, g: int, j: int, cur: int | None) -> bool:
    if st.na[g, j] == 0 and st.nd[g, j] == 0:
        return False
    if cur is not None and st.ra[g, cur] > 1.0:
        return bool(st.ra[g, j] * st.rat[g, j] * st.pa[g, j] * st.pat[g, j]
                    > st.ra[g, cur] * st.rat[g, cur] * st.pa[g, cur] * st.pat[g, cur])
    if cur is not None:
        return bool(st.pa[g, j] * st.pat[g, j] > st.pa[g, cur] * st.pat[g, cur])
    return bool(st.pat[g, j] > Z_90 or (st.ra[g, j] > 1.0 and st.pa[g, j] > 0.5))


@dataclass(frozen=True)
class ConsensusStatement:
    """A statement most participants agree (or disagree) with, by Polis's test.

    Attributes:
        statement_id: as in the source data.
        direction: ``"agree"`` or ``"disagree"``.
        n_success, n_trials: votes that way and all votes (weighted sums when weighted).
        p_success: (n_success+1)/(n_trials+2); p_test: its z against one half.
    """

    statement_id: int
    direction: str
    n_success: float
    n_trials: float
    p_success: float
    p_test: float


def select_consensus(na: np.ndarray, nd: np.ndarray, ns: np.ndarray,
                     statement_ids: np.ndarray, excluded: set[int], pick_max: int = 5
                     ) -> dict[str, list[ConsensusStatement]]:
    """Polis's ``select-consensus-comments`` over all participants: per direction, the
    statements with p > 1/2 and z > 1.2816, ranked by p·z, at most ``pick_max``."""
    keep = ~np.isin(statement_ids, np.fromiter(excluded, np.int64, len(excluded)))
    out: dict[str, list[ConsensusStatement]] = {}
    for direction, n in (("agree", na), ("disagree", nd)):
        p, z = (n + 1) / (ns + 2), prop_test(n, ns)
        ok = np.flatnonzero(keep & (p > 0.5) & (z > Z_90))
        ranked = ok[np.argsort(-(p * z)[ok], kind="stable")][:pick_max]
        out[direction] = [ConsensusStatement(int(statement_ids[j]), direction, float(n[j]),
                                             float(ns[j]), float(p[j]), float(z[j]))
                          for j in ranked]
    return out


def group_informed_consensus(counts: np.ndarray, ns: np.ndarray) -> np.ndarray:
    """Product over groups of (count+1)/(ns+2) per statement (Polis's
    ``group-aware-consensus``): high only when every group leans the same way."""
    return np.prod((counts + 1.0) / (ns + 2.0), axis=0)
