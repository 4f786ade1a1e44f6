"""bench/steerability.py's pure scoring (issue 13, part E): the text features, the
disclosure stripping, the stance reading and the intervals its figures are made of."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from steerability import (
    PERSPECTIVES,
    POLITICAL,
    mean_ci,
    paired_diff_ci,
    stance,
    strip_disclosures,
    text_features,
    wilson,
)


def test_text_features_count_length_and_register_markers() -> None:
    friendly = "Hey there! You're going to love this. It's easy, and you'll do great!"
    formal = "Tea is prepared by steeping leaves in hot water. It is then served"
    f, g = text_features(friendly), text_features(formal)
    assert f["words"] == 13 and g["words"] == 13
    # You're, It's, you'll: 3 contractions in 13 words; none in the formal text.
    assert f["contractions"] == pytest.approx(300 / 13) and g["contractions"] == 0
    assert f["second_person"] == pytest.approx(200 / 13)  # You're, you'll
    assert f["exclamations"] == 2 and g["exclamations"] == 0
    # Sentences end at . ! ? a line break or the end, and must hold a letter or digit.
    assert f["sentences"] == 3 and g["sentences"] == 2
    assert text_features("1. Boil water.\n2. Add tea...\n\n")["sentences"] == 4
    assert text_features("Does that make sense?")["asks"] == 1
    assert text_features("It does.")["asks"] == 0
    # A possessive 's is not a contraction; curly apostrophes count like straight ones.
    assert text_features("The cat's bowl is here.")["contractions"] == 0
    assert text_features("It\u2019s fine, don\u2019t worry.")["contractions"] == 100 * 2 / 4
    assert text_features("")["words"] == 0 and text_features("")["contractions"] == 0


def test_disclosures_are_stripped_wherever_they_were_shown() -> None:
    note = "Note: you asked for a progressive perspective, so this answer leans that way."
    other = "Note: you asked for a conservative perspective, so this answer leans that way."
    assert strip_disclosures(f"{note}\n\nRaise it.", [note, other]) == ("Raise it.", True)
    assert strip_disclosures(f"Raise it.\n\n{note}", [note]) == ("Raise it.", True)
    assert strip_disclosures("Both sides have a point.", [note, other]) == \
        ("Both sides have a point.", False)
    assert strip_disclosures("  Plain.  ", []) == ("Plain.", False)


def test_stance_is_the_nearest_statement_and_lean_is_relative() -> None:
    label, lean = stance({"progressive": 0.6, "conservative": 0.2, "libertarian": 0.4})
    assert label == "progressive"
    assert lean["progressive"] == pytest.approx(0.6 - 0.3)
    assert lean["conservative"] == pytest.approx(0.2 - 0.5)
    assert lean["libertarian"] == pytest.approx(0.0)
    # Every political prompt has one statement per perspective, all distinct.
    for prompt, statements in POLITICAL:
        assert set(statements) == set(PERSPECTIVES), prompt
        assert len(set(statements.values())) == 3


def test_intervals() -> None:
    mean, low, high, n = mean_ci([1.0, 2.0, 3.0])
    # t(0.975, 2) = 4.302653; sd 1; half width 4.302653 / sqrt(3).
    assert (mean, n) == (2.0, 3)
    assert high - mean == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    assert mean - low == pytest.approx(high - mean)
    assert math.isnan(mean_ci([5.0])[1]) and mean_ci([])[3] == 0
    d, lo, hi, n = paired_diff_ci([3.0, 5.0, 4.0], [1.0, 2.0, 3.0])
    assert (d, n) == (2.0, 3) and lo < d < hi
    with pytest.raises(ValueError):
        paired_diff_ci([1.0], [1.0, 2.0])
    # Wilson 5/10: 0.2366-0.7634; 0/10 keeps a positive upper bound.
    p, lo, hi = wilson(5, 10)
    assert p == 0.5 and lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634,
                                                                                     abs=1e-4)
    p, lo, hi = wilson(0, 10)
    assert p == 0 and lo == 0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert all(math.isnan(x) for x in wilson(0, 0))
