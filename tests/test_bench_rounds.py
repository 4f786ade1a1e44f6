"""bench/_rounds.py, the alternation and statistics every benchmark uses (issue 16): the
order swaps every round, ratios pair figures of the same round, and medians and spreads
are what the report says. Arms return given figures here (no timing is asserted)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from _rounds import add_rounds_argument, run_rounds, spread, timed


def test_arms_alternate_and_ratios_pair_the_same_round() -> None:
    calls: list[tuple[str, int]] = []
    figures = {"base": [10.0, 20.0, 10.0, 40.0, 10.0], "new": [5.0, 30.0, 20.0, 20.0, 11.0]}

    def arm(name: str):
        def measure(k: int) -> float:
            calls.append((name, k))
            return figures[name][k]
        return measure

    lines: list[str] = []
    result = run_rounds({"base": arm("base"), "new": arm("new")}, rounds=5, log=lines.append)
    # ABBA: baseline first on even rounds, last on odd ones.
    assert calls == [("base", 0), ("new", 0), ("new", 1), ("base", 1), ("base", 2),
                     ("new", 2), ("new", 3), ("base", 3), ("base", 4), ("new", 4)]
    assert result.order == [["base", "new"], ["new", "base"]] * 2 + [["base", "new"]]
    assert result.ratios("new") == [0.5, 1.5, 2.0, 0.5, 1.1]
    ratio = result.ratio_spread("new")
    assert (ratio.median, ratio.low, ratio.high) == (1.1, 0.5, 2.0)
    assert ratio.iqr == (0.5, 1.5)
    assert result.spread("base").median == 10.0
    assert len(lines) == 5 and lines[1].startswith("round 2/5")
    assert "new/base 1.500" in lines[1]
    report = result.report()
    assert "ratio new / base: median 1.100 (min-max 0.500-2.000, IQR 0.500-1.500, 5 rounds)" \
        in report
    data = json.loads(json.dumps(result.as_dict()))
    assert data["ratios"]["new/base"]["values"] == [0.5, 1.5, 2.0, 0.5, 1.1]
    assert data["rounds"] == 5 and len(data["load_average"]) == 5


def test_a_named_baseline_and_several_subjects() -> None:
    result = run_rounds({"a": lambda k: 2.0, "b": lambda k: 1.0, "c": lambda k: 4.0},
                        rounds=2, baseline="b", log=None)
    assert result.subjects == ["a", "c"]
    assert result.ratios("a") == [2.0, 2.0] and result.ratios("c") == [4.0, 4.0]
    assert result.order[1] == ["c", "b", "a"]


def test_bad_use_is_refused() -> None:
    with pytest.raises(ValueError, match="baseline and at least one subject"):
        run_rounds({"only": lambda k: 1.0})
    with pytest.raises(ValueError, match="rounds must be at least 1"):
        run_rounds({"a": lambda k: 1.0, "b": lambda k: 1.0}, rounds=0)
    with pytest.raises(ValueError, match="is not one of the arms"):
        run_rounds({"a": lambda k: 1.0, "b": lambda k: 1.0}, baseline="c")
    with pytest.raises(ValueError, match="no rounds"):
        spread([])
    parser = argparse.ArgumentParser()
    add_rounds_argument(parser)
    assert parser.parse_args([]).rounds == 5
    with pytest.raises(SystemExit):
        parser.parse_args(["--rounds", "0"])


def test_timed_returns_seconds_of_the_call() -> None:
    seen = []
    seconds = timed(lambda: seen.append(1))(0)
    assert seen == [1] and seconds >= 0.0
