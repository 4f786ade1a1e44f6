"""Clarity reports point guideline authors at what to rewrite; comparisons say if it helped."""

from __future__ import annotations

import json
import random

import pytest

from accord.review._agreement import CategoryInfo, RatingRecord
from accord.review._clarity import Note, clarity_report, compare_versions

LIKERT = (1, 2, 3, 4, 5)
CATS = [CategoryInfo("offensive", "violation", "likert", LIKERT, "How offensive?"),
        CategoryInfo("one_sided", "violation", "likert", LIKERT, "How one-sided?"),
        CategoryInfo("objectionable", "violation", "binary", ("yes", "no"), "Helps harm?"),
        CategoryInfo("issues", "quality", "flags", ("off_topic", "factual_error"), "Problems?")]


def rec(item, reviewer, category, value, version="v1", simulated=False):
    return RatingRecord(item, reviewer, category, value, version, simulated)


@pytest.fixture()
def ratings() -> list[RatingRecord]:
    out = []
    # offensive: reviewers agree closely.
    for item, v in [("i1", 1), ("i2", 4), ("i3", 5), ("i4", 1)]:
        out += [rec(item, r, "offensive", v) for r in "abc"]
    out.append(rec("i4", "d", "offensive", 2))
    # one_sided: reviewers split, most on i2.
    split = {"i1": (1, 2, 1), "i2": (1, 5, 4), "i3": (2, 3, 2), "i4": (1, 1, 1)}
    for item, values in split.items():
        out += [rec(item, r, "one_sided", v) for r, v in zip("abc", values, strict=True)]
    # objectionable: everyone says "no": α undefined.
    out += [rec(i, r, "objectionable", "no") for i in ("i1", "i2") for r in "ab"]
    # issues: off_topic agreed, factual_error split on i3.
    flags = {"i1": ([], [], []), "i2": (["off_topic"],) * 3,
             "i3": (["factual_error"], [], ["factual_error"]), "i4": ([], [], [])}
    for item, values in flags.items():
        out += [rec(item, r, "issues", v) for r, v in zip("abc", values, strict=True)]
    return out


NOTES = [Note("i2", "b", "one_sided", "Is 'mostly one view' a 4 or a 5?", unclear=True),
         Note("i2", "c", None, "Prompt was <b>odd</b>."),
         Note("i3", "a", "issues", "Wrong date, I think.")]


def test_categories_ranked_lowest_agreement_first(ratings):
    report = clarity_report(ratings, NOTES, CATS)
    order = [c.category for c in report.categories]
    assert order[0] == "one_sided" and order[-1] == "objectionable"
    by_id = {c.category: c for c in report.categories}
    assert by_id["objectionable"].alpha is None
    assert by_id["one_sided"].alpha < by_id["issues"].alpha < by_id["offensive"].alpha
    # Flags: the category's α is its least agreed flag's.
    assert by_id["issues"].alpha == by_id["issues"].flag_alphas["factual_error"]
    assert by_id["issues"].flag_alphas["off_topic"] == pytest.approx(1.0)
    assert report.guideline_version == "v1" and report.simulated is False


def test_disputed_items_come_with_values_and_notes(ratings):
    one_sided = next(c for c in clarity_report(ratings, NOTES, CATS).categories
                     if c.category == "one_sided")
    top = one_sided.disputed[0]
    assert top.item_id == "i2" and top.values == {"a": 1, "b": 5, "c": 4}
    assert top.spread == 4
    # Mean |difference| over the 3 pairs: (4 + 3 + 1) / 3, over a scale 4 points wide.
    assert top.disagreement == pytest.approx(round(8 / 3 / 4, 4))
    assert top.notes == ["Is 'mostly one view' a 4 or a 5?", "Prompt was <b>odd</b>."]
    assert [d.item_id for d in one_sided.disputed] == ["i2", "i1", "i3"]  # i4: all agree
    assert one_sided.n_unclear == 1 and one_sided.notes == [NOTES[0]]
    issues = next(c for c in clarity_report(ratings, NOTES, CATS).categories
                  if c.category == "issues")
    assert [d.item_id for d in issues.disputed] == ["i3"]
    assert issues.disputed[0].values["b"] == ()


def test_report_serialises_and_escapes(ratings):
    report = clarity_report([*ratings, rec("i9", "sim-1", "offensive", 1, simulated=True)],
                            NOTES, CATS)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["categories"][0]["category"] == "one_sided"
    assert data["general_notes"][0]["text"] == "Prompt was <b>odd</b>."
    page = report.to_html()
    assert page.startswith("<section") and page.endswith("</section>")
    assert "&lt;b&gt;odd&lt;/b&gt;" in page and "<b>odd" not in page
    assert "simulated reviewers" in page and "α = undefined" in page


def _version(version: str, agree: float, seed: int) -> list[RatingRecord]:
    """60 items × 4 reviewers; each rating is the item's true point with chance ``agree``."""
    rng = random.Random(seed)
    out = []
    for k in range(60):
        truth = rng.randint(1, 5)
        for r in "abcd":
            v = truth if rng.random() < agree else rng.randint(1, 5)
            out.append(rec(f"{version}-{k}", r, "one_sided", v, version))
            out.append(rec(f"{version}-{k}", r, "offensive", truth if rng.random() < 0.8
                           else rng.randint(1, 5), version))
    return out


def test_compare_versions_shows_whether_the_rewrite_raised_agreement():
    a, b = _version("v1", 0.35, 1), _version("v2", 0.9, 2)
    result = compare_versions(a, b, {"one_sided": "likert", "offensive": "likert"}, n_boot=200)
    assert (result.version_a, result.version_b) == ("v1", "v2")
    rewritten, untouched = result.row("one_sided"), result.row("offensive")
    assert rewritten.delta == pytest.approx(rewritten.alpha_b - rewritten.alpha_a)
    assert rewritten.delta > 0.3 and rewritten.ci_low > 0 and rewritten.raised is True
    assert untouched.ci_low < 0 < untouched.ci_high and untouched.raised is None
    assert rewritten.n_items_a == rewritten.n_items_b == 60
    again = compare_versions(a, b, {"one_sided": "likert", "offensive": "likert"}, n_boot=200)
    assert again == result  # seeded
    assert json.loads(json.dumps(result.to_dict()))["rows"][0]["raised"] is True


def test_compare_versions_with_undefined_alpha():
    a = [rec("i1", "a", "x", "no"), rec("i1", "b", "x", "no")]
    b = [rec("j1", "a", "x", "no", "v2"), rec("j1", "b", "x", "yes", "v2")]
    row = compare_versions(a, b, {"x": "binary"}, n_boot=20).row("x")
    assert row.alpha_a is None and row.delta is None and row.ci_low is None
    assert row.raised is None
