"""The bridge to UK AISI's Inspect (``inspect_ai``): Accord's public suites as Inspect
tasks, and an Inspect log brought back as Accord figures.

Nothing is re-implemented on either side. A task's samples are exactly the prompts the
suite asks, in the suite's own balanced order (found by running the suite on a model that
records the prompts and answers nothing), so ``inspect eval --limit N`` asks what
``accord eval --limit N`` asks. Inspect generates; each sample is scored by the suite's
own graders (their probabilities, so Inspect's viewer shows them). :func:`import_inspect_log`
replays the suite with the log's answers in place of a model, so the figures, their ``n``
and Wilson intervals, the per-item verdicts and warnings are the ones the suite computes.

``inspect_ai`` is imported only by the functions that need it (the ``inspect`` extra);
the tasks themselves are registered by ``accord.audit._inspect_tasks`` through the
``inspect_ai`` entry point, so ``inspect eval accord/xstest`` finds them.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accord.audit._suites import SUITES, _register_builtin, run_suites
from accord.errors import AccordError
from accord.model import OpenAIBackend, SamplingConfig

# The suites an Inspect task can run: each asks only replies of the model under test.
BRIDGED = ("xstest", "evenhandedness", "bbq", "offensive")
# Prompts per suite item (an even-handedness item is a pair).
_PER_ITEM = {"evenhandedness": 2}
_ALL = 10**9  # "every item", still in the suite's balanced order


def _key(conversation: Sequence[dict[str, str]]) -> str:
    return json.dumps([{"role": m["role"], "content": m["content"]} for m in conversation],
                      sort_keys=True, ensure_ascii=False)


class _ScriptedBackend(OpenAIBackend):
    """A model whose answers come from a script: records what it is asked (``answers`` is
    None; it answers "") or answers from an Inspect log. An endpoint as far as the suites
    are concerned (answers are read, options are never scored)."""

    def __init__(self, name: str, answers: dict[str, list[str]] | None = None) -> None:
        super().__init__(name, "inspect-log")
        self.answers = answers
        self.asked: list[list[dict[str, str]]] = []

    def generate(self, conversations: Sequence[Any], sampling: SamplingConfig, *,
                 seeds: Sequence[int] | None = None) -> list[str]:
        out = []
        for conv in conversations:
            self.asked.append([dict(m) for m in conv])
            if self.answers is None:
                out.append("")
                continue
            found = self.answers.get(_key(conv))
            if not found:
                raise _Unanswered(_key(conv))
            out.append(found[0] if len(found) == 1 else found.pop(0))
        return out

    def score(self, conversations: Sequence[Any], options: Sequence[str]) -> list[list[float]]:
        raise AccordError("an Inspect log holds answers, not option scores")


class _Unanswered(AccordError):
    pass


def _check_suite(suite: str) -> None:
    _register_builtin()
    if suite not in BRIDGED:
        raise AccordError(f"suite {suite!r} has no Inspect task; bridged suites: "
                          f"{', '.join(BRIDGED)}")


def suite_prompts(suite: str, *, limit: int | None = None,
                  data_dir: Path | str | None = None) -> list[list[dict[str, str]]]:
    """The conversations ``suite`` asks, in its balanced order (a prefix of the full
    list is what ``limit`` would ask).

    Args:
        suite: one of :data:`BRIDGED`.
        limit: items (pairs for even-handedness); None: all, still in balanced order.
        data_dir: the public data folder (default: ``default_data_dir()``).

    Raises:
        AccordError: an unknown suite, or its data is missing.
    """
    _check_suite(suite)
    if limit is not None:
        return _asked(suite, limit, data_dir)
    # A suite asked for every item keeps its file order; one short of every item takes
    # turns across its groups: that order, then the one item left.
    every = _asked(suite, _ALL, data_dir)
    items = len(every) // _PER_ITEM.get(suite, 1)
    if items <= 1:
        return every
    most = _asked(suite, items - 1, data_dir)
    left = Counter(_key(c) for c in most)
    rest = []
    for conv in every:
        if left[_key(conv)] > 0:
            left[_key(conv)] -= 1
        else:
            rest.append(conv)
    return most + rest


def _asked(suite: str, limit: int, data_dir: Path | str | None
           ) -> list[list[dict[str, str]]]:
    recorder = _ScriptedBackend("recorder")
    run_suites([suite], recorder, SamplingConfig(), data_dir=data_dir, limit=limit)
    return recorder.asked


def inspect_task(suite: str, *, limit: int | None = None, temperature: float = 0.7,
                 max_tokens: int = 96, seed: int = 0,
                 data_dir: Path | str | None = None) -> Any:
    """``suite`` as an ``inspect_ai.Task``: its prompts as samples, ``generate()``, and a
    scorer giving each answer the suite's graders' probabilities.

    Args:
        suite: one of :data:`BRIDGED`.
        limit: items (pairs for even-handedness) the task holds; ``inspect eval --limit``
            takes a prefix of them.
        temperature, max_tokens, seed: generation settings (``bbq`` reads greedy answers
            of at most 24 tokens, as its endpoint path does).
        data_dir: the public data folder.

    Raises:
        AccordError: ``inspect_ai`` is not installed, or the suite cannot be bridged.
    """
    try:
        from inspect_ai import Task
        from inspect_ai.dataset import MemoryDataset, Sample
        from inspect_ai.model import (
            ChatMessageAssistant,
            ChatMessageSystem,
            ChatMessageUser,
            GenerateConfig,
        )
        from inspect_ai.solver import generate
    except ImportError as exc:
        raise AccordError("the Inspect bridge needs inspect_ai: pip install "
                          "'accord[inspect]'") from exc
    roles = {"system": ChatMessageSystem, "user": ChatMessageUser,
             "assistant": ChatMessageAssistant}
    prompts = suite_prompts(suite, limit=limit, data_dir=data_dir)
    samples = [Sample(input=[roles[m["role"]](content=m["content"]) for m in conv],
                      id=f"{suite}-{i}", metadata={"conversation": conv})
               for i, conv in enumerate(prompts)]
    if suite == "bbq":
        temperature, max_tokens = 0.0, 24
    config = GenerateConfig(temperature=temperature, max_tokens=max_tokens, seed=seed)
    return Task(dataset=MemoryDataset(samples, name=f"accord/{suite}"), solver=generate(),
                scorer=_graders_scorer(suite), config=config, name=f"accord/{suite}",
                metadata={"accord_suite": suite, "accord_limit": limit})


def _graders_scorer(suite: str) -> Any:
    from inspect_ai.scorer import Score, mean, scorer

    names = list(SUITES[suite].graders)

    @scorer(metrics={"*": [mean()]} if names else [mean()], name=f"accord_{suite}_graders")
    def graders() -> Any:
        async def score(state: Any, target: Any) -> Any:
            from accord.audit._suites import exchanges, score_with

            conv = state.metadata["conversation"]
            text = state.output.completion
            exs = exchanges([conv], [text], [{}])
            values = {n: round(score_with(n, exs)[0][0], 6) for n in names}
            return Score(value=values or 0.0, answer=text,
                         explanation="probabilities from Accord's graders "
                         f"{', '.join(names)}" if names else "read by the bbq suite on import")

        return score

    return graders()


def import_inspect_log(path: Path | str, *, data_dir: Path | str | None = None
                       ) -> dict[str, Any]:
    """An Inspect log of an Accord task as Accord figures: the suite replayed with the
    log's answers.

    Args:
        path: an Inspect log file (``.eval`` or ``.json``).
        data_dir: the public data folder the suite reads (default ``default_data_dir()``).

    Returns:
        ``{"suite", "model", "figures"`` (each with value, Wilson interval and n),
        ``"items", "warnings", "graders", "data", "sampling", "log"`` (path, SHA-256,
        Inspect's eval id, task, creation time, status and samples)``}``.

    Raises:
        AccordError: the file is missing or not an Inspect log, the task is not an Accord
            suite, the run did not finish, or its answers are not a prefix of the suite.
    """
    try:
        from inspect_ai.log import read_eval_log
    except ImportError as exc:
        raise AccordError("importing an Inspect log needs inspect_ai: pip install "
                          "'accord[inspect]'") from exc
    file = Path(path)
    if not file.is_file():
        raise AccordError(f"Inspect log {file} not found")
    try:
        log = read_eval_log(str(file))
    except Exception as exc:  # inspect raises many kinds on a file that is not a log
        raise AccordError(f"{file} is not an Inspect log: {exc}") from None
    task = log.eval.task or ""
    suite = (log.eval.metadata or {}).get("accord_suite") or task.split("/")[-1]
    if not task.startswith("accord/") or suite not in BRIDGED:
        raise AccordError(f"{file}: task {task!r} is not one of Accord's suites "
                          f"({', '.join('accord/' + s for s in BRIDGED)})")
    if log.status != "success":
        raise AccordError(f"{file}: the Inspect run ended with status {log.status!r}; "
                          "import a finished run")
    answers: dict[str, list[str]] = {}
    for sample in log.samples or []:
        conv = (sample.metadata or {}).get("conversation")
        if conv is None:
            raise AccordError(f"{file}: sample {sample.id} carries no Accord conversation")
        text = sample.output.completion if sample.output is not None else ""
        answers.setdefault(_key(conv), []).append(text)
    answered = sum(len(v) for v in answers.values())
    if not answered:
        raise AccordError(f"{file}: the log holds no samples")
    model = log.eval.model.split("/")[-1]
    config = log.eval.model_generate_config or log.plan.config
    sampling = SamplingConfig(
        temperature=config.temperature if config.temperature is not None else 1.0,
        top_p=config.top_p if config.top_p is not None else 1.0,
        max_new_tokens=config.max_tokens or 96, seed=config.seed or 0)
    limit = max(1, answered // _PER_ITEM.get(suite, 1))
    try:
        result = run_suites([suite], _ScriptedBackend(model, answers), sampling,
                            data_dir=data_dir, limit=limit)[0]
    except _Unanswered:
        raise AccordError(f"{file}: its {answered} answers are not the first {limit} items "
                          f"of {suite} (was the dataset shuffled or filtered?); run the task "
                          "unshuffled, with --limit or -T limit=N") from None
    out = result.to_dict()
    out.update({
        "suite": suite, "model": log.eval.model,
        "sampling": sampling.to_dict(),
        "log": {"path": str(file), "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
                "eval_id": log.eval.eval_id, "run_id": log.eval.run_id, "task": task,
                "created": log.eval.created, "status": log.status, "samples": answered,
                "inspect_version": getattr(log.eval.packages, "get", lambda *_: None)(
                    "inspect_ai")}})
    out.setdefault("info", {})["source"] = "inspect"
    return out
