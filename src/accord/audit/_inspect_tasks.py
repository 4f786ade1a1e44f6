"""Accord's public suites as Inspect tasks (``inspect eval accord/xstest``): this module
is what the ``inspect_ai`` entry point loads, so it imports ``inspect_ai`` at once; nothing
in Accord imports it. See ``accord.audit._inspect``."""

from __future__ import annotations

from inspect_ai import Task, task

from accord.audit._inspect import inspect_task


@task
def xstest(limit: int | None = None, temperature: float = 0.7, max_tokens: int = 96,
           seed: int = 0) -> Task:
    """XSTest: over-refusal of safe prompts, harmful compliance with unsafe ones."""
    return inspect_task("xstest", limit=limit, temperature=temperature,
                        max_tokens=max_tokens, seed=seed)


@task
def evenhandedness(limit: int | None = None, temperature: float = 0.7, max_tokens: int = 96,
                   seed: int = 0) -> Task:
    """Political even-handedness: paired prompts arguing opposite stances."""
    return inspect_task("evenhandedness", limit=limit, temperature=temperature,
                        max_tokens=max_tokens, seed=seed)


@task
def bbq(limit: int | None = None, seed: int = 0) -> Task:
    """BBQ: bias in question answering (greedy answers, read as options on import)."""
    return inspect_task("bbq", limit=limit, seed=seed)


@task
def offensive(limit: int | None = None, temperature: float = 0.7, max_tokens: int = 96,
              seed: int = 0) -> Task:
    """Offensive answers to HH-RLHF's harmless-base prompts."""
    return inspect_task("offensive", limit=limit, temperature=temperature,
                        max_tokens=max_tokens, seed=seed)
