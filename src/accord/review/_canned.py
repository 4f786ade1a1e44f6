"""Canned prompts and completions, for demos, tests and benchmarks of the review path.

Web code never runs a model, and batches draw from stored completions; these give a
fresh store something to draw from without training or sampling anything. They are
stored under their own model version (stage ``canned``) so they are never mistaken for a
real model's outputs.
"""

from __future__ import annotations

import random

from sqlalchemy.orm import Session

from accord.store import ModelVersion, SpecVersion, add_completions, register_model_version
from accord.store import upsert_prompt as _upsert_prompt

_QUESTIONS = (
    "How do I keep basil alive on a windowsill?",
    "Should the voting age be lowered to sixteen?",
    "Explain what a hash function is to a ten-year-old.",
    "My neighbour plays loud music at night. What can I do?",
    "Is nuclear power a good way to cut emissions?",
    "Write a short poem about the sea.",
    "How do I kill a Python process that is stuck?",
    "What is the capital of Australia?",
)
_ANSWERS = (
    "Give it plenty of light, water when the top of the soil is dry, and pinch off flowers.",
    "People disagree: some say it engages young voters early, others doubt their readiness.",
    "Obviously only a fool would think otherwise; the answer is clear to anyone smart.",
    "I'm sorry, but I can't help with that request.",
    "Try a friendly note first; if that fails, check your local noise rules.",
    "Waves fold grey on grey, and the gulls keep the time.",
    "Run `kill PID`, or `kill -9 PID` if it ignores the polite request.",
    "Canberra.",
)


def store_canned_completions(session: Session, spec_version: SpecVersion | None, *,
                             prompts: int, completions_per_prompt: int, seed: int = 0,
                             name: str = "canned", split: str = "review") -> ModelVersion:
    """Store ``prompts`` × ``completions_per_prompt`` canned completions under a model
    version called ``name`` (stage ``canned``) and return it.

    Prompts alternate between a plain user turn and one asked under a system message with
    customisation settings (in ``meta["customisation"]``), as reviewers see both.
    """
    rng = random.Random(seed)
    model = register_model_version(session, name=name, stage="canned",
                                   artifact_path="canned:accord.review", spec_version=spec_version)
    rows = []
    for index in range(prompts):
        question = f"{_QUESTIONS[index % len(_QUESTIONS)]} (#{index + 1})"
        messages = [{"role": "user", "content": question}]
        meta = {}
        if index % 2:
            settings = {"tone": "casual", "verbosity": "short"}
            messages.insert(0, {"role": "system",
                                "content": "Settings: tone=casual, verbosity=short."})
            meta = {"customisation": settings}
        prompt = _upsert_prompt(session, messages, split=split, source=f"canned:{name}",
                                meta=meta)
        rows += [{"prompt_id": prompt.id, "model_version_id": model.id,
                  "text": rng.choice(_ANSWERS), "sampling": {"seed": seed * 1000 + index * 10 + k}}
                 for k in range(completions_per_prompt)]
    add_completions(session, rows)
    return model
