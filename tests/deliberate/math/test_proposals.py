"""Ratification thresholds and weighted vs unweighted consensus, side by side."""

from __future__ import annotations

import pytest

from accord.deliberate.math import Participant, RatificationThresholds, analyze, propose_statements

from ..helpers import conversation_from_matrix, two_camps


def _conversation():
    rows = two_camps(30, 10, seed=6, noise=0.05)
    for i, r in enumerate(rows):
        r.append(1)                              # 10: everyone agrees
        r.append(1 if i < 30 else -1)            # 11: only camp A agrees
        r.append(1 if i % 10 else -1)            # 12: 90 % agree in both camps
    return conversation_from_matrix(rows)


def test_statements_agreed_in_every_group_are_proposed_with_tallies():
    a = analyze(_conversation(), seed=0)
    ids = [p.statement_id for p in propose_statements(a)]
    assert 10 in ids and 12 in ids and 11 not in ids
    p10 = next(p for p in propose_statements(a) if p.statement_id == 10)
    assert p10.tally.agree == 60 and p10.tally.total == 60
    assert all(t.agree_share == 1.0 for t in p10.group_tallies.values())
    # Stricter thresholds drop statement 12 (90 % < 95 %).
    strict = propose_statements(a, RatificationThresholds(min_group_agree=0.95))
    assert [p.statement_id for p in strict] == [10]
    # A bridging floor above every statement's interval proposes nothing.
    none = propose_statements(a, RatificationThresholds(min_bridging=10.0))
    assert none == []


def test_weighted_and_unweighted_consensus_side_by_side():
    conv = _conversation()
    # Camp A (ids 0–29) is "young", camp B "old"; the population is 20 % young.
    for pid in conv.participants:
        conv.participants[pid] = Participant(
            pid, demographics={"age": "young" if pid < 30 else "old"})
    a = analyze(conv, seed=0, demographic_targets={"age": {"young": 0.2, "old": 0.8}})
    s11 = a.statement(11)
    assert s11.tally.agree_share == pytest.approx(0.5)
    assert s11.weighted_tally.agree_share == pytest.approx(0.2)
    assert a.raking is not None and a.raking.max_margin_error < 1e-6
    assert a.participants[0].weight == pytest.approx(0.4)   # 0.2 / 0.5
    assert a.participants[59].weight == pytest.approx(1.6)  # 0.8 / 0.5
    # Weighted proposals judge the overall share on the weighted tally.
    t = RatificationThresholds(min_group_agree=0.0, min_agree=0.4, weighted=True)
    ids = {p.statement_id for p in propose_statements(a, t)}
    assert 11 not in ids and 10 in ids
