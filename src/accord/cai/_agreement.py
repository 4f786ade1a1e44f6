"""How often AI-feedback labels agree with reviewers' labels on the same pairs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

from accord.audit import wilson
from accord.cai._common import prompt_messages, reply_text
from accord.errors import AccordError

DEFAULT_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass
class AgreementBin:
    """Agreement among the matched labels whose AI confidence is in ``[low, high)`` (the
    last bin includes 1.0)."""

    low: float
    high: float
    n: int
    agree: int

    @property
    def rate(self) -> float:
        return self.agree / self.n if self.n else float("nan")


@dataclass
class LabelAgreement:
    """AI feedback against reviewers on the pairs both labelled.

    Attributes:
        n: reviewer labels matched with an AI label (a pair rated by three reviewers
            counts three times).
        agree: how many of them the AI label agrees with.
        low, high: 95 % Wilson interval of ``agree / n``.
        bins: the same by AI confidence (``p_chosen``).
        unmatched: reviewer labels with no AI label on the same pair.
        ties: reviewer rows whose two responses are the same text (left out).
    """

    n: int
    agree: int
    low: float
    high: float
    bins: list[AgreementBin] = field(default_factory=list)
    unmatched: int = 0
    ties: int = 0

    @property
    def rate(self) -> float:
        return self.agree / self.n if self.n else float("nan")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rate"] = self.rate
        for b, d in zip(self.bins, out["bins"], strict=True):
            d["rate"] = b.rate
        return out

    def render_text(self) -> str:
        """A small plain-text table."""
        lines = [f"AI feedback agrees with reviewers on {self.agree}/{self.n} labels "
                 f"({self.rate:.1%}, 95% CI {self.low:.1%}-{self.high:.1%}); "
                 f"{self.unmatched} reviewer labels unmatched",
                 "confidence   n   agreement"]
        lines += [f"{b.low:.1f}-{b.high:.1f}  {b.n:5d}   "
                  + (f"{b.rate:.1%}" if b.n else "-") for b in self.bins]
        return "\n".join(lines)


def _key(prompt: list[dict[str, str]], a: str, b: str) -> str:
    return json.dumps([prompt, sorted([a, b])], sort_keys=True, ensure_ascii=False)


def label_agreement(ai_pairs: Sequence[Mapping[str, Any]],
                    reviewer_pairs: Sequence[Mapping[str, Any]], *,
                    edges: Sequence[float] = DEFAULT_EDGES) -> LabelAgreement:
    """Compare AI-feedback labels with reviewers' labels on the same pairs.

    Pairs match when they have the same prompt messages and the same two response texts
    (in either order). A reviewer label agrees when the AI's ``chosen`` is the reviewer's
    ``chosen``.

    Args:
        ai_pairs: :func:`feedback_labels` rows (``prompt``, ``chosen``, ``rejected``,
            ``p_chosen``; rows without ``p_chosen`` count as confidence 1).
        reviewer_pairs: TRL preference rows from reviewers (``accord review export``) or
            the world's ``preference_pairs`` (its labels are the ground truth).
        edges: confidence bin edges, increasing from 0.5 to 1.0.

    Raises:
        AccordError: malformed rows or edges.
    """
    edges = list(edges)
    if len(edges) < 2 or edges[0] > 0.5 or edges[-1] < 1.0 or edges != sorted(edges):
        raise AccordError(f"label_agreement: edges {edges} must increase from <= 0.5 to >= 1")
    ai: dict[str, tuple[str, float]] = {}
    for i, row in enumerate(ai_pairs):
        prompt = prompt_messages(row, f"ai pair {i}")
        chosen = reply_text(row["chosen"], f"ai pair {i}")
        rejected = reply_text(row["rejected"], f"ai pair {i}")
        ai.setdefault(_key(prompt, chosen, rejected), (chosen, float(row.get("p_chosen", 1.0))))
    bins = [AgreementBin(lo, hi, 0, 0) for lo, hi in pairwise(edges)]
    n = agree = unmatched = ties = 0
    for i, row in enumerate(reviewer_pairs):
        prompt = prompt_messages(row, f"reviewer pair {i}")
        chosen = reply_text(row["chosen"], f"reviewer pair {i}")
        rejected = reply_text(row["rejected"], f"reviewer pair {i}")
        if chosen == rejected:
            ties += 1
            continue
        found = ai.get(_key(prompt, chosen, rejected))
        if found is None:
            unmatched += 1
            continue
        ok = found[0] == chosen
        n, agree = n + 1, agree + ok
        for j, b in enumerate(bins):
            if b.low <= found[1] < b.high or (j == len(bins) - 1 and found[1] >= b.low):
                b.n, b.agree = b.n + 1, b.agree + ok
                break
    low, high = wilson(agree, n)
    return LabelAgreement(n, agree, low, high, bins, unmatched, ties)
