"""The published ε is OpenDP's accounting: one composition of every release, whose privacy
map agrees with the split the report states; the one stability Accord states itself (group
sums) holds on neighbouring data sets."""

from __future__ import annotations

import random

import opendp.prelude as dp
import pytest

from accord.transparency import NoiseSource, RatingsByGroup, ReviewerRatings, demographics_report


def _people(n: int, seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [{"age_band": rng.choice(["18-24", "25-34", "35-44"]),
             "political_leaning": rng.choice(["left", "centre", "right"])} for _ in range(n)]


def _ratings(people: list[dict[str, str]], seed: int = 0) -> RatingsByGroup:
    rng = random.Random(seed)
    return RatingsByGroup([ReviewerRatings(p, {"one_sided": [rng.randint(1, 5)
                                                             for _ in range(3)],
                                               "helpful": [rng.randint(1, 5)]})
                           for p in people],
                          {"one_sided": (1, 5), "helpful": (1, 5)},
                          ("political_leaning", "age_band"))


@pytest.mark.parametrize("seed", [0, None], ids=["seeded", "opendp"])
def test_stated_epsilon_is_the_privacy_map_of_opendps_composition(seed):
    people = _people(60)
    report = demographics_report(people, ["age_band", "political_leaning"], epsilon=1.3,
                                 ratings_by_group=_ratings(people), seed=seed)
    # 1 total + 2 histograms + 2 × (2 measures × 2 fields).
    assert report.n_queries == 11
    # The split the report states and OpenDP's accounting agree (the binary search finds
    # each scale from below, so OpenDP's figure is at most the stated one).
    assert report.epsilon_spent == pytest.approx(report.epsilon, rel=1e-6)
    assert report.epsilon_spent <= report.epsilon + 1e-9
    assert report.epsilon_per_query * report.n_queries == pytest.approx(report.epsilon)
    parts = sum(f.epsilon for f in report.fields) + sum(r.epsilon for r in report.ratings)
    assert parts + report.epsilon_per_query == pytest.approx(report.epsilon_spent, rel=1e-6)


def test_the_composition_is_opendps_and_spends_more_when_queries_are_added():
    rows = [{"surveyed": True, "answers": p, "ratings": {}} for p in _people(30)]
    noise = NoiseSource(seed=1)
    noise.count("total", lambda row: row["surveyed"], 0.25)
    noise.histogram("age", lambda row: row["answers"]["age_band"], ["18-24", "25-34"], 0.25)
    composed = noise.composition()
    assert isinstance(composed, dp.Measurement)
    assert float(composed.map(1)) == pytest.approx(0.5, rel=1e-6)
    # Two reviewers added or removed cost twice as much: OpenDP's map, not a formula here.
    assert float(composed.map(2)) == pytest.approx(1.0, rel=1e-6)
    noise.histogram("lean", lambda row: row["answers"]["political_leaning"],
                    ["left", "right"], 0.5)
    noise.run(rows)
    assert noise.epsilon_spent == pytest.approx(1.0, rel=1e-6)
    assert noise.query_epsilons == pytest.approx({"total": 0.25, "age": 0.25, "lean": 0.5},
                                                 rel=1e-6)


def test_group_sums_move_by_at_most_the_scale_width_when_one_reviewer_changes():
    noise = NoiseSource(seed=0)
    noise.group_sums("sums", lambda row: row["g"], lambda row: row["v"], ["a", "b", "c"],
                     4.0, 1.0)
    transformation = noise._queries[0].transformation
    rng = random.Random(3)
    for _ in range(200):
        rows = [{"g": rng.choice("abcd"), "v": rng.uniform(-3, 9)}
                for _ in range(rng.randint(0, 30))]
        extra = {"g": rng.choice("abcd"), "v": rng.uniform(-3, 9)}
        before, after = transformation(rows), transformation([*rows, extra])
        assert sum(abs(x - y) for x, y in zip(before, after, strict=True)) <= 4.0 + 1e-9
    # The stated stability is what OpenDP chains: sensitivity 4 at one reviewer.
    assert transformation.map(1) == pytest.approx(4.0)


def test_ratings_of_reviewers_outside_the_survey_do_not_enter_its_counts():
    people = _people(40)
    outsiders = [ReviewerRatings({"political_leaning": "left", "age_band": "90+"},
                                 {"one_sided": [5.0]}) for _ in range(15)]
    report = demographics_report(
        people, ["age_band"], epsilon=1e6, seed=0,
        ratings_by_group=RatingsByGroup(outsiders, {"one_sided": (1, 5)},
                                        ("political_leaning",)))
    assert report.total == 40
    assert sum(c.count or 0 for c in report.field("age_band").cells) == 40
    (comparison,) = report.ratings
    left = next(g for g in comparison.groups if g.group == "left")
    assert left.n_reviewers == 15 and left.mean == pytest.approx(5.0, abs=1e-3)
