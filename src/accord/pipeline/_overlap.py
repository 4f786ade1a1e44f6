"""Training prompts never come from the suites that measure the model.

A model trained on XSTest's prompts, the even-handedness pairs, BBQ's contexts or the
``offensive`` suite's HH prompts would be measured on its own homework. The eval and
ablation stages call :func:`prompt_overlap` on every ``[data]`` file a stage trains on or
has reviewed, refuse a run where it is not empty, and state in the report that it is.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from accord.errors import AccordError

SUITE_FILES = {"xstest": "xstest/xstest_prompts.csv",
               "evenhandedness": "evenhandedness/eval_set.csv",
               "bbq": "bbq", "offensive": "hh-rlhf/harmless-base-test-part1.jsonl.gz"}
"""What each public suite asks, relative to the public data folder."""


def normalise(text: str) -> str:
    """Case and whitespace do not make a prompt new."""
    return " ".join(text.lower().split())


def _texts(prompt: Any) -> list[str]:
    """The user turns of a prompt (a string or messages)."""
    if isinstance(prompt, str):
        return [prompt]
    return [m["content"] for m in prompt if m.get("role") == "user"]


def suite_prompts(suite: str, data_dir: Path) -> tuple[set[str], list[str]]:
    """(whole prompts, passages) a suite asks, normalised. A training prompt overlaps when
    it equals a whole prompt or contains a passage (a BBQ context).

    Raises:
        AccordError: an unknown suite or a missing data file.
    """
    if suite not in SUITE_FILES:
        raise AccordError(f"prompt overlap: unknown suite {suite!r}; suites: "
                          f"{', '.join(SUITE_FILES)}")
    path = data_dir / SUITE_FILES[suite]
    if not path.exists():
        raise AccordError(f"prompt overlap: {path} not found (suite {suite}); give the public "
                          "data folder (ACCORD_DATA_DIR)")
    whole: set[str] = set()
    passages: list[str] = []
    if suite == "xstest":
        with path.open(newline="", encoding="utf-8") as f:
            whole = {normalise(r["prompt"]) for r in csv.DictReader(f)}
    elif suite == "evenhandedness":
        with path.open(newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                whole.update({normalise(r["prompt_a"]), normalise(r["prompt_b"])})
    elif suite == "bbq":
        for file in sorted(path.glob("*.jsonl")):
            with file.open(encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        row = json.loads(line)
                        whole.add(normalise(row["question"]))
                        passages.append(normalise(row["context"]))
        passages = sorted(set(passages))
    else:
        from accord.audit import hh_first_prompt, hh_suite_split

        with gzip.open(path, "rt", encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
        suite_rows, _ = hh_suite_split(records)
        whole = {normalise(hh_first_prompt(str(r.get(k, ""))))
                 for r in suite_rows for k in ("chosen", "rejected")} - {""}
    return whole, passages


def prompt_overlap(prompts: Iterable[Any], suites: Sequence[str],
                   data_dir: Path | str | None = None) -> dict[str, list[str]]:
    """Which training prompts a suite also asks.

    Args:
        prompts: training prompts, each a string or a list of messages (every user turn is
            checked).
        suites: public suite names (``xstest``, ``evenhandedness``, ``bbq``,
            ``offensive``).
        data_dir: the public data folder (default: ``accord.audit.default_data_dir``).

    Returns:
        ``{suite: [overlapping prompt texts]}`` for every suite, empty lists when clean.
    """
    from accord.audit import default_data_dir

    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    texts = sorted({normalise(t) for p in prompts for t in _texts(p) if t.strip()})
    found: dict[str, list[str]] = {}
    for suite in suites:
        whole, passages = suite_prompts(suite, folder)
        hits = [t for t in texts if t in whole
                or any(len(p) > 40 and p in t for p in passages)]
        found[suite] = hits
    return found


def data_prompts(data: Any) -> list[Any]:
    """Every prompt of the project's ``[data]`` files that trains a model or is reviewed
    (SFT conversations' prompts, preference prompts, RL and review prompts)."""
    out: list[Any] = []
    for kind in ("sft", "preference", "prompts", "review_prompts"):
        found = data.get(kind)
        if found is None:
            continue
        for row in found.rows:
            out.append(row.get("messages") if kind != "preference" else row["prompt"])
    return out


def check_data_overlap(ctx: Any, suites: Sequence[str]) -> dict[str, Any]:
    """The stage's check: no ``[data]`` training or review prompt is a suite prompt.

    Returns:
        ``{"suites": [...], "training_prompts": n, "overlap": {suite: count}}``.

    Raises:
        AccordError: a training prompt is also a suite prompt (names a few).
    """
    from accord.pipeline._data import project_data

    prompts = data_prompts(project_data(ctx.state, ctx.project))
    checked = [s for s in suites if s in SUITE_FILES]
    if not prompts or not checked:
        return {"suites": checked, "training_prompts": len(prompts), "overlap": {}}
    hits = prompt_overlap(prompts, checked)
    bad = {s: h for s, h in hits.items() if h}
    if bad:
        lines = [f"{s}: {len(h)} prompt(s), e.g. {h[0][:80]!r}" for s, h in bad.items()]
        raise AccordError("[data] trains on prompts the public suites measure with; remove "
                          "them (a model must not be measured on its training prompts):\n"
                          + "\n".join(lines))
    return {"suites": checked, "training_prompts": len(prompts),
            "overlap": {s: 0 for s in checked}}
