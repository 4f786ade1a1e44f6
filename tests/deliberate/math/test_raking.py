"""Raking (iterative proportional fitting) on a textbook two-variable example."""

from __future__ import annotations

import pytest

from accord.deliberate.math import rake
from accord.errors import AccordError

# Sample of 100: sex × age cell counts; population targets differ on age.
CELLS = {("m", "young"): 20, ("m", "old"): 30, ("f", "young"): 30, ("f", "old"): 20}
TARGETS = {"sex": {"m": 0.5, "f": 0.5}, "age": {"young": 0.4, "old": 0.6}}


def _sample():
    demo, pid = {}, 0
    for (sex, age), n in CELLS.items():
        for _ in range(n):
            demo[pid] = {"sex": sex, "age": age}
            pid += 1
    return demo


def _cell_weight(result, demo, sex, age):
    return next(result.weights[p] for p, d in demo.items() if d == {"sex": sex, "age": age})


def test_raking_meets_both_margins_with_multiplicative_cell_weights():
    demo = _sample()
    res = rake(demo, TARGETS, tol=1e-10)
    total = sum(res.weights.values())
    share = lambda var, cat: sum(w for p, w in res.weights.items()  # noqa: E731
                                 if demo[p][var] == cat) / total
    assert share("sex", "m") == pytest.approx(0.5, abs=1e-9)
    assert share("age", "young") == pytest.approx(0.4, abs=1e-9)
    # IPF's fixed point: cell weights factor as a_sex · b_age, so the cross-ratio is 1.
    w = {(s, a): _cell_weight(res, demo, s, a) for s, a in CELLS}
    assert w["m", "young"] * w["f", "old"] == pytest.approx(w["m", "old"] * w["f", "young"])
    assert sum(res.weights.values()) / len(res.weights) == pytest.approx(1.0)
    assert res.max_margin_error <= 1e-10


def test_participants_without_answers_keep_weight_one():
    demo = _sample()
    demo[999] = {"sex": "m"}  # no age
    res = rake(demo, TARGETS)
    assert res.weights[999] == 1.0
    assert res.unweighted == [999]


@pytest.mark.parametrize("targets, message", [
    ({"sex": {"m": 0.5, "f": 0.6}}, "sum to 1.1"),
    ({"sex": {"m": 0.5, "f": 0.3, "x": 0.2}}, "no participant"),
    ({"sex": {"m": 1.2, "f": -0.2}}, "negative"),
    ({"age": {"young": 1.0}}, "not among the target categories"),
])
def test_impossible_or_malformed_targets_raise_clear_errors(targets, message):
    with pytest.raises(AccordError, match=message):
        rake(_sample(), targets)
