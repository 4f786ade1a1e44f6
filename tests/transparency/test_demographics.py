"""The demographics report: suppression (incl. by subtraction), ε accounting, determinism."""

from __future__ import annotations

import json
from itertools import product

import pytest

from accord.errors import AccordError
from accord.review import CategoryInfo, SimulatedReviewer, make_panel
from accord.transparency import (
    RatingsByGroup,
    ReviewerRatings,
    demographics_report,
    suppress_cells,
)

BIG = 1e6  # an ε this large adds almost no noise: the suppression logic shows through


def population(spec: dict[str, dict[str, int]]) -> list[dict[str, str]]:
    """People whose answers give these per-field counts (fields paired up in order)."""
    columns = {f: [v for v, n in counts.items() for _ in range(n)] for f, counts in spec.items()}
    size = len(next(iter(columns.values())))
    assert all(len(c) == size for c in columns.values())
    return [{f: columns[f][k] for f in spec} for k in range(size)]


def test_suppress_cells_rules():
    # One small cell: the smallest other cell is hidden too, so total - shown != that cell.
    assert suppress_cells({"a": 30, "b": 5, "c": 20}, 11) == {
        "a": None, "b": "small", "c": "complementary"}
    # Two small cells adding up to less than 11: still recoverable as a small group.
    assert suppress_cells({"a": 30, "b": 3, "c": 4, "d": 25}, 11) == {
        "a": None, "b": "small", "c": "small", "d": "complementary"}
    # Two small cells adding up to 11 or more: enough on their own.
    assert suppress_cells({"a": 30, "b": 6, "c": 7}, 11) == {"a": None, "b": "small", "c": "small"}
    # Zeros are hidden too; hidden cells that add up to zero give nothing away.
    assert suppress_cells({"a": 30, "b": 0}, 11) == {"a": None, "b": "small"}
    assert suppress_cells({"a": 30, "b": 0, "c": 2}, 11) == {
        "a": "complementary", "b": "small", "c": "small"}
    assert suppress_cells({"a": 40, "b": 12}, 11) == {"a": None, "b": None}


def _check_published(report, truth: list[dict[str, str]], min_cell: int = 11) -> None:
    """No shown cell is small, and no hidden cell can be recovered from total - shown."""
    for f in report.fields:
        true = {c.value: sum(1 for p in truth if p.get(f.field, "not stated") == c.value)
                for c in f.cells}
        shown = [c for c in f.cells if not c.suppressed]
        hidden = [c for c in f.cells if c.suppressed]
        assert all(true[c.value] >= min_cell and c.count >= min_cell for c in shown)
        assert all(c.count is None for c in hidden)
        remainder = len(truth) - sum(true[c.value] for c in shown)
        assert remainder == 0 or (len(hidden) >= 2 and remainder >= min_cell)


def test_small_cells_and_cells_derivable_by_subtraction_are_hidden():
    people = population({"age_band": {"18-24": 30, "25-34": 20, "65+": 5},
                         "region": {"north": 25, "south": 25, "abroad": 5}})
    report = demographics_report(people, ["age_band", "region"], epsilon=BIG, seed=0)
    assert report.total == 55
    age = {c.value: c for c in report.field("age_band").cells}
    assert age["65+"].suppressed == "small" and age["65+"].count is None
    assert age["25-34"].suppressed == "complementary" and age["25-34"].count is None
    assert age["18-24"].count == 30
    # Without the complementary cell, 55 - 30 - 20 would give the five 65+ reviewers away.
    _check_published(report, people)


def test_no_individual_is_reconstructable_in_a_small_population():
    # 14 people, 3 fields: every combination of published numbers must hide everyone.
    people = [{"age_band": a, "gender": g, "political_leaning": p}
              for a, g, p in list(product(["18-24", "65+"], ["woman", "man"],
                                          ["left", "right", "centre"]))[:12]]
    people += [{"age_band": "18-24", "gender": "woman", "political_leaning": "left"}] * 2
    for seed in range(5):
        report = demographics_report(people, ["age_band", "gender", "political_leaning"],
                                     epsilon=1.0, seed=seed)
        _check_published(report, people)
        assert all(c.suppressed for f in report.fields for c in f.cells
                   if c.value in ("65+", "centre", "right", "man"))
    tiny = demographics_report(people[:10], ["age_band"], epsilon=1.0, seed=0)
    assert tiny.total is None
    assert all(c.count is None for c in tiny.field("age_band").cells)


def test_epsilon_is_split_and_accounted_by_opendp():
    people = population({"age_band": {"18-24": 40, "25-34": 30}, "gender": {"woman": 35,
                                                                           "man": 35}})
    report = demographics_report(people, ["age_band", "gender"], epsilon=0.9, seed=0)
    # 1 total + 2 histograms.
    assert report.n_queries == 3 and report.epsilon_per_query == pytest.approx(0.3)
    assert report.epsilon_spent == pytest.approx(0.9) and report.epsilon_spent <= 0.9 + 1e-9
    assert all(f.epsilon == pytest.approx(0.3) for f in report.fields)
    with_ratings = demographics_report(
        people, ["age_band", "gender"], epsilon=0.9, seed=0,
        ratings_by_group=RatingsByGroup(
            [ReviewerRatings(p, {"one_sided": [3.0]}) for p in people], {"one_sided": (1, 5)},
            ("gender",)))
    # + one (counts, sums) pair per measure × grouping field.
    assert with_ratings.n_queries == 5
    assert with_ratings.epsilon_spent == pytest.approx(0.9)
    assert with_ratings.epsilon_spent <= 0.9 + 1e-9
    assert "ε = 0.9 in total" in with_ratings.statement
    for bad in ({"epsilon": 0}, {"epsilon": 1, "min_cell": 1}):
        with pytest.raises(AccordError):
            demographics_report(people, ["gender"], **bad)


