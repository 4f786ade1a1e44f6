"""Fitting rule weights (Mu et al. 2024): a linear score over proposition probabilities,
per response type, such that completions of a better class score higher.

For every pair of completions in the same group (the same prompt, in the paper) whose
classes differ, the better one ``b`` should beat the worse ``w`` by a margin:
``base_b + w·φ_b ≥ base_w + w·φ_w + margin``. We minimise the mean hinge loss
``max(0, margin - (base_b - base_w) - w·(φ_b - φ_w))`` plus ``l2·|w|²`` by full-batch
subgradient descent with Adam steps (convex, a few thousand pairs: plain numpy is enough).
``base`` is the reward model's score when the RBR is fitted on top of one, else 0. There
is no bias term: it cancels in every pair.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accord.errors import AccordError
from accord.spec import COMPLETION_CLASSES


@dataclass(frozen=True)
class RankedExample:
    """One completion with its class, for fitting.

    Args:
        response_type: the prompt's response type (weights are fitted per type).
        group: completions are compared only within a group (the prompt's id).
        klass: its completion class, or None if no class formula held (not compared).
        features: proposition probabilities (or labels) by proposition id.
        base_score: the reward model's score, when fitting on top of one.
    """

    response_type: str
    group: str
    klass: str | None
    features: Mapping[str, float]
    base_score: float = 0.0


def ranking_pairs(classes: Sequence[str | None], groups: Sequence[str],
                  class_order: Sequence[str]) -> np.ndarray:
    """Index pairs ``(better, worse)`` of same-group completions in different classes.

    Args:
        classes: each completion's class (None or unknown classes are skipped).
        groups: each completion's group.
        class_order: classes best first.

    Returns:
        An ``(n, 2)`` integer array.
    """
    rank = {c: i for i, c in enumerate(class_order)}
    by_group: dict[str, list[int]] = {}
    for i, (c, g) in enumerate(zip(classes, groups, strict=True)):
        if c in rank:
            by_group.setdefault(g, []).append(i)
    pairs = [(a, b) if rank[classes[a]] < rank[classes[b]] else (b, a)  # type: ignore[index]
             for members in by_group.values()
             for k, a in enumerate(members) for b in members[k + 1:]
             if classes[a] != classes[b]]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def ranking_accuracy(scores: Sequence[float], pairs: np.ndarray) -> float:
    """The share of pairs whose better completion scores higher (ties count half).

    Args:
        scores: each completion's total score.
        pairs: ``(better, worse)`` index pairs from :func:`ranking_pairs`.

    Returns:
        The accuracy, or NaN without pairs.
    """
    if len(pairs) == 0:
        return float("nan")
    s = np.asarray(scores, dtype=float)
    diff = s[pairs[:, 0]] - s[pairs[:, 1]]
    return float(np.mean((diff > 1e-12) + 0.5 * (np.abs(diff) <= 1e-12)))


def fit_linear_ranker(x: np.ndarray, pairs: np.ndarray, base: np.ndarray | None = None,
                      margin: float = 1.0, l2: float = 1e-3, steps: int = 1500,
                      lr: float = 0.05) -> np.ndarray:
    """Weights minimising the mean pairwise hinge loss plus ``l2·|w|²``.

    Args:
        x: features, ``(n, d)``.
        pairs: ``(better, worse)`` index pairs.
        base: scores the weights add to (e.g. the reward model's), ``(n,)``; zeros if None.
        margin: how far the better completion must score above the worse.
        l2: the L2 penalty; it picks the smallest weights meeting the margins.
        steps: full-batch Adam steps.
        lr: Adam's step size.

    Returns:
        The weights, ``(d,)``; zeros if there are no pairs.
    """
    d = x.shape[1]
    w = np.zeros(d)
    if len(pairs) == 0:
        return w
    diff = x[pairs[:, 0]] - x[pairs[:, 1]]
    gap = np.zeros(len(pairs)) if base is None else base[pairs[:, 0]] - base[pairs[:, 1]]
    m, v = np.zeros(d), np.zeros(d)
    best, best_loss = w.copy(), np.inf
    for t in range(1, steps + 1):
        slack = margin - gap - diff @ w
        loss = float(np.mean(np.maximum(slack, 0.0)) + l2 * w @ w)
        if loss < best_loss:  # subgradient steps are not monotone: keep the best iterate
            best, best_loss = w.copy(), loss
        grad = -(diff * (slack > 0)[:, None]).mean(axis=0) + 2 * l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        step = lr / (1 + t / 500)  # decay: subgradient descent needs shrinking steps
        w = w - step * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return best


@dataclass
class LinearWeights:
    """One response type's fitted weights and how well they rank.

    Args:
        features: the proposition ids, in weight order.
        weights: one weight per feature.
        train_accuracy: ranking accuracy on the fitting pairs.
        heldout_accuracy: ranking accuracy on held-out pairs (NaN if none).
        train_pairs: number of fitting pairs.
        heldout_pairs: number of held-out pairs.
    """

    features: list[str]
    weights: list[float]
    train_accuracy: float = float("nan")
    heldout_accuracy: float = float("nan")
    train_pairs: int = 0
    heldout_pairs: int = 0

    def score(self, probabilities: Mapping[str, float]) -> float:
        """``Σ wᵢ·pᵢ``; a proposition missing from ``probabilities`` counts as 0."""
        return float(sum(w * probabilities.get(f, 0.0)
                         for f, w in zip(self.features, self.weights, strict=True)))


@dataclass
class RuleWeights:
    """Fitted weights for every response type, with the settings that produced them.

    Args:
        by_type: the weights of each response type.
        class_order: the classes, best first, the fit ranked by.
        settings: margin, l2, holdout fraction, seed.
    """

    by_type: dict[str, LinearWeights]
    class_order: list[str] = field(default_factory=lambda: list(COMPLETION_CLASSES))
    settings: dict[str, Any] = field(default_factory=dict)

    def score(self, response_type: str, probabilities: Mapping[str, float]) -> float:
        """The RBR score of one completion.

        Raises:
            AccordError: no weights for ``response_type``.
        """
        if response_type not in self.by_type:
            raise AccordError(f"no rule weights for response type {response_type!r}; fitted: "
                              f"{', '.join(sorted(self.by_type)) or 'none'}")
        return self.by_type[response_type].score(probabilities)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able content (NaN written as null)."""
        def clean(v: float) -> float | None:
            return None if v != v else v

        return {"class_order": self.class_order, "settings": self.settings,
                "response_types": {t: {"weights": dict(zip(lw.features, lw.weights,
                                                           strict=True)),
                                       "train_accuracy": clean(lw.train_accuracy),
                                       "heldout_accuracy": clean(lw.heldout_accuracy),
                                       "train_pairs": lw.train_pairs,
                                       "heldout_pairs": lw.heldout_pairs}
                                   for t, lw in self.by_type.items()}}

    def save(self, path: str | Path) -> Path:
        """Write the weights as JSON."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> RuleWeights:
        """Read weights written by :meth:`save`.

        Raises:
            AccordError: the file is missing or not such a file.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            def number(value: Any) -> float:
                return float("nan") if value is None else float(value)

            by_type = {}
            for t, entry in data["response_types"].items():
                by_type[t] = LinearWeights(
                    list(entry["weights"]), [float(w) for w in entry["weights"].values()],
                    number(entry.get("train_accuracy")), number(entry.get("heldout_accuracy")),
                    int(entry.get("train_pairs", 0)), int(entry.get("heldout_pairs", 0)))
            return cls(by_type, list(data["class_order"]), dict(data.get("settings", {})))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AccordError(f"{path}: not a rule-weights file written by `accord rewards "
                              f"fit` ({exc})") from exc


def holdout_mask(groups: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    """Which completions are held out.

    With many groups (>= 10: prompts), whole groups are held out, as the paper holds out
    prompts. With few large groups (e.g. one per response type, when every prompt is
    unique), completions are held out within each group instead, so held-out pairs exist.

    Args:
        groups: each completion's group.
        fraction: the share to hold out, 0 to 1.
        seed: the shuffle's seed.
    """
    rng = np.random.default_rng(seed)
    names = sorted(set(groups))
    mask = np.zeros(len(groups), dtype=bool)
    if len(names) >= 10:
        held = set(rng.permutation(names)[: round(fraction * len(names))].tolist())
        return np.array([g in held for g in groups], dtype=bool)
    for name in names:
        idx = np.array([i for i, g in enumerate(groups) if g == name])
        mask[rng.permutation(idx)[: round(fraction * len(idx))]] = True
    return mask


def split_pairs(pairs: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs (both completions kept) and held-out pairs (both held out); pairs
    across the split are dropped, so no held-out completion shapes the weights.

    Args:
        pairs: ``(better, worse)`` index pairs.
        held: which completions are held out.
    """
    if len(pairs) == 0:
        return pairs, pairs
    a, b = held[pairs[:, 0]], held[pairs[:, 1]]
    return pairs[~a & ~b], pairs[a & b]


def fit_rule_weights(examples: Sequence[RankedExample], features: Sequence[str],
                     class_order: Sequence[str] = COMPLETION_CLASSES, holdout: float = 0.25,
                     seed: int = 0, margin: float = 1.0, l2: float = 1e-3,
                     steps: int = 1500) -> RuleWeights:
    """Fit one linear ranker per response type and measure it on held-out pairs.

    Args:
        examples: completions with classes and features.
        features: the feature (proposition) ids to weigh, in order.
        class_order: classes best first.
        holdout: share held out for the accuracy (see :func:`holdout_mask`); 0 fits on all.
        seed: the hold-out split's seed.
        margin: the hinge margin.
        l2: the L2 penalty.
        steps: optimiser steps.

    Returns:
        The fitted :class:`RuleWeights`.

    Raises:
        AccordError: no examples.
    """
    if not examples:
        raise AccordError("no examples to fit rule weights on")
    by_type: dict[str, LinearWeights] = {}
    for rtype in sorted({e.response_type for e in examples}):
        rows = [e for e in examples if e.response_type == rtype]
        x = np.array([[float(e.features.get(f, 0.0)) for f in features] for e in rows])
        base = np.array([e.base_score for e in rows])
        groups = [e.group for e in rows]
        classes = [e.klass for e in rows]
        held = holdout_mask(groups, holdout, seed) if holdout > 0 else np.zeros(len(rows), bool)
        train, test = split_pairs(ranking_pairs(classes, groups, class_order), held)
        # A type whose completions all share one class has no pairs: its weights stay 0
        # (train_pairs == 0 says so) rather than failing the other types' fit.
        w = fit_linear_ranker(x, train, base, margin, l2, steps)
        scores = base + x @ w
        by_type[rtype] = LinearWeights(list(features), [float(v) for v in w],
                                       ranking_accuracy(scores, train),
                                       ranking_accuracy(scores, test), len(train), len(test))
    return RuleWeights(by_type, list(class_order),
                       {"margin": margin, "l2": l2, "holdout": holdout, "seed": seed,
                        "steps": steps})
