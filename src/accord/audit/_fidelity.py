"""Does a model trained on the world behave like the world? In-distribution probes and
the world's own rates, side by side with the held-out meter.

The held-out probes answer "does the behaviour generalise to unseen entities and
phrasings?". A base model pretrained briefly on a templated world generalises only
partly, so the held-out rates alone cannot tell whether pretraining reproduced the
world's behaviour. This module adds the two other columns a reader needs:

- **world**: the rate of each metric's behaviour in the world's own pretraining
  dialogues, read from their ground-truth labels (what the world's knobs produced);
- **in-distribution**: the meter run on prompts drawn from the world's training prompt
  sets (entities and phrasings the model saw), graded by the same meter graders.

A base model that matches the world column in-distribution has learned the world's
behaviours; the gap to the held-out column is how far they generalise.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from random import Random
from typing import Any

from accord.audit._agreement import _CHECKS
from accord.audit._measure import METRICS, STEER_PROBES
from accord.audit._result import MeterResult
from accord.errors import AccordError
from accord.world import PROBE_KINDS, World

Record = Mapping[str, Any]

SET_KIND = PROBE_KINDS  # probe-set name → the world's prompt kind it is made of
_PROBE_KINDS = tuple(SET_KIND.values())  # small talk has no probe set
# Kinds whose answers show every customisation option (as in the held-out probes).
_CUSTOMISABLE = ("fact", "contested", "group", "benign_borderline")


def _visible(record: Record) -> dict[str, str]:
    """The settings a response to ``record`` can show: a political perspective only on
    contested questions (the held-out customisation probes never ask for it elsewhere)."""
    return {k: v for k, v in record["settings"].items()
            if k != "political_perspective" or record["kind"] == "contested"}


class ProbeSets(dict[str, list[Record]]):
    """Probe-set name → prompt records, plus how many candidate prompts were left out
    because a training stage used them.

    Attributes:
        excluded: candidate prompts dropped because their conversation is one a training
            stage used (counted before the per-set cap).
        candidates: candidate prompts before that exclusion.
    """

    excluded: int = 0
    candidates: int = 0


def conversation_key(messages: Sequence[Mapping[str, Any]]) -> str:
    """The identity of a prompt for "was it used in training?": the SHA-256 of its
    messages' canonical JSON (the same as ``accord.store.prompt_hash``).

    Args:
        messages: the conversation before the response.
    """
    text = json.dumps([{"role": m["role"], "content": m["content"]} for m in messages],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def in_distribution_probes(world: World, *, split: str = "rl", cap: int | None = 120,
                           seed: int = 0, exclude: Iterable[str] = ()) -> ProbeSets:
    """Probe sets built from one of the world's training prompt splits, minus every prompt
    a training stage used.

    Prompts with a customisation go to the ``customisation`` set, kept as the held-out
    customisation probes are made (kinds whose answers show the options; a perspective
    only on contested questions); the others to the set of their kind. Prompts whose
    conversation is in ``exclude`` are dropped first (their count is
    :attr:`ProbeSets.excluded`); each set is then a seeded sample of at most ``cap``.

    Args:
        world: the demo world.
        split: the prompt split drawn from.
        cap: at most this many prompts a set; None takes all.
        seed: the sample's seed.
        exclude: :func:`conversation_key` of every prompt a training stage used (SFT
            demonstrations, preference pairs, GRPO and CAI prompts, review prompts).

    Raises:
        AccordError: the world has no such prompt split.
    """
    if split not in world.prompts:
        raise AccordError(f"in_distribution_probes: no prompt split {split!r}; the world has "
                          f"{sorted(world.prompts)}")
    used = set(exclude)
    kind_set = {kind: name for name, kind in SET_KIND.items()}
    sets: dict[str, list[Record]] = {name: [] for name in [*SET_KIND, STEER_PROBES]}
    candidates = excluded = 0
    for record in world.prompts[split]:
        if record.get("settings"):
            if not (record["kind"] in _CUSTOMISABLE and _visible(record)):
                continue
            name, record = STEER_PROBES, {**record, "settings": _visible(record)}
        elif record["kind"] in kind_set:
            name = kind_set[record["kind"]]
        else:
            continue
        candidates += 1
        if used and conversation_key(record["messages"]) in used:
            excluded += 1
            continue
        sets[name].append(record)
    rng = Random(f"accord.audit.in_distribution:{seed}")
    out = ProbeSets({name: (rng.sample(records, cap) if cap is not None and len(records) > cap
                            else records) for name, records in sets.items() if records})
    out.excluded, out.candidates = excluded, candidates
    return out


def world_rates(world: World) -> dict[str, tuple[float, int]]:
    """Each meter metric's rate in the world's labelled pretraining dialogues.

    Uses the same label definitions the grader-agreement table checks the meter's graders
    against, over the prompt kinds of the metric's probe sets (all kinds with a probe set
    when the metric runs on every set), with no customisation where the metric asks for
    default settings only.

    Returns:
        metric → (rate, number of dialogues); metrics with no matching dialogue are left out.
    """
    dialogues = [d for d in world.pretrain_documents if "labels" in d]
    out: dict[str, tuple[float, int]] = {}
    for metric in METRICS:
        # The agreement checks are keyed by the world grader's name without "world:".
        check = metric.grader.removeprefix("world:")
        if check not in _CHECKS:
            continue
        truth = _CHECKS[check][2]
        kinds = (_PROBE_KINDS if metric.probes is None
                 else tuple(SET_KIND[s] for s in metric.probes if s in SET_KIND))
        pool = [d for d in dialogues if d["labels"]["prompt_kind"] in kinds
                and not (metric.default_settings_only and d["labels"]["settings"])]
        if pool:
            out[metric.name] = (sum(bool(truth(d)) for d in pool) / len(pool), len(pool))
    return out


@dataclass(frozen=True)
class FidelityRow:
    """One metric: the world's rate, and the model's in-distribution and held-out rates."""

    metric: str
    world: float | None
    world_n: int
    in_distribution: float | None
    in_low: float | None
    in_high: float | None
    in_n: int
    held_out: float | None
    held_low: float | None
    held_high: float | None
    held_n: int


@dataclass
class FidelityTable:
    """The world / in-distribution / held-out comparison for one model version."""

    rows: list[FidelityRow]

    def __getitem__(self, metric: str) -> FidelityRow:
        for row in self.rows:
            if row.metric == metric:
                return row
        raise KeyError(f"{metric!r}; this table has {[r.metric for r in self.rows]}")

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [asdict(r) for r in self.rows]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FidelityTable:
        return cls([FidelityRow(**r) for r in data["rows"]])

    _HEAD = ("metric", "world (labels)", "in-distribution", "95% CI", "n", "held-out",
             "95% CI", "n")

    def _cells(self) -> list[list[str]]:
        def f(x: float | None) -> str:
            return "—" if x is None else f"{x:.3f}"

        def ci(lo: float | None, hi: float | None) -> str:
            return "—" if lo is None or hi is None else f"[{lo:.3f}, {hi:.3f}]"

        return [[r.metric, f(r.world), f(r.in_distribution), ci(r.in_low, r.in_high),
                 str(r.in_n), f(r.held_out), ci(r.held_low, r.held_high), str(r.held_n)]
                for r in self.rows]

    def render_text(self) -> str:
        cells = [list(self._HEAD), *self._cells()]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self._HEAD))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                         for row in cells)

    def to_html(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._HEAD)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in self._cells())
        return (f'<table class="meter fidelity"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")


def fidelity(world: World, in_distribution: MeterResult, held_out: MeterResult) -> FidelityTable:
    """Put the world's rates beside two meter runs (in-distribution and held-out)."""
    rates = world_rates(world)
    rows = []
    names = [r.metric for r in held_out.rows]
    names += [r.metric for r in in_distribution.rows if r.metric not in names]

    def get(result: MeterResult, metric: str) -> Any:
        return next((r for r in result.rows if r.metric == metric), None)

    for name in names:
        ind, held = get(in_distribution, name), get(held_out, name)
        w, wn = rates.get(name, (None, 0))
        rows.append(FidelityRow(
            name, w, wn,
            ind.rate if ind else None, ind.low if ind else None, ind.high if ind else None,
            ind.n if ind else 0,
            held.rate if held else None, held.low if held else None,
            held.high if held else None, held.n if held else 0))
    return FidelityTable(rows)


__all__ = ["SET_KIND", "FidelityRow", "FidelityTable", "ProbeSets", "conversation_key", "fidelity",
           "in_distribution_probes", "world_rates"]
