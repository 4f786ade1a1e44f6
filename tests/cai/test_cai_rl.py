"""RL-CAI: soft AI-feedback labels from option log-probabilities, and their agreement
with reviewers' (here: the world's ground-truth) labels."""

from __future__ import annotations

import math

import pytest

from accord.cai import (
    LocalModel,
    feedback_labels,
    label_agreement,
    normalise,
    preference_rows,
)
from accord.errors import AccordError
from accord.world import CHOICE_OPTIONS, PRINCIPLES, World, choice_conversation


def test_labels_are_normalised_and_deterministic(cai_world: World, cai_model: LocalModel):
    pairs = cai_world.preference_pairs[:10]
    labels = feedback_labels(cai_model.score, pairs, PRINCIPLES, n_principles=3, seed=5)
    again = feedback_labels(cai_model.score, pairs, PRINCIPLES, n_principles=3, seed=5)
    assert labels == again
    for pair, label in zip(pairs, labels, strict=True):
        assert len(label["votes"]) == 6 and len(set(label["principles"])) == 3
        assert {v["order"] for v in label["votes"]} == {"AB", "BA"}
        assert all(0.0 < v["p_first"] < 1.0 for v in label["votes"])
        assert label["p_first"] == pytest.approx(
            sum(v["p_first"] for v in label["votes"]) / 6)
        assert 0.5 <= label["p_chosen"] == max(label["p_first"], 1 - label["p_first"]) <= 1
        first, second = pair["chosen"][0]["content"], pair["rejected"][0]["content"]
        assert label["chosen"][0]["content"] == (first if label["first_preferred"] else second)
        assert {label["chosen"][0]["content"], label["rejected"][0]["content"]} == {first, second}
        assert label["prompt"] == pair["prompt"] and label["id"] == pair["id"]
    other = feedback_labels(cai_model.score, pairs, PRINCIPLES, n_principles=3, seed=6)
    assert [x["principles"] for x in other] != [x["principles"] for x in labels]


def test_option_probabilities_of_one_question_sum_to_one(cai_world: World,
                                                         cai_model: LocalModel):
    pair = cai_world.preference_pairs[0]
    conv = choice_conversation(pair["prompt"], PRINCIPLES[0].comparison,
                               pair["chosen"][0]["content"], pair["rejected"][0]["content"])
    scores = cai_model.score([conv, conv], list(CHOICE_OPTIONS))
    assert scores[0] == pytest.approx(scores[1])  # batching does not change a score
    assert all(s < 0 for s in scores[0])
    assert sum(normalise(scores[0])) == pytest.approx(1.0)
    # The model learned the answer format: the two options hold most of the reply's mass.
    assert sum(math.exp(s) for s in scores[0]) > 0.5
    alone = cai_model.score([conv], list(CHOICE_OPTIONS))[0]
    assert alone == pytest.approx(scores[0], abs=1e-4)


def test_a_model_that_learned_the_choice_format_beats_chance(cai_world: World,
                                                             cai_model: LocalModel):
    """Measured with this fixture: 68 % of the world's first 200 pairs (Wilson low 61 %;
    the same with 1, 2, 4 or 8 principles per pair); models pretrained from other random
    initialisations reached 65-81 %. The floor leaves room for float differences across
    platforms."""
    pairs = cai_world.preference_pairs[:200]
    labels = feedback_labels(cai_model.score, pairs, PRINCIPLES, n_principles=1, seed=0)
    agreement = label_agreement(labels, pairs)
    assert agreement.n == 200 and agreement.unmatched == 0
    assert agreement.rate > 0.58 and agreement.low > 0.5
    assert sum(b.n for b in agreement.bins) == 200


def test_label_agreement_matches_pairs_in_either_order(cai_world: World):
    pairs = cai_world.preference_pairs[:6]
    ai = [{"prompt": p["prompt"], "chosen": p["rejected"], "rejected": p["chosen"],
           "p_chosen": 0.95} for p in pairs[:2]]
    ai += [{"prompt": p["prompt"], "chosen": p["chosen"], "rejected": p["rejected"],
            "p_chosen": 0.55} for p in pairs[2:5]]
    result = label_agreement(ai, pairs)
    assert (result.n, result.agree, result.unmatched) == (5, 3, 1)
    assert result.rate == pytest.approx(0.6)
    by_bin = {(round(b.low, 1), round(b.high, 1)): (b.n, b.agree) for b in result.bins}
    assert by_bin[(0.5, 0.6)] == (3, 3) and by_bin[(0.9, 1.0)] == (2, 0)
    assert "3/5" in result.render_text() and result.to_dict()["rate"] == pytest.approx(0.6)
    # Several reviewers on one pair count once each.
    assert label_agreement(ai, [pairs[0]] * 3).n == 3


def test_preference_rows_feed_the_trainers(cai_world: World, cai_model: LocalModel):
    labels = feedback_labels(cai_model.score, cai_world.preference_pairs[:8], PRINCIPLES,
                             n_principles=1, both_orders=False)
    rows = preference_rows(labels)
    assert len(rows) == 8
    for row in rows:
        assert set(row) == {"prompt", "chosen", "rejected", "p_chosen"}
        assert row["chosen"][0]["role"] == row["rejected"][0]["role"] == "assistant"
    confident = preference_rows(labels, min_confidence=0.6)
    assert all(r["p_chosen"] >= 0.6 for r in confident) and len(confident) <= 8
    with pytest.raises(AccordError, match="min_confidence"):
        preference_rows(labels, min_confidence=0.2)


def test_feedback_errors_are_named():
    def score(conversations, options):
        return [[0.0] for _ in conversations]  # one score for two options

    pair = {"prompt": [{"role": "user", "content": "Hi"}], "responses": ["Hello!", "Go away."]}
    with pytest.raises(AccordError, match="one log-probability per option"):
        feedback_labels(score, [pair], PRINCIPLES)
    with pytest.raises(AccordError, match="needs 'chosen' and 'rejected'"):
        feedback_labels(score, [{"prompt": pair["prompt"]}], PRINCIPLES)
    with pytest.raises(AccordError, match="n_principles=0"):
        feedback_labels(score, [pair], PRINCIPLES, n_principles=0)