def test_noise_is_deterministic_with_a_seed_and_counts_are_clean():
    people = population({"age_band": {"18-24": 40, "25-34": 30, "35-44": 25}})
    first = demographics_report(people, ["age_band"], epsilon=0.5, seed=7)
    assert first.to_dict() == demographics_report(people, ["age_band"], epsilon=0.5,
                                                  seed=7).to_dict()
    others = [demographics_report(people, ["age_band"], epsilon=0.5, seed=s).to_dict()
              for s in range(8, 12)]
    assert any(o["fields"] != first.to_dict()["fields"] for o in others)
    assert "not for publication" in first.noise
    live = demographics_report(people, ["age_band"], epsilon=0.5)
    assert live.noise == "opendp"
    for report in (first, live):
        counts = [c.count for c in report.field("age_band").cells]
        assert all(isinstance(c, int) and c >= 11 for c in counts)
    # With a huge ε the noise is negligible: the published counts are the true ones.
    exact = demographics_report(people, ["age_band"], epsilon=BIG, seed=0)
    assert [c.count for c in exact.field("age_band").cells] == [40, 30, 25]


def test_values_from_the_survey_form():
    people = population({"gender": {"woman": 20, "man": 20, "prefers to self-describe": 1}})
    people += [{}, {"gender": "prefer not to say"}]  # reviewers who did not say
    report = demographics_report(people, ["gender"], epsilon=BIG, seed=0,
                                 values={"gender": ["woman", "man", "non-binary"]})
    cells = {c.value: c for c in report.field("gender").cells}
    # The free-text answer is published only as "other", and hidden as a small cell.
    assert list(cells) == ["woman", "man", "non-binary", "not stated", "other"]
    assert cells["other"].suppressed and cells["not stated"].suppressed
    assert cells["non-binary"].suppressed  # a zero looks like any small cell


def test_ratings_differ_by_political_leaning_with_the_same_protections():
    one_sided = CategoryInfo("one_sided", "violation", "likert", (1, 2, 3, 4, 5))
    left_answer = "Rent control is clearly the right call: it keeps homes affordable."
    reviewers = []
    for profile in make_panel(300, seed=0):
        if not profile.opt_in:
            continue
        sim = SimulatedReviewer(profile, seed=0)
        ratings = [float(sim.rate([{"role": "user", "content": f"Rent control? ({k})"}],
                                  left_answer, [one_sided])["one_sided"]) for k in range(5)]
        reviewers.append(ReviewerRatings(profile.demographics, {"one_sided": ratings}))
    answers = [r.answers for r in reviewers]
    report = demographics_report(
        answers, ["political_leaning", "age_band"], epsilon=BIG, seed=0, simulated=True,
        ratings_by_group=RatingsByGroup(reviewers, {"one_sided": (1, 5)}))
    (comparison,) = report.ratings
    groups = {g.group: g for g in comparison.groups}
    # Left-leaning reviewers find a left-leaning answer less one-sided than right-leaning ones.
    assert groups["left"].mean < groups["right"].mean - 0.5
    # Few reviewers declined the question: that group is hidden, and one more with it so
    # its mean cannot be worked out from the others.
    assert groups["not stated"].suppressed == "small" and groups["not stated"].mean is None
    assert [g.suppressed for g in groups.values()].count("complementary") == 1
    assert all(1 <= g.mean <= 5 for g in groups.values() if g.mean is not None)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["simulated"] is True and data["ratings"][0]["field"] == "political_leaning"
    page = report.to_html()
    assert "These reviewers are simulated" in page and "ε = " in page
    assert "no count below 11 is shown" in page and "suppressed" in page


def test_html_escapes_answers():
    people = [{"region": "<script>x</script>"}] * 12
    page = demographics_report(people, ["region"], epsilon=1.0, seed=0).to_html()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_ratings_from_records_keeps_opted_in_reviewers_and_chosen_items():
    from accord.review import RatingRecord
    from accord.transparency import ratings_from_records

    records = [RatingRecord("i1", "a", "one_sided", 4, "v"),
               RatingRecord("i2", "a", "one_sided", 2, "v"),
               RatingRecord("i1", "b", "one_sided", 5, "v"),  # b did not opt in
               RatingRecord("i1", "a", "objectionable", "yes", "v"),
               RatingRecord("i1", "a", "issues", ("off_topic",), "v")]
    groups = ratings_from_records(
        records, {"a": {"political_leaning": "left"}},
        {"one_sided": (1, 5), "objectionable": (0, 1)}, items={"one_sided": {"i1"}})
    (only,) = groups.reviewers
    assert only.answers == {"political_leaning": "left"}
    assert only.ratings == {"one_sided": [4.0], "objectionable": [1.0]}
    assert groups.fields == ("political_leaning",)
