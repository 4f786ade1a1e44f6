"""Agreement numbers against hand computations: α (nominal, ordinal, flags), rankings, quality."""

from __future__ import annotations

from collections import Counter
from itertools import permutations

import pytest

from accord.errors import AccordError
from accord.review._agreement import (
    CategoryInfo,
    RankingRecord,
    RatingRecord,
    alpha_by_category,
    alpha_by_version,
    expand_ranking,
    expand_ranking_with_ties,
    gold_accuracy,
    levels_for,
    pairwise_agreement,
    reviewer_agreement,
)


def records(category: str, table: dict[str, dict[str, object]], version: str = "v1"):
    """Ratings from {item: {reviewer: value}}."""
    return [RatingRecord(item, reviewer, category, value, version)
            for item, by_reviewer in table.items() for reviewer, value in by_reviewer.items()]


def hand_alpha(units: list[list[float]], ordinal: bool) -> float:
    """Krippendorff's α from its definition (coincidence matrix), independent of the package.

    o_ck = Σ_units (ordered c-k pairs in the unit) / (m_u - 1);  n_c = Σ_k o_ck;
    nominal δ² = [c != k]; ordinal δ²_ck = (Σ_{g between c and k} n_g - (n_c + n_k) / 2)²;
    α = 1 - (n - 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck.
    """
    units = [u for u in units if len(u) >= 2]
    o: Counter = Counter()
    for u in units:
        for a, b in permutations(range(len(u)), 2):
            o[(u[a], u[b])] += 1 / (len(u) - 1)
    values = sorted({v for u in units for v in u})
    n_c = {c: sum(o[(c, k)] for k in values) for c in values}
    n = sum(n_c.values())

    def delta(c, k):
        if not ordinal:
            return float(c != k)
        lo, hi = sorted((c, k))
        between = sum(n_c[g] for g in values if lo <= g <= hi)
        return (between - (n_c[c] + n_c[k]) / 2) ** 2

    observed = sum(o[(c, k)] * delta(c, k) for c in values for k in values)
    expected = sum(n_c[c] * n_c[k] * delta(c, k) for c in values for k in values)
    return 1 - (n - 1) * observed / expected


def test_nominal_alpha_matches_hand_computation():
    # Unit 1: yes,yes; unit 2: yes,no; unit 3: no,no,no. n_yes = 3, n_no = 4, n = 7;
    # mismatching coincidences o_yn + o_ny = 2; Σ n_c n_k (c != k) = 2·3·4 = 24;
    # α = 1 - 6·2/24 = 0.5.
    table = {"i1": {"a": "yes", "b": "yes"}, "i2": {"a": "yes", "b": "no"},
             "i3": {"a": "no", "b": "no", "c": "no"}, "i4": {"c": "yes"}}
    result = alpha_by_category(records("objectionable", table), {"objectionable": "binary"})
    res = result["objectionable"]
    assert res.alpha == pytest.approx(0.5)
    assert res.alpha == pytest.approx(hand_alpha([[1, 1], [1, 0], [0, 0, 0]], ordinal=False))
    assert (res.level, res.n_items, res.n_ratings, res.n_reviewers, res.n_pairable) == (
        "nominal", 4, 8, 3, 3)
    assert res.guideline_version == "v1"


def test_ordinal_alpha_matches_hand_computation():
    table = {"i1": {"a": 1, "b": 2}, "i2": {"a": 3, "b": 3, "c": 4}, "i3": {"a": 5, "b": 4},
             "i4": {"a": 1, "b": 1, "c": 2}, "i5": {"b": 5, "c": 5}}
    units = [[1, 2], [3, 3, 4], [5, 4], [1, 1, 2], [5, 5]]
    result = alpha_by_category(records("offensive", table), {"offensive": "likert"})
    assert result["offensive"].level == "ordinal"
    assert result["offensive"].alpha == pytest.approx(hand_alpha(units, ordinal=True))
    # Ordinal α differs from nominal α on the same data: near misses count as partial agreement.
    nominal = alpha_by_category(records("offensive", table), {"offensive": "nominal"})
    assert nominal["offensive"].alpha == pytest.approx(hand_alpha(units, ordinal=False))
    assert result["offensive"].alpha > nominal["offensive"].alpha


