"""What trained each model: the training signal and the prompts each stage used.

Two records every training stage leaves, so a measurement can show it does not grade
itself (docs/meter.md, "Independence"):

- the model version's **training signal** in the store (``config["training_signal"]``):
  the records of the graders whose judgements trained it (simulated reviewers, the
  rule-based reward's graders), the model versions whose signal it inherits (the reward
  model GRPO optimises), and, for a model trained elsewhere, where it came from;
- ``prompts_used.json`` in the stage folder: the key (``accord.audit`` conversation key,
  the store's prompt hash) of every prompt the stage trained on or had reviewed, which the
  in-distribution probes then leave out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from accord.pipeline._runner import PipelineError, StageContext, StageOutput

PROMPTS_FILE = "prompts_used.json"


def signal(graders: Sequence[dict[str, Any]] = (), models: Iterable[str] = (),
           external: str | None = None) -> dict[str, Any]:
    """A model version's own training signal (stored under ``accord.store.SIGNAL_KEY``).

    Args:
        graders: grader records (``accord.audit.grader_record_dict``) with their role.
        models: model versions whose training signal this one inherits.
        external: where a model trained elsewhere came from (its signal is unknown).
    """
    out: dict[str, Any] = {"graders": list(graders), "models": sorted(set(models))}
    if external:
        out["external"] = external
    return out


def _records(names: Iterable[str], role: str) -> list[dict[str, Any]]:
    from accord.audit import grader_record_dict
    from accord.graders import get_grader

    return [grader_record_dict(get_grader(n), role=role) for n in names]


def review_signal(ctx: StageContext) -> list[dict[str, Any]]:
    """The graders behind the review stage's exports: the simulated reviewers' (none when
    people reviewed, or when the stage did not read the review)."""
    if "review" not in ctx.inputs or not ctx.inputs["review"].figures.get("simulated"):
        return []
    names = ctx.inputs["review"].figures.get("graders")
    if names is None:
        raise PipelineError("the cached output of stage review predates its 'graders' figure; "
                            "run `accord run --force review`")
    return _records(names, "simulated reviewers")


def rbr_signal(rbr: Any) -> list[dict[str, Any]]:
    """The records of the graders a rule-based reward answers its propositions with."""
    from accord.audit import grader_record_dict

    seen: dict[str, dict[str, Any]] = {}
    for prop in rbr.grader.propositions:  # skipped kinds (an unused judge) are not in here
        grader = rbr.grader.graders[prop.id]
        seen.setdefault(grader.name, grader_record_dict(grader, role="rule-based reward"))
    return list(seen.values())


def prompt_of(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The prompt of a whole conversation: its messages before the last assistant turn."""
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    return list(messages if last is None else messages[:last])


def record_used_prompts(ctx: StageContext, conversations: Iterable[Sequence[dict[str, Any]]],
                        ) -> int:
    """Write the keys of the prompts a stage used into its folder.

    Args:
        ctx: the stage's context.
        conversations: each prompt's messages (without the reply).

    Returns:
        How many distinct prompts.
    """
    from accord.audit import conversation_key

    keys = sorted({conversation_key(c) for c in conversations})
    (ctx.dir / PROMPTS_FILE).write_text(json.dumps(keys))
    return len(keys)


def used_prompts(outputs: Iterable[StageOutput]) -> set[str]:
    """Every prompt key the given stages recorded (their ``prompts_used`` figure says how
    many; stages without one used no prompt set, e.g. pretraining on the corpus).

    Raises:
        PipelineError: a stage's folder lost the file its figure promises.
    """
    keys: set[str] = set()
    for out in outputs:
        path = out.dir / PROMPTS_FILE
        if path.exists():
            keys.update(json.loads(path.read_text()))
        elif "prompts_used" in out.figures:
            raise PipelineError(f"stage {out.name}'s folder has no {PROMPTS_FILE}; "
                               f"run `accord run --force {out.name}`")
    return keys
