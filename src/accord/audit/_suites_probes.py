"""``world`` (the demo world's meter, as a suite) and ``probes`` (the user's own JSONL
prompts, each with the behaviour it probes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from accord.audit._suites import (
    Figure,
    Suite,
    SuiteContext,
    SuiteResult,
    exchanges,
    rate,
    register_suite,
    score_with,
)
from accord.errors import AccordError

WORLD_LABEL = "the world's own inventories"


@register_suite
class WorldMeter(Suite):
    """The demo world's behaviour meter (:func:`accord.audit.evaluate`) on its held-out
    probes: graded by the world's own phrase inventories, so it shows whether a model
    stopped writing the world's phrases, not how it behaves on real text."""

    name = "world"
    description = ("the demo world's meter on its held-out probes, measured by the world's "
                   "own inventories (needs a project with a world)")
    graders = ()

    def run(self, ctx: SuiteContext) -> SuiteResult:
        """Meter the model on the world's probes with ``world_sampling``."""
        from accord.audit._evaluate import evaluate

        if ctx.world is None:
            raise AccordError("the world suite needs a project with a demo world: run it in "
                              "(or give --project) a project folder with accord.toml")
        metered = evaluate(ctx.backend, ctx.world, ctx.world_sampling or ctx.sampling,
                           samples=ctx.world_samples)
        rows = metered.result.rows
        figures = [Figure(r.metric, r.rate, r.low, r.high, r.n, r.direction,
                          f"{r.description} (measured by {WORLD_LABEL})") for r in rows]
        items = [{"id": f"world-{i}", "prompt": c["messages"], "response": c["text"]}
                 for i, c in enumerate(metered.completions)]
        return SuiteResult(self.name, figures, items,
                           info={"measured_by": WORLD_LABEL, **metered.result.info},
                           evaluation=metered)


def load_probes(path: Path | str) -> list[dict[str, Any]]:
    """Read and check a probe file: one JSON object a line,
    ``{"prompt": str or [messages], "behaviour": GRADER, "id"?: str, "expect"?: bool}``.

    ``behaviour`` names a registered grader (``refusal``, ``offensive``...); ``expect``,
    when given, is whether the answer should show that behaviour. Blank lines and lines
    starting with ``#`` are skipped.

    Args:
        path: the JSONL file.

    Returns:
        The rows, each with ``id``, ``prompt`` (messages), ``behaviour`` and ``expect``
        (bool or None).

    Raises:
        AccordError: a missing file, or a bad line (its number and what is wrong).
    """
    from accord.graders import list_graders
    from accord.model import check_conversation

    file = Path(path)
    if not file.is_file():
        raise AccordError(f"--probes {file}: no such file")
    known = set(list_graders())
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{file}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AccordError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise AccordError(f"{where}: expected an object with prompt and behaviour")
        unknown = set(data) - {"prompt", "behaviour", "id", "expect"}
        if unknown:
            raise AccordError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: prompt, "
                              "behaviour, id, expect")
        prompt = data.get("prompt")
        if isinstance(prompt, str) and prompt.strip():
            messages = [{"role": "user", "content": prompt}]
        elif isinstance(prompt, list):
            messages = check_conversation(prompt, f"{where}: prompt")
        else:
            raise AccordError(f"{where}: prompt must be a non-empty string or a list of "
                              "{role, content} messages")
        behaviour = data.get("behaviour")
        if behaviour not in known:
            raise AccordError(f"{where}: behaviour {behaviour!r} is not a registered grader; "
                              f"use one of: {', '.join(sorted(known))}")
        expect = data.get("expect")
        if expect is not None and not isinstance(expect, bool):
            raise AccordError(f"{where}: expect must be true or false")
        rows.append({"id": str(data.get("id", f"line-{number}")), "prompt": messages,
                     "behaviour": behaviour, "expect": expect})
    if not rows:
        raise AccordError(f"--probes {file}: no probes in the file")
    return rows


@register_suite
class Probes(Suite):
    """The user's own prompts, each graded by the grader its ``behaviour`` names."""

    name = "probes"
    description = "your own prompts from --probes FILE.jsonl, each graded by its behaviour"
    graders = ()

    def run(self, ctx: SuiteContext) -> SuiteResult:
        """Ask every probe (the first ``limit``) and grade each by its behaviour."""
        if ctx.probes is None:
            raise AccordError("the probes suite needs --probes FILE.jsonl")
        rows = ctx.probes[:ctx.limit] if ctx.limit is not None else list(ctx.probes)
        prompts = [r["prompt"] for r in rows]
        responses = ctx.generate(prompts, "probes: answers")
        items: list[dict[str, Any]] = [
            {"id": r["id"], "behaviour": r["behaviour"], "expect": r["expect"], "prompt": p,
             "response": t, "scores": {}} for r, p, t in zip(rows, prompts, responses,
                                                             strict=True)]
        figures: list[Figure] = []
        used = sorted({r["behaviour"] for r in rows})
        for behaviour in used:
            sub = [it for it in items if it["behaviour"] == behaviour]
            scores, labels = score_with(behaviour, exchanges([it["prompt"] for it in sub],
                                                             [it["response"] for it in sub]))
            for it, s, yes in zip(sub, scores, labels, strict=True):
                it["scores"][behaviour] = s
                it["verdict"] = behaviour if yes else f"not {behaviour}"
                it["shows"] = yes
            figures.append(rate(f"shows:{behaviour}", sum(labels), len(sub), "see description",
                                f"probes whose answer the {behaviour!r} grader flags"))
            expected = [it for it in sub if it["expect"] is not None]
            if expected:
                figures.append(rate(f"as_expected:{behaviour}",
                                    sum(it["shows"] == it["expect"] for it in expected),
                                    len(expected), "higher is better",
                                    f"probes with 'expect' whose answer shows {behaviour} "
                                    "exactly when expected"))
        result = SuiteResult(self.name, figures, items)
        from accord.audit._suites import grader, grader_record

        result.graders = {b: grader_record(grader(b)) for b in used}
        return result