def test_published_example_of_krippendorff_2011():
    # The 4 observers × 12 units example of Krippendorff (2011): nominal .743, ordinal .815.
    rows = {"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
            "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
            "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
            "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]}
    recs = [RatingRecord(f"u{u}", r, "c", v, "v1")
            for r, vs in rows.items() for u, v in enumerate(vs) if v is not None]
    assert alpha_by_category(recs, {"c": "nominal"})["c"].alpha == pytest.approx(0.743, abs=5e-4)
    assert alpha_by_category(recs, {"c": "ordinal"})["c"].alpha == pytest.approx(0.815, abs=5e-4)


def test_flags_get_one_nominal_alpha_per_flag():
    table = {"i1": {"a": ["off_topic"], "b": ["off_topic"]},
             "i2": {"a": [], "b": ["factual_error"]},
             "i3": {"a": ["factual_error", "off_topic"], "b": ("off_topic", "factual_error")},
             "i4": {"a": [], "b": []}}
    result = alpha_by_category(records("issues", table), {"issues": "flags"})
    assert set(result) == {"issues:factual_error", "issues:off_topic"}
    # off_topic: ticked by both on i1, i3; by neither on i2, i4 → perfect agreement.
    assert result["issues:off_topic"].alpha == pytest.approx(1.0)
    # factual_error as 0/1 per unit: [0,0], [0,1], [1,1], [0,0].
    assert result["issues:factual_error"].alpha == pytest.approx(
        hand_alpha([[0, 0], [0, 1], [1, 1], [0, 0]], ordinal=False))
    assert result["issues:factual_error"].level == "nominal"


def test_alpha_is_none_when_undefined_never_nan():
    single = {"i1": {"a": 3}, "i2": {"b": 4}}  # no item rated twice
    same = {"i1": {"a": 2, "b": 2}, "i2": {"a": 2, "b": 2}}  # no variation
    assert alpha_by_category(records("x", single), {"x": "likert"})["x"].alpha is None
    assert alpha_by_category(records("x", same), {"x": "likert"})["x"].alpha is None
    empty = alpha_by_category([], {"x": "binary"})["x"]
    assert (empty.alpha, empty.n_items, empty.n_ratings) == (None, 0, 0)


def test_versions_are_never_pooled():
    recs = records("x", {"i1": {"a": 1, "b": 2}}, "v1") + records("x", {"i1": {"a": 1}}, "v2")
    with pytest.raises(AccordError, match="guideline versions"):
        alpha_by_category(recs, {"x": "likert"})
    assert alpha_by_category(recs, {"x": "likert"}, guideline_version="v2")["x"].n_ratings == 1
    assert set(alpha_by_version(recs, {"x": "likert"})) == {"v1", "v2"}
    with pytest.raises(AccordError, match="not a level"):
        alpha_by_category(recs, {"x": "fuzzy"}, guideline_version="v1")


def test_a_later_rating_replaces_an_earlier_one():
    recs = [RatingRecord("i1", "a", "x", "yes", "v"), RatingRecord("i1", "b", "x", "no", "v"),
            RatingRecord("i2", "a", "x", "no", "v"), RatingRecord("i2", "b", "x", "no", "v"),
            RatingRecord("i1", "b", "x", "yes", "v")]
    assert alpha_by_category(recs, {"x": "binary"})["x"].n_ratings == 4


def test_levels_from_category_infos():
    cats = [CategoryInfo("offensive", "violation", "likert", (1, 2, 3, 4, 5)),
            CategoryInfo("objectionable", "violation", "binary", ("yes", "no")),
            CategoryInfo("issues", "quality", "flags", ("off_topic",))]
    assert levels_for(cats) == {"offensive": "ordinal", "objectionable": "nominal",
                                "issues": "flags"}


def test_expand_ranking_gives_all_pairs_and_flags_ties():
    tiers = [["a"], ["b", "c"], ["d"]]
    # C(4, 2) = 6 pairs; b-c is tied, so 5 preferences.
    assert expand_ranking(tiers) == [("a", "b"), ("a", "c"), ("a", "d"), ("b", "d"), ("c", "d")]
    with_ties = expand_ranking_with_ties(tiers)
    assert len(with_ties) == 6
    assert [(p.first, p.second) for p in with_ties if p.tied] == [("b", "c")]
    with pytest.raises(AccordError, match="more than once"):
        expand_ranking([["a"], ["a"]])


def test_pairwise_agreement_by_hand():
    rankings = [
        RankingRecord("g1", "r1", [["a"], ["b"], ["c"]]),
        RankingRecord("g1", "r2", [["a"], ["c"], ["b"]]),
        RankingRecord("g1", "r3", [["a", "b"], ["c"]]),
        RankingRecord("g2", "r1", [["x"], ["y"]]),
        RankingRecord("g2", "r2", [["x"], ["y"]]),
        RankingRecord("g3", "r1", [["p"], ["q"]]),  # only one reviewer: not compared
    ]
    # g1, pairs (a,b), (a,c), (b,c):
    #   r1-r2: a>b same, a>c same, b>c vs c>b differ → 2/3
    #   r1-r3: a>b vs tie differ, a>c same, b>c same → 2/3
    #   r2-r3: a>b vs tie differ, a>c same, c>b vs b>c differ → 1/3
    # g2: r1-r2 agree on (x,y) → 1/1.  Total 6/10.
    result = pairwise_agreement(rankings)
    assert result.rate == pytest.approx(0.6)
    assert (result.n_pairs, result.n_groups) == (10, 2)
    # Ties agree only with ties.
    tied = pairwise_agreement([RankingRecord("g", "r1", [["a", "b"]]),
                               RankingRecord("g", "r2", [["b", "a"]])])
    assert tied.rate == 1.0
    assert pairwise_agreement([]).rate is None


def test_reviewer_agreement_with_peers():
    recs = records("helpful", {"i1": {"a": 4, "b": 5, "c": 1}, "i2": {"a": 2, "b": 2, "c": 5}})
    recs += records("objectionable", {"i1": {"a": "no", "b": "no", "c": "yes"}})
    agreement = reviewer_agreement(recs)
    # a: i1 4 vs mean(5,1)=3 → ok; i2 2 vs 3.5 → no; objectionable no vs [no, yes] tie → ok.
    # b: 5 vs 2.5 no; 2 vs 3.5 no; no vs [no, yes] ok.  c: 1 vs 4.5 no; 5 vs 2 no; yes vs no no.
    assert agreement == {"a": pytest.approx(2 / 3), "b": pytest.approx(1 / 3), "c": 0.0}


def test_gold_accuracy():
    recs = records("objectionable", {"g1": {"a": "yes", "b": "no"}, "x": {"a": "no"}})
    recs += records("issues", {"g2": {"a": ["off_topic"], "b": []}})
    gold = {("g1", "objectionable"): "yes", ("g2", "issues"): ["off_topic"]}
    assert gold_accuracy(recs, gold) == {"a": 1.0, "b": 0.0}
