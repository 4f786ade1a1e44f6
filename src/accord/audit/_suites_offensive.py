"""``offensive``: the rate of offensive answers to provocative real prompts — the first
human turns of a fixed part of Anthropic's HH harmless prompts (``hh-rlhf/``).

Which prompts belong to the suite is fixed by each prompt's text alone
(:func:`is_suite_prompt`, a SHA-256 cut), so training stages can take the rest
(:func:`hh_suite_split`) and never train on what this suite measures.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from typing import Any

from accord.audit._suites import (
    Suite,
    SuiteContext,
    SuiteResult,
    exchanges,
    rate,
    register_suite,
    score_with,
    stable_fraction,
)

HH_FILE = "hh-rlhf/harmless-base-test-part1.jsonl.gz"
OFFENSIVE = "offensive"
REFUSAL = "refusal"
SUITE_SHARE = 0.25
"""The share of distinct HH first prompts that the suite keeps (by hash of the text)."""
_SALT = "accord-offensive-suite:"


def hh_first_prompt(dialogue: str) -> str:
    """The first human turn of an HH dialogue (``"\\n\\nHuman: ... \\n\\nAssistant: ..."``),
    stripped; "" when it has none."""
    _, sep, rest = dialogue.partition("Human:")
    if not sep:
        return ""
    return rest.split("\n\nAssistant:", 1)[0].strip()


def is_suite_prompt(text: str) -> bool:
    """Whether an HH first human turn belongs to the ``offensive`` suite (fixed by the
    text alone: whitespace and case do not matter).

    Args:
        text: the prompt (see :func:`hh_first_prompt`).
    """
    return stable_fraction(_SALT + " ".join(text.lower().split())) < SUITE_SHARE


def hh_suite_split(rows: Iterable[Mapping[str, Any]]
                   ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Split HH records (``{"chosen", "rejected"}`` dialogues) into the ones whose first
    human turn the ``offensive`` suite measures and the ones training may use.

    Args:
        rows: HH records, e.g. the lines of ``harmless-base-test-part1.jsonl.gz``.

    Returns:
        ``(suite_rows, training_rows)``, each in the given order; every record whose first
        prompt is a suite prompt goes to the first list, whichever of its dialogues says so.
    """
    suite, training = [], []
    for row in rows:
        prompts = {hh_first_prompt(str(row.get(k, ""))) for k in ("chosen", "rejected")}
        (suite if any(p and is_suite_prompt(p) for p in prompts) else training).append(row)
    return suite, training


@register_suite
class Offensive(Suite):
    """Provocative real prompts: how often are the answers offensive?"""

    name = "offensive"
    description = ("offensive answers (grader offensive) to provocative real prompts: a "
                   "fixed part of the HH harmless first turns")
    graders = (OFFENSIVE, REFUSAL)

    def run(self, ctx: SuiteContext) -> SuiteResult:
        """Ask the suite's distinct first prompts in file order (the first ``limit``),
        grade each answer with ``offensive`` (and ``refusal``, for context)."""
        with gzip.open(ctx.data_file(HH_FILE), "rt", encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
        suite_rows, _ = hh_suite_split(records)
        seen: list[str] = []
        for row in suite_rows:
            text = hh_first_prompt(row["chosen"])
            if text and text not in seen:
                seen.append(text)
        distinct = len(seen)
        if ctx.limit is not None:
            seen = seen[:ctx.limit]
        prompts = [[{"role": "user", "content": t}] for t in seen]
        responses = ctx.generate(prompts, "offensive: answers")
        exs = exchanges(prompts, responses)
        off, flagged = score_with(OFFENSIVE, exs)
        ref, refused = score_with(REFUSAL, exs)
        items = [{"id": f"offensive-{i}", "prompt": p, "response": r,
                  "scores": {OFFENSIVE: o, REFUSAL: rs},
                  "verdict": "offensive" if fl else "refusal" if rf else "not offensive"}
                 for i, (p, r, o, fl, rs, rf) in enumerate(zip(prompts, responses, off, flagged,
                                                               ref, refused, strict=True))]
        n = len(items)
        figures = [
            rate("offensive", sum(flagged), n, "lower is better",
                 f"answers the {OFFENSIVE!r} grader calls insulting, demeaning or hateful"),
            rate("refusal", sum(refused), n, "see description",
                 f"answers the {REFUSAL!r} grader calls a refusal (context: a model can be "
                 "inoffensive by refusing everything)"),
        ]
        return SuiteResult(self.name, figures, items,
                           info={"distinct_suite_prompts": distinct, "suite_share": SUITE_SHARE})
