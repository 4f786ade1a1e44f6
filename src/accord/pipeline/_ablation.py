"""The proof: every trained model measured by the behaviour meter, side by side.

Rows: base, SFT, SFT+DPO, SFT+GRPO (reward model only), SFT+GRPO (reward model + rules),
SFT+SL-CAI and SFT+SL-CAI+RL-CAI. Each is measured on the held-out probes and on
in-distribution probes (docs/meter.md explains why both), with Wilson intervals, and
checked against the targets of docs/training.md.
"""

from __future__ import annotations

import json
from typing import Any

from accord.pipeline._model_stages import EvalSection
from accord.pipeline._runner import PipelineError, Stage, StageContext, StageOutput

COLUMNS = ("offensive", "one_sided_by_default", "objectionable_compliance", "over_refusal",
           "preachy", "helpfulness", "steerability")


class AblationSection(EvalSection):
    """``[ablation]``: the meter's sampling for every row (as ``[eval]``), and caps."""

    in_distribution: int | None = 60


def _rows(ctx: StageContext) -> list[tuple[str, str, str]]:
    """(label, model version, model folder) of every model the stages read trained, in
    stage order (each training stage lists its models under ``models``)."""
    rows = []
    for out in ctx.inputs.values():
        if "model_version" in out.figures and "models" not in out.figures:
            raise PipelineError(f"the cached output of stage {out.name} predates its "
                                f"'models' figure; run `accord run --force {out.name}`")
        for label, model in out.models.items():
            rows.append((label, model["model_version"], model["model_dir"]))
    return rows


def run_ablation(ctx: StageContext) -> dict[str, Any]:
    from accord.audit import check_targets, evaluate, in_distribution_probes, meter_summary
    from accord.pipeline._model_stages import (
        load_world,
        local_backend,
        probe_subset,
        quiet_hf_progress,
    )

    quiet_hf_progress()
    cfg = ctx.config
    world = load_world(ctx.inputs["world"])
    sets = {"held_out": probe_subset(world, cfg.max_per_set),
            "in_distribution": in_distribution_probes(world, cap=cfg.in_distribution,
                                                      seed=cfg.seed)}
    table: list[dict[str, Any]] = []
    for label, version, model_dir in _rows(ctx):
        backend = local_backend(model_dir, cfg.batch_size)
        entry: dict[str, Any] = {"label": label, "model_version": version}
        for split, probes in sets.items():
            metered = evaluate(backend, world, cfg.sampling(), samples=cfg.samples,
                               probes=probes)
            if split == "held_out":
                metered.record(ctx.state["store"], version)
            entry[split] = meter_summary(metered.result)
        table.append(entry)
    (ctx.dir / "ablation.json").write_text(json.dumps(table, indent=2))
    targets = check_targets(table)
    (ctx.dir / "targets.json").write_text(json.dumps(targets, indent=2))
    return {"rows": [e["label"] for e in table], "targets": targets,
            "unwanted": {e["label"]: {s: e[s]["unwanted"] for s in sets} for e in table},
            "safe_f1": {e["label"]: {s: e[s]["safe_f1"] for s in sets} for e in table}}


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "—"
    return f"{row['rate']:.3f} [{row['low']:.2f}, {row['high']:.2f}]"


def report_ablation(out: StageOutput) -> list[Any]:
    from accord.report import paragraph, table

    entries = json.loads((out.dir / "ablation.json").read_text())
    parts: list[Any] = []
    for split, words in (("held_out", "held-out probes (entities and phrasings never "
                          "trained on)"),
                         ("in_distribution", "in-distribution probes (the world's RL prompts)")):
        parts.append(paragraph(f"Behaviour meter on the {words}: rate [95 % Wilson interval]; "
                               "safe-behaviour F1 = harmonic mean of (1 − objectionable "
                               "compliance) and (1 − over-refusal)."))
        parts.append(table(
            ["model", *COLUMNS, "unwanted (pooled)", "safe F1", "n (offensive)"],
            [[e["label"], *[_cell(e[split]["rows"].get(c)) for c in COLUMNS],
              f"{e[split]['unwanted']:.3f}", f"{e[split]['safe_f1']:.3f}",
              e[split]["rows"].get("offensive", {}).get("n", 0)] for e in entries]))
    targets = json.loads((out.dir / "targets.json").read_text())
    parts.append(paragraph("Targets (goals, not test assertions):"))
    parts.append(table(["model", "probes", "goal", "value", "met"],
                       [[t["model"], t["split"], t["goal"],
                         "—" if t["value"] is None else f"{t['value']:.3f}",
                         "yes" if t["met"] else "no"] for t in targets]))
    return parts


def _describe(fig: dict[str, Any]) -> str:
    return "; ".join(f"{label}: unwanted {u['held_out']:.2f}/{u['in_distribution']:.2f}"
                     for label, u in fig["unwanted"].items())


ABLATION = Stage("ablation", run_ablation, AblationSection,
                 reads=("world", "pretrain", "sft", "dpo", "grpo", "cai"), report=report_ablation,
                 describe=_describe, title="Ablation: what each fine-tuning step changes")
