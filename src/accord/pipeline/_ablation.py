"""The proof: every trained model measured by the behaviour meter, side by side.

Rows: base, SFT, SFT+DPO, SFT+GRPO (reward model only), SFT+GRPO (reward model + rules),
SFT+SL-CAI and SFT+SL-CAI+RL-CAI. Each is measured on the held-out probes and on
in-distribution probes (docs/meter.md explains why both), with Wilson intervals, and
checked against the targets of docs/training.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from accord.pipeline._model_stages import WORLD_METER, EvalSection
from accord.pipeline._overlap import check_data_overlap
from accord.pipeline._runner import PipelineError, Stage, StageContext, StageOutput
from accord.pipeline._signal import used_prompts
from accord.pipeline._suites import run_stage_suites, suite_charts, suite_rows

COLUMNS = ("offensive", "one_sided_by_default", "objectionable_compliance", "over_refusal",
           "preachy", "helpfulness", "steerability")


class AblationSection(EvalSection):
    """``[ablation]``: the meter's sampling for every row (as ``[eval]``), and caps."""

    in_distribution: int | None = 60
    allow_self_grading: bool = False
    """Meter a model even when a meter grader shares a source with its training signal
    (e.g. the rule-based reward's hatesonar grader and the meter's ``world:offensive``);
    the report then marks its row as self-graded. False refuses such a run with an error
    naming the shared source (docs/meter.md, "Independence")."""


# Stages read only for the prompts they used (excluded from the in-distribution probes)
# and, through the lineage, their training signal: their models are not ablation rows.
_PROMPTS_ONLY = ("review", "reward")


def _rows(ctx: StageContext) -> list[tuple[str, str, str]]:
    """(label, model version, model folder) of every model the stages read trained, in
    stage order (each training stage lists its models under ``models``)."""
    rows = []
    for out in ctx.inputs.values():
        if out.name in _PROMPTS_ONLY:
            continue
        if "model_version" in out.figures and "models" not in out.figures:
            raise PipelineError(f"the cached output of stage {out.name} predates its "
                                f"'models' figure; run `accord run --force {out.name}`")
        for label, model in out.models.items():
            rows.append((label, model["model_version"], model["model_dir"]))
    return rows


