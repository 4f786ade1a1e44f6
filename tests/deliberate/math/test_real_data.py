"""The four real Polis conversations, analysed and compared with Polis's own groups."""

from __future__ import annotations

import json
import math

import pytest
from sklearn.metrics import adjusted_rand_score

from accord.deliberate import read_opendata
from accord.deliberate.math import analyze, propose_statements

from ..helpers import CONVERSATIONS, polis_folder

# A floor only where there is reason: canadian-electoral-reform has two well-separated
# groups that every faithful re-implementation finds (red-dwarf scores 1.00 on it).
# The others depend on Polis's update history and are printed, not asserted.
FLOORS = {"canadian-electoral-reform": 0.85}


def polis_ari(conv, analysis) -> tuple[float, int]:
    ours = analysis.group_of()
    ref = {p.id: p.source_group for p in conv.participants.values()
           if p.source_group is not None}
    common = sorted(set(ours) & set(ref))
    return adjusted_rand_score([ref[p] for p in common], [ours[p] for p in common]), \
        len(common)


@pytest.mark.slow
@pytest.mark.parametrize("name", CONVERSATIONS)
def test_real_conversation_analysis(name):
    conv = read_opendata(polis_folder(name))
    # A shorter replay than the default keeps the suite fast; bench/polis_parity.py
    # reports the default.
    analysis = analyze(conv, seed=0, max_updates=60)
    ari, n = polis_ari(conv, analysis)
    print(f"\n{name}: ARI vs Polis {ari:.3f} over {n} participants, "
          f"k={len(analysis.groups)} (Polis: "
          f"{len({p.source_group for p in conv.participants.values()} - {None})})")
    assert ari >= FLOORS.get(name, -1.0)
    assert 2 <= len(analysis.groups) <= 5
    for g in analysis.groups:
        assert g.representative, f"group {g.id} has no representative statement"
        assert all(r.statement_id not in conv.moderated_out() for r in g.representative)
    for s in analysis.statements:
        assert 0 < s.group_informed_consensus <= 1
        assert s.bridging is not None and math.isfinite(s.bridging.intercept)
    assert analysis.consensus["agree"], "every one of these has broad agreements"
    json.dumps(analysis.to_dict())
    for p in propose_statements(analysis):
        assert all(t.agree_share >= 0.7 for t in p.group_tallies.values())


@pytest.mark.slow
def test_the_default_k_holds_when_the_update_grid_shifts():
    # brexit-consensus ends with the silhouettes of k = 2…5 within 0.02 of each other:
    # under Polis's plain rule the replay ends on 2 or 5 groups depending on where the
    # 60 s update grid falls (ARI 0.88 at no shift, 0.49 at this one); the default
    # k margin holds Polis's 2 at both (bench/RESULTS.md, "Parity across cadences").
    import dataclasses

    from accord.deliberate.math import VoteLog

    conv = read_opendata(polis_folder("brexit-consensus"))
    log = conv.votes
    found = []
    for shift_ms in (0, 37_082):  # the bench's seed 1: frac(0.618…) of 60 s
        moved = dataclasses.replace(conv, votes=VoteLog(
            log.voter_ids, log.statement_ids, log.values, log.timestamps_ms + shift_ms))
        analysis = analyze(moved, seed=0, bridging=False)
        found.append((len(analysis.groups), round(polis_ari(conv, analysis)[0], 3)))
    assert [k for k, _ in found] == [2, 2], found
    assert min(a for _, a in found) >= 0.85, found
