"""Polis's statement statistics on matrices small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from accord.deliberate.math import (
    group_counts,
    group_informed_consensus,
    prop_test,
    select_consensus,
    select_representative,
    two_prop_test,
)


def test_prop_test_matches_polis_formula():
    # 2·sqrt(n+1)·((s+1)/(n+1) − 1/2) with s = 8 agrees out of n = 10 votes.
    assert prop_test(8, 10) == pytest.approx(2 * math.sqrt(11) * (9 / 11 - 0.5))
    assert prop_test(0, 0) == pytest.approx(2 * 1 * (1 - 0.5))


def test_two_prop_test_matches_hand_computation():
    # In-group 8/10 agree, rest 2/10; Polis adds 1 to every count.
    p1, p2, pooled = 9 / 11, 3 / 11, 12 / 22
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (2 / 11))
    assert two_prop_test(8, 2, 10, 10) == pytest.approx(z)
    # Everyone agreeing gives Polis's 0 rather than a division by zero.
    assert float(two_prop_test(np.array(9), np.array(9), np.array(9), np.array(9))) == 0.0


# Six participants, two groups of three, three statements (None = no vote).
VOTES = [
    [1, -1, 1],
    [1, -1, 0],
    [1, -1, None],
    [-1, 1, 1],
    [-1, 1, 1],
    [None, 1, 1],
]
LABELS = np.array([0, 0, 0, 1, 1, 1])


def _csr(rows):
    data, ind, ptr = [], [], [0]
    for row in rows:
        for j, v in enumerate(row):
            if v is not None:
                data.append(float(v))
                ind.append(j)
        ptr.append(len(data))
    return sp.csr_matrix((data, ind, ptr), shape=(len(rows), len(rows[0])))


def test_group_counts_and_repness_by_hand():
    st = group_counts(_csr(VOTES), LABELS, 2)
    # Statement 0: group 0 has 3 agrees of 3 votes; group 1 has 0 agrees of 2 votes.
    assert st.na[:, 0].tolist() == [3, 0]
    assert st.nd[:, 0].tolist() == [0, 2]
    assert st.ns[:, 0].tolist() == [3, 2]
    # Statement 2 counts the pass in group 0: 1 agree, 0 disagree, 2 votes.
    assert (st.na[0, 2], st.nd[0, 2], st.ns[0, 2]) == (1, 0, 2)
    pa = (3 + 1) / (3 + 2)
    assert st.pa[0, 0] == pytest.approx(pa)
    # ra = pa / ((1 + na_rest) / (2 + ns_rest)) = 0.8 / (1/4)
    assert st.ra[0, 0] == pytest.approx(pa / (1 / 4))
    assert st.rat[0, 0] == pytest.approx(float(two_prop_test(3, 0, 3, 2)))
    assert st.pat[0, 0] == pytest.approx(float(prop_test(3, 3)))


def test_representative_statements_pick_the_dividing_ones():
    st = group_counts(_csr(VOTES), LABELS, 2)
    reps = select_representative(st, np.array([10, 11, 12]), excluded=set())
    # Group 0 agrees with statement 10 far more than group 1: its best agreement.
    assert reps[0][0].statement_id == 10
    assert reps[0][0].direction == "agree"
    assert reps[0][0].best_agree
    assert reps[1][0].statement_id in (11, 12)
    # Excluding a statement (moderated out) removes it from the choice.
    reps = select_representative(st, np.array([10, 11, 12]), excluded={10})
    assert all(r.statement_id != 10 for r in reps[0])


def test_consensus_selects_by_probability_and_test():
    # 20 voters: statement 0 has 18 agrees, statement 1 is split 10/10.
    na, nd, ns = np.array([18.0, 10.0]), np.array([2.0, 10.0]), np.array([20.0, 20.0])
    out = select_consensus(na, nd, ns, np.array([0, 1]), excluded=set())
    assert [c.statement_id for c in out["agree"]] == [0]
    c = out["agree"][0]
    assert c.p_success == pytest.approx(19 / 22)
    assert c.p_test == pytest.approx(2 * math.sqrt(21) * (19 / 21 - 0.5))
    assert out["disagree"] == []
    assert select_consensus(na, nd, ns, np.array([0, 1]), excluded={0})["agree"] == []


def test_group_informed_consensus_is_product_over_groups():
    # Two groups: statement 0 agreed by 3/3 and 1/2; statement 1 by 0/3 and 2/2.
    na = np.array([[3.0, 0.0], [1.0, 2.0]])
    ns = np.array([[3.0, 3.0], [2.0, 2.0]])
    gic = group_informed_consensus(na, ns)
    assert gic[0] == pytest.approx((4 / 5) * (2 / 4))
    assert gic[1] == pytest.approx((1 / 5) * (3 / 4))
