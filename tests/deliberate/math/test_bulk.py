"""Bulk-voting detection: agree-to-everything, bursts, cloned vote vectors."""

from __future__ import annotations

import numpy as np

from accord.deliberate.math import (
    BulkVotingRules,
    Participant,
    VoteMatrix,
    analyze,
    detect_bulk_voting,
)

from ..helpers import conversation_from_matrix, two_camps


def _conversation_with_bulk():
    rows = two_camps(30, 24, seed=4)
    rows.append([1] * 24)  # participant 60: agrees with everything
    for _ in range(6):  # participants 61–66: identical scripted vectors
        rows.append([1 if j % 3 else -1 for j in range(24)])
    conv = conversation_from_matrix(rows)
    v = conv.votes
    # Participant 5 casts all their votes within 5 seconds (a burst).
    ts = v.timestamps_ms.copy()
    mine = np.flatnonzero(v.voter_ids == 5)
    ts[mine] = ts[mine[0]] + np.arange(len(mine)) * 200
    conv.votes = type(v)(v.voter_ids, v.statement_ids, v.values, ts)
    return conv


def test_each_kind_of_bulk_voting_is_flagged():
    conv = _conversation_with_bulk()
    m = VoteMatrix.from_log(conv.votes)
    report = detect_bulk_voting(conv.votes, m.votes, m.participant_ids)
    assert report.flags[60] == ["uniform"]
    assert all(report.flags[p] == ["clone"] for p in range(61, 67))
    assert report.flags[5] == ["burst"]
    assert set(report.flags) == {5, 60, *range(61, 67)}


def test_bursts_are_pooled_across_participants_sharing_a_token():
    conv = conversation_from_matrix(two_camps(10, 12, seed=1), spacing_ms=1500)
    m = VoteMatrix.from_log(conv.votes)
    rules = BulkVotingRules(burst_votes=20, burst_seconds=60)
    # 1.5 s apart: twelve votes per participant never make a burst of twenty alone...
    assert detect_bulk_voting(conv.votes, m.votes, m.participant_ids, rules).flags == {}
    # ...but participants 0 and 1 voting through one token do (24 votes in 36 s).
    flags = detect_bulk_voting(conv.votes, m.votes, m.participant_ids, rules,
                               tokens={0: "t", 1: "t"}).flags
    assert flags == {0: ["burst"], 1: ["burst"]}


def test_flagged_participants_can_be_excluded_from_the_analysis():
    conv = _conversation_with_bulk()
    conv.participants[60] = Participant(60, token="x")
    kept = analyze(conv, bridging=False, history=False)
    dropped = analyze(conv, bridging=False, history=False, exclude_bulk=True)
    assert kept.statement(0).tally.total == 67
    assert dropped.statement(0).tally.total == 59
    flagged = {p.id: p.bulk_flags for p in dropped.participants if p.bulk_flags}
    assert flagged[60] == ("uniform",)
    assert all(p.group is None for p in dropped.participants if p.bulk_flags)
