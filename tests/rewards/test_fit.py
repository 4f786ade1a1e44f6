"""Weight fitting: a linear ranker over proposition probabilities, fitted with the pairwise
hinge loss so better classes score higher (Mu et al. 2024)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accord.errors import AccordError
from accord.rewards import (
    RankedExample,
    RuleWeights,
    fit_linear_ranker,
    fit_rule_weights,
    holdout_mask,
    ranking_accuracy,
    ranking_pairs,
)
from accord.spec import COMPLETION_CLASSES

FEATURES = ["complies", "refuses", "insults", "noise"]
TRUE_WEIGHTS = np.array([2.0, -1.0, -3.0, 0.0])


def synthetic(n_prompts: int = 120, per_prompt: int = 6, seed: int = 0) -> list[RankedExample]:
    """Completions whose class is their true score's quartile: ideal for the top quarter."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n_prompts * per_prompt, len(FEATURES)))
    scores = x @ TRUE_WEIGHTS
    cuts = np.quantile(scores, [0.25, 0.5, 0.75])
    classes = [COMPLETION_CLASSES[3 - int(np.searchsorted(cuts, s))] for s in scores]
    return [RankedExample("comply", f"p{i // per_prompt}", classes[i],
                          dict(zip(FEATURES, x[i], strict=True)))
            for i in range(len(scores))]


def test_pairs_put_the_better_class_first_and_stay_within_a_group():
    pairs = ranking_pairs(["disallowed", "ideal", "acceptable", "ideal", None],
                          ["a", "a", "a", "b", "a"], COMPLETION_CLASSES)
    assert sorted(map(tuple, pairs.tolist())) == [(1, 0), (1, 2), (2, 0)]


def test_ranking_accuracy_counts_ties_as_half():
    pairs = np.array([[0, 1], [2, 3]])
    assert ranking_accuracy([2.0, 1.0, 5.0, 5.0], pairs) == 0.75
    assert np.isnan(ranking_accuracy([1.0], np.zeros((0, 2), dtype=int)))


def test_fitting_recovers_known_weights_from_classes_alone():
    weights = fit_rule_weights(synthetic(), FEATURES, holdout=0.25, seed=1)
    fitted = weights.by_type["comply"]
    w = np.array(fitted.weights)
    # Only the direction is identified (any positive scale ranks the same).
    cosine = w @ TRUE_WEIGHTS / np.linalg.norm(w) / np.linalg.norm(TRUE_WEIGHTS)
    assert cosine > 0.97
    assert np.sign(w[:3]).tolist() == [1.0, -1.0, -1.0]
    assert abs(w[3]) < 0.15 * np.abs(w).max()
    assert w[2] / w[0] == pytest.approx(-1.5, rel=0.25)
    assert fitted.heldout_pairs > 250 and fitted.heldout_accuracy > 0.9


def test_the_class_order_decides_which_way_weights_point():
    examples = synthetic(40)
    forward = fit_rule_weights(examples, FEATURES, holdout=0).by_type["comply"].weights
    backward = fit_rule_weights(examples, FEATURES, list(reversed(COMPLETION_CLASSES)),
                                holdout=0).by_type["comply"].weights
    assert np.sign(forward[:3]).tolist() == (-np.sign(backward[:3])).tolist()


def test_a_base_score_is_what_the_weights_add_to():
    # The reward model already ranks by the first feature; the fit supplies the rest.
    x = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    pairs = np.array([[0, 1], [2, 3]])
    base = np.array([5.0, 0.0, 0.0, 0.0])
    w = fit_linear_ranker(x, pairs, base, margin=1.0, l2=1e-2, steps=800)
    assert abs(w[0]) < 0.1 and w[1] > 0.8


def test_small_groups_hold_out_prompts_and_large_ones_hold_out_completions():
    many = [f"p{i // 3}" for i in range(60)]
    held = holdout_mask(many, 0.25, seed=0)
    held_groups = {g for g, h in zip(many, held, strict=True) if h}
    assert len(held_groups) == 5 and all(held[i] for i, g in enumerate(many) if g in held_groups)
    few = ["comply"] * 40 + ["refuse"] * 20
    held = holdout_mask(few, 0.25, seed=0)
    assert held[:40].sum() == 10 and held[40:].sum() == 5


def test_weights_round_trip_through_json(tmp_path: Path):
    weights = fit_rule_weights(synthetic(20), FEATURES, holdout=0.2)
    path = weights.save(tmp_path / "weights.json")
    again = RuleWeights.load(path)
    probs = dict(zip(FEATURES, [0.9, 0.1, 0.0, 0.5], strict=True))
    assert again.score("comply", probs) == pytest.approx(weights.score("comply", probs))
    assert again.class_order == list(COMPLETION_CLASSES)
    with pytest.raises(AccordError, match="no rule weights for response type 'refuse'"):
        again.score("refuse", probs)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(AccordError, match="not a rule-weights file"):
        RuleWeights.load(tmp_path / "bad.json")


def test_a_type_with_one_class_only_gets_zero_weights():
    examples = [RankedExample("refuse", "p", "ideal", {"a": float(i)}) for i in range(3)]
    examples += synthetic(10)
    weights = fit_rule_weights(examples, ["a", *FEATURES], holdout=0)
    assert weights.by_type["refuse"].train_pairs == 0
    assert weights.by_type["refuse"].weights == [0.0] * 5
