"""Calibration on human labels: how well each grader answers the gold propositions, and
how well fitted weights rank the gold completions by class."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from accord.rewards._fit import (
    RankedExample,
    RuleWeights,
    fit_rule_weights,
    holdout_mask,
    ranking_accuracy,
    ranking_pairs,
    split_pairs,
)
from accord.rewards._gold import GOLD_PROPOSITIONS, GoldExample, GoldRules
from accord.rewards._propositions import TRUTH_THRESHOLD, PropositionGrader
from accord.spec import Rules

# The gold set's response types and classes in terms of the demo spec's: every refusal
# type is "refuse"; "illogical" sits between unacceptable and disallowed in the paper and
# has no class of its own in the spec, so it joins "unacceptable".
SPEC_RESPONSE_TYPE = {"comply": "comply", "hard_refuse": "refuse",
                      "safe_refuse_1": "refuse", "safe_refuse_2": "refuse"}
SPEC_CLASS = {"ideal": "ideal", "minimum_acceptable_style": "acceptable",
              "unacceptable_completion": "unacceptable",
              "illogical_completion": "unacceptable",
              "disallowed_completion": "disallowed"}


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """The ROC AUC (Mann-Whitney, ties half); NaN when one class is absent.

    Args:
        scores: predicted probabilities.
        labels: the true answers.
    """
    from scipy.stats import rankdata

    y = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(np.asarray(scores, dtype=float))
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass(frozen=True)
class CalibrationRow:
    """One grader's agreement with one gold proposition.

    Args:
        proposition: the spec's proposition id.
        grader: the grader answering it.
        kind: the grader's kind.
        gold: the gold proposition compared with.
        n: completions compared.
        positives: how many the humans marked true.
        accuracy: agreement with P >= 0.5 read as yes.
        auc: ROC AUC of the probabilities against the labels (NaN if one class only).
    """

    proposition: str
    grader: str
    kind: str
    gold: str
    n: int
    positives: int
    accuracy: float
    auc: float

    def to_dict(self) -> dict[str, object]:
        """JSON-able, NaN as None."""
        return {k: (None if isinstance(v, float) and v != v else v)
                for k, v in asdict(self).items()}


def grade_gold(rules: Rules, examples: Sequence[GoldExample],
               skip_kinds: Collection[str] = ()) -> tuple[PropositionGrader,
                                                          list[dict[str, float]]]:
    """Grade every gold completion with the spec's graders.

    Args:
        rules: the spec's rules.
        examples: the gold completions.
        skip_kinds: grader kinds not to run (e.g. ``llm_judge``).
    """
    grader = PropositionGrader(rules, skip_kinds)
    return grader, grader.grade([e.exchange for e in examples])


def calibration_table(grader: PropositionGrader, examples: Sequence[GoldExample],
                      probabilities: Sequence[dict[str, float]]) -> list[CalibrationRow]:
    """Accuracy and AUC of each graded proposition that has a gold counterpart.

    Args:
        grader: the graders that produced ``probabilities``.
        examples: the gold completions.
        probabilities: their graded proposition probabilities.
    """
    kinds = {g.id: g.kind for g in grader.rules.graders}
    rows = []
    for prop in grader.propositions:
        gold = GOLD_PROPOSITIONS.get(prop.id)
        if gold is None:
            continue
        p = [row[prop.id] for row in probabilities]
        y = [e.labels[gold] for e in examples]
        acc = float(np.mean([(pi >= TRUTH_THRESHOLD) == yi for pi, yi in zip(p, y, strict=True)]))
        rows.append(CalibrationRow(prop.id, prop.grader, kinds[prop.grader], gold, len(y),
                                   int(sum(y)), acc, auc(p, y)))
    return rows


def gold_label_examples(examples: Sequence[GoldExample]) -> list[RankedExample]:
    """The gold completions with their human labels as features, grouped by response type
    (every prompt in the file is unique, so same-prompt pairs do not exist)."""
    return [RankedExample(e.response_type, e.response_type, e.klass,
                          {k: float(v) for k, v in e.labels.items()}) for e in examples]


def graded_examples(examples: Sequence[GoldExample],
                    probabilities: Sequence[dict[str, float]]) -> list[RankedExample]:
    """The gold completions with graded probabilities as features, in the spec's response
    types and classes (:data:`SPEC_RESPONSE_TYPE`, :data:`SPEC_CLASS`)."""
    out = []
    for e, p in zip(examples, probabilities, strict=True):
        rtype = SPEC_RESPONSE_TYPE[e.response_type]
        klass = SPEC_CLASS.get(e.klass) if e.klass else None
        out.append(RankedExample(rtype, rtype, klass, p))
    return out


def best_single_feature(examples: Sequence[RankedExample], features: Sequence[str],
                        class_order: Sequence[str], holdout: float = 0.25,
                        seed: int = 0) -> dict[str, tuple[str, float]]:
    """The baseline a fit must beat: per response type, the best held-out ranking accuracy
    of one feature alone (either sign), chosen on the training pairs.

    Args:
        examples: completions with classes and features.
        features: candidate features.
        class_order: classes best first.
        holdout: share held out, as in :func:`fit_rule_weights`.
        seed: the split's seed.

    Returns:
        ``{response_type: (feature, held-out accuracy)}``.
    """
    out = {}
    for rtype in sorted({e.response_type for e in examples}):
        rows = [e for e in examples if e.response_type == rtype]
        held = holdout_mask([e.group for e in rows], holdout, seed)
        pairs = ranking_pairs([e.klass for e in rows], [e.group for e in rows], class_order)
        train, test = split_pairs(pairs, held)
        best = ("", -1.0, float("nan"))
        for f in features:
            x = np.array([e.features.get(f, 0.0) for e in rows])
            for sign in (1.0, -1.0):
                acc = ranking_accuracy(sign * x, train)
                if acc > best[1]:
                    best = (f if sign > 0 else f"-{f}", acc, ranking_accuracy(sign * x, test))
        out[rtype] = (best[0], best[2])
    return out


def fit_gold_weights(examples: Sequence[GoldExample], rules: GoldRules, holdout: float = 0.25,
                     seed: int = 0) -> RuleWeights:
    """Fit weights on the human labels (a check of the fitter on real classes).

    Args:
        examples: the gold completions.
        rules: the paper's class rules (gives the class order).
        holdout: share held out for the accuracy.
        seed: the split's seed.
    """
    features = sorted({k for e in examples for k in e.labels})
    return fit_rule_weights(gold_label_examples(examples), features, rules.class_order,
                            holdout=holdout, seed=seed)