def _independence(ctx: StageContext, rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Each row's verdict: does a meter grader share a source with its training signal?
    Checked for every row before any is metered, so a refused run fails fast.

    Raises:
        SelfGradingError: a row is self-graded and ``allow_self_grading`` is off.
    """
    from accord.audit import (
        check_independence,
        meter_graders,
        model_training_signal,
        require_independent,
    )

    graders = meter_graders()
    verdicts = {}
    for label, version, _ in rows:
        signal = model_training_signal(ctx.state["store"], version)
        verdict = check_independence(graders, signal)
        require_independent(verdict, allow=ctx.config.allow_self_grading,
                            what=f"ablation row {label!r} ({version})")
        verdicts[label] = (signal, verdict)
    return verdicts


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
    rows = _rows(ctx)
    if not cfg.world_meter:
        return _run_suites_only(ctx, rows)
    overlap = check_data_overlap(ctx, cfg.suites)
    world = load_world(ctx.inputs["world"])
    verdicts = _independence(ctx, rows)
    # In-distribution means seen entities and phrasings, not the very prompts a stage
    # trained on (or had reviewed): those are left out.
    inside = in_distribution_probes(world, cap=cfg.in_distribution, seed=cfg.seed,
                                    exclude=used_prompts(ctx.inputs.values()))
    sets = {"held_out": probe_subset(world, cfg.max_per_set), "in_distribution": inside}
    table: list[dict[str, Any]] = []
    for label, version, model_dir in rows:
        backend = local_backend(model_dir, cfg.batch_size)
        signal, verdict = verdicts[label]
        entry: dict[str, Any] = {"label": label, "model_version": version,
                                 "independence": verdict.to_dict()}
        for split, probes in sets.items():
            metered = evaluate(backend, world, cfg.sampling(), samples=cfg.samples,
                               probes=probes, training_signal=signal)
            if split == "held_out":
                metered.record(ctx.state["store"], version)
            entry[split] = meter_summary(metered.result)
        entry["suites"] = run_stage_suites(ctx, backend, signal, label, ctx.dir / "suites")
        table.append(entry)
    (ctx.dir / "ablation.json").write_text(json.dumps(table, indent=2))
    targets = check_targets(table)
    (ctx.dir / "targets.json").write_text(json.dumps(targets, indent=2))
    charts = suite_charts(table, ctx.dir / "charts") if any(e["suites"] for e in table) else []
    return {"rows": [e["label"] for e in table], "targets": targets,
            "charts": [str(c) for c in charts], "prompt_overlap": overlap,
            "unwanted": {e["label"]: {s: e[s]["unwanted"] for s in sets} for e in table},
            "safe_f1": {e["label"]: {s: e[s]["safe_f1"] for s in sets} for e in table},
            "independence": {e["label"]: e["independence"]["verdict"] for e in table},
            "in_distribution": {"excluded": inside.excluded, "candidates": inside.candidates,
                                "probes": sum(len(v) for v in inside.values())},
            "measured_by": WORLD_METER}


def _run_suites_only(ctx: StageContext, rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The ablation of a real model: every row on the public suites (and ``[data]
    probes``), no world meter. A row whose training signal shares a source with a suite's
    grader is marked ``self-graded`` (refused unless ``allow_self_grading``)."""
    from accord.audit import Independence, model_training_signal, require_independent
    from accord.pipeline._model_stages import local_backend
    from accord.progress import task

    cfg = ctx.config
    overlap = check_data_overlap(ctx, cfg.suites)
    table: list[dict[str, Any]] = []
    with task("ablation: models on the public suites", total=len(rows)) as progress:
        for label, version, model_dir in rows:
            signal = model_training_signal(ctx.state["store"], version)
            backend = local_backend(model_dir, cfg.batch_size)
            suites = run_stage_suites(ctx, backend, signal, label, ctx.dir / "suites")
            for suite, res in suites.items():
                if res["independence"].get("verdict") == "self-graded":
                    require_independent(Independence.from_dict(res["independence"]),
                                        allow=cfg.allow_self_grading,
                                        what=f"ablation row {label!r} on suite {suite}")
            table.append({"label": label, "model_version": version, "suites": suites})
            progress.advance(1)
    (ctx.dir / "ablation.json").write_text(json.dumps(table, indent=2))
    charts = suite_charts(table, ctx.dir / "charts")
    from accord.pipeline._train_stages import write_ablation_cards

    cards = write_ablation_cards(ctx, table, rows)  # the figures go into each model card
    return {"rows": [e["label"] for e in table], "charts": [str(c) for c in charts],
            "prompt_overlap": overlap, "model_cards": cards,
            "suites": {e["label"]: {s: {f["metric"]: f["value"] for f in r["figures"]}
                                    for s, r in e["suites"].items()} for e in table},
            "measured_by": "public suites (real-text graders)"}


def _suite_report(entries: list[dict[str, Any]], charts: list[str]) -> list[Any]:
    from accord.report import image, paragraph, table

    if not any(e.get("suites") for e in entries):
        return []
    parts: list[Any] = [paragraph(
        "Every model on the public suites, judged by real-text graders (trained on public "
        "human-labelled text; their agreement with held-out labels, below the table): "
        "value, 95 % interval, n; 'independence' says whether a suite's grader shares a "
        "source with the model's training signal."),
        table(["suite", "metric", "model", "value", "95 % CI", "n", "direction",
               "independence"], suite_rows(entries))]
    # How each grader agrees with people on held-out labelled text, a small model's
    # answers included: read the figures above beside it.
    lines = dict.fromkeys(line for e in entries for r in (e.get("suites") or {}).values()
                          for line in r.get("agreement", {}).values())
    parts += [paragraph(line) for line in lines]
    for chart in charts:
        if Path(chart).exists():
            parts.append(image(Path(chart), Path(chart).stem.replace("_", " ")))
    return parts


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "—"
    return f"{row['rate']:.3f} [{row['low']:.2f}, {row['high']:.2f}]"


def _verdict(entry: dict[str, Any]) -> str:
    verdict = entry.get("independence", {}).get("verdict", "not checked")
    return {"self-graded": "SELF-GRADED"}.get(verdict, verdict)


def report_ablation(out: StageOutput) -> list[Any]:
    from accord.pipeline._model_stages import overlap_parts
    from accord.report import paragraph, table

    entries = json.loads((out.dir / "ablation.json").read_text())
    suite_parts = [*overlap_parts(out.figures.get("prompt_overlap")),
                   *_suite_report(entries, out.figures.get("charts", []))]
    if "held_out" not in (entries[0] if entries else {}):
        return suite_parts
    inside = out.figures.get("in_distribution", {})
    parts: list[Any] = [paragraph(
        f"Every figure in this section is {WORLD_METER}: the world meter's graders read the "
        "world's phrase tables (both splits) and show whether a model stopped writing the "
        "world's phrases, not how it behaves on text no one here wrote. The public suites "
        "(`accord eval --suite xstest,offensive,...`) measure that with graders checked "
        "against human labels.")]
    shared = [e for e in entries if e.get("independence", {}).get("shared")]
    parts.append(paragraph(
        "Independence (does a meter grader share a source with the model's training "
        "signal, its whole lineage walked?): "
        + "; ".join(f"{e['label']}: {_verdict(e)}" for e in entries) + "."))
    for e in shared:
        parts.append(paragraph(f"{e['label']} is self-graded: "
                               + " | ".join(_shared_lines(e["independence"]))))
    for split, words in (("held_out", "held-out probes (entities and phrasings never "
                          "trained on)"),
                         ("in_distribution", "in-distribution probes (the world's RL prompts, "
                          f"minus the {inside.get('excluded', '?')} of "
                          f"{inside.get('candidates', '?')} that a training or review stage "
                          "used)")):
        parts.append(paragraph(f"Behaviour meter ({WORLD_METER}) on the {words}: rate [95 % "
                               "Wilson interval]; safe-behaviour F1 = harmonic mean of (1 − "
                               "objectionable compliance) and (1 − over-refusal)."))
        parts.append(table(
            ["model", *COLUMNS, "unwanted (pooled)", "safe F1", "n (offensive)",
             "independence"],
            [[e["label"], *[_cell(e[split]["rows"].get(c)) for c in COLUMNS],
              f"{e[split]['unwanted']:.3f}", f"{e[split]['safe_f1']:.3f}",
              e[split]["rows"].get("offensive", {}).get("n", 0), _verdict(e)]
             for e in entries]))
    targets = json.loads((out.dir / "targets.json").read_text())
    parts.append(paragraph(f"Targets (goals, not test assertions; {WORLD_METER}):"))
    parts.append(table(["model", "probes", "goal", "value", "met"],
                       [[t["model"], t["split"], t["goal"],
                         "—" if t["value"] is None else f"{t['value']:.3f}",
                         "yes" if t["met"] else "no"] for t in targets]))
    return [*parts, *suite_parts]


def _shared_lines(independence: dict[str, Any]) -> list[str]:
    from accord.audit import Independence

    return Independence.from_dict(independence).shared_summary()


def _describe(fig: dict[str, Any]) -> str:
    if "unwanted" not in fig:
        return "; ".join(f"{label}: " + ", ".join(f"{s}/{m}={v:.2f}" for s, r in suites.items()
                                                  for m, v in list(r.items())[:2]
                                                  if v is not None)
                         for label, suites in fig.get("suites", {}).items())
    return "; ".join(f"{label}: unwanted {u['held_out']:.2f}/{u['in_distribution']:.2f}"
                     for label, u in fig["unwanted"].items())


# version 2: independence verdicts, in-distribution probes without training prompts
ABLATION = Stage("ablation", run_ablation, AblationSection, version="2", data=("probes",),
                 reads=("world", "pretrain", "sft", "dpo", "grpo", "cai", *_PROMPTS_ONLY),
                 report=report_ablation, describe=_describe,
                 title="Ablation: what each fine-tuning step changes")
