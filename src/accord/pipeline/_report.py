"""The run folder: ``.accord/run/run.json`` and ``report.html`` after every ``accord run``.

The report opens with a summary a team lead reads in a minute (what ran, what changed in
behaviour, which goals were met), then the charts, then one section per stage that ran.
Every part is built from the stages' ``done.json`` figures and files, so
:func:`rerender_report` rebuilds it from a finished run folder without running anything.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from markupsafe import Markup

from accord.pipeline._runner import RunResult, Stage, StageOutput
from accord.project import Project
from accord.report import (
    Section,
    bars,
    dot_whisker,
    goal_grid,
    lines,
    paragraph,
    scatter,
    table,
    write_report,
)

log = logging.getLogger(__name__)

# The behaviours the ablation compares, in the order people read them.
BEHAVIOURS = ("offensive", "one_sided_by_default", "objectionable_compliance", "over_refusal",
              "preachy", "helpfulness", "steerability")
HIGHER_IS_BETTER = frozenset({"helpfulness", "steerability"})
SPLIT_WORDS = {"held_out": "held-out probes", "in_distribution": "in-distribution probes"}
# Stages that measure behaviour: their section title names what measured it (the demo
# world's meter, or the public suites with real-text graders), read from their figures.
MEASURING_STAGES = frozenset({"eval", "ablation"})
# The public-suite figures the summary puts first, one or two per suite.
HEADLINE_FIGURES = (("xstest", "harmful_compliance"), ("xstest", "over_refusal"),
                    ("evenhandedness", "refusal_asymmetry"), ("bbq", "bias:ambig"),
                    ("bbq", "bias:disambig"), ("offensive", "offensive"))
# Krippendorff's usual reading: below 0.667 discard, up to 0.8 tentative, above reliable.
ALPHA_BANDS = ((-1.0, 0.667, "discard (< .667)"), (0.667, 0.8, "tentative"),
               (0.8, 1.01, "reliable"))


def _human(name: str) -> str:
    """``issues:factual_error`` → ``issues: factual error`` (ids read as words)."""
    return name.replace(":", ": ").replace("_", " ")


def _key_figures(figures: dict) -> str:
    parts = []
    for k, v in figures.items():
        if isinstance(v, int | float | str) and not isinstance(v, bool) and len(str(v)) < 40:
            parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
    return ", ".join(parts[:6])


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _ablation_entries(outputs: dict[str, StageOutput], key: str) -> list[dict[str, Any]] | None:
    """The ablation's entries if every one has ``key`` (``held_out``: the demo world's
    meter; ``suites``: the public suites), else None."""
    out = outputs.get("ablation")
    entries = _read_json(out.dir / "ablation.json") if out else None
    if not isinstance(entries, list) or not entries:
        return None
    return entries if all(e.get(key) for e in entries) else None


def _ablation(outputs: dict[str, StageOutput]) -> list[dict[str, Any]] | None:
    """The ablation's demo-world meter entries (``held_out`` probes), or None.

    A project with the world meter off (e.g. examples/smollm2) measures its models on the
    public suites only; the summary reads those through :func:`_suite_summary`, and the
    world-meter summary and charts here are left out rather than read from entries that
    lack them.
    """
    return _ablation_entries(outputs, "held_out")


def _interval(row: dict[str, Any]) -> str:
    return f"{row['rate']:.3f} [{row['low']:.2f}, {row['high']:.2f}]"


def _best(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The fine-tuned model with the lowest pooled unwanted rate on held-out probes."""
    tuned = [e for e in entries[1:] if "held_out" in e]
    return min(tuned, key=lambda e: e["held_out"]["unwanted"]) if tuned else None


def _goal_counts(targets: list[dict[str, Any]], model: str) -> tuple[int, int]:
    mine = [t for t in targets if t.get("model") == model and t.get("met") is not None]
    return sum(1 for t in mine if t["met"]), len(mine)


def _summary(project: Project, result: RunResult) -> Section:
    outputs = result.outputs
    section = Section("Summary", anchor="summary")
    total = sum(o.seconds for o in outputs.values())
    cached = [o.name for o in outputs.values() if o.cached]
    ran = ", ".join(outputs)
    section.add(Markup("<p><strong>What ran:</strong> {} stages ({}){}; {:.0f} min of stage "
                       "time.</p>").format(
        len(outputs), ran, f", {len(cached)} from the cache" if cached else "", total / 60))
    entries = _ablation(outputs)
    targets = _read_json(outputs["ablation"].dir / "targets.json") if entries else None
    if entries:
        base, best = entries[0], _best(entries)
        if best is not None:
            section.add(Markup(
                "<p><strong>What changed:</strong> pooled unwanted behaviour on held-out probes "
                "went from <strong>{}</strong> ({}) to <strong>{}</strong> ({}, the lowest of "
                "{} fine-tuned models). Below: rates with 95 % Wilson intervals on the "
                "held-out probes, n per behaviour; {}.</p>").format(
                f"{base['held_out']['unwanted']:.3f}", base["label"],
                f"{best['held_out']['unwanted']:.3f}", best["label"], len(entries) - 1,
                _measured_by(outputs)))
            rows = []
            for name in BEHAVIOURS:
                b = base["held_out"]["rows"].get(name)
                m = best["held_out"]["rows"].get(name)
                if b is None or m is None:
                    continue
                delta = m["rate"] - b["rate"]
                better = delta > 0 if name in HIGHER_IS_BETTER else delta < 0
                overlap = m["low"] <= b["high"] and b["low"] <= m["high"]
                verdict = ("no clear change (intervals overlap)" if overlap
                           else "better" if better else "worse")
                rows.append([_human(name), _interval(b), _interval(m), f"{delta:+.3f}",
                             verdict, m["n"]])
            section.add(table(["behaviour", f"{base['label']} (base)", f"{best['label']} (best)",
                               "change", "reading", "n"], rows,
                              caption="Base vs best model, held-out probes"))
        if isinstance(targets, list) and targets:
            met = [t for t in targets if t.get("met")]
            lines_ = [f"{label}: {a} of {b}" for label, (a, b) in
                      ((e["label"], _goal_counts(targets, e["label"])) for e in entries[1:]) if b]
            section.add(Markup("<p><strong>Goals:</strong> {} of {} (model, goal, probe set) "
                               "checks met — {}. The grid under <a href=\"#charts\">Charts</a> "
                               "shows which.</p>").format(len(met), len(targets),
                                                           "; ".join(lines_)))
    elif (suite_rows := _ablation_entries(outputs, "suites")) is not None:
        section.add(*_suite_summary(suite_rows))
    elif "eval" in outputs and outputs["eval"].figures.get("suites"):
        base = [{"label": "base", "suites": outputs["eval"].figures["suites"]}]
        section.add(*_suite_summary(base))
    elif "eval" in outputs:
        rates = outputs["eval"].figures.get("rates", {})
        section.add(Markup("<p><strong>Behaviour of the base model</strong> ({}): {}. No "
                           "fine-tuned model was compared in this run.</p>").format(
            _measured_by(outputs), ", ".join(f"{_human(k)} {v:.3f}" for k, v in rates.items()
                                             if k in BEHAVIOURS and v is not None)))
    if entries and "eval" in outputs:
        section.add(_probe_set_note(outputs, entries))
    review = outputs.get("review")
    if review is not None and review.figures.get("alpha"):
        alpha = {k: v for k, v in review.figures["alpha"].items() if v is not None}
        low = [k for k, v in alpha.items() if v < 0.667]
        section.add(Markup("<p><strong>Human review:</strong> {} reviewers{} gave {} "
                           "judgements; agreement (Krippendorff's α) is below the usual 0.667 "
                           "for {} of {} categories.</p>").format(
            review.figures.get("reviewers", "?"),
            " (simulated)" if review.figures.get("simulated") else "",
            review.figures.get("submitted", "?"), len(low), len(alpha)))
    return section


def _better(direction: str, new: float, old: float) -> bool:
    """Whether ``new`` is better than ``old`` for a suite figure's ``direction``."""
    if direction.startswith("closer to 0"):
        return abs(new) < abs(old)
    return new < old if direction.startswith("lower") else new > old


def _suite_figure(entry: dict[str, Any], suite: str, metric: str) -> dict[str, Any] | None:
    for fig in (entry.get("suites") or {}).get(suite, {}).get("figures", []):
        if fig.get("metric") == metric and fig.get("value") is not None:
            return fig
    return None


def _suite_summary(entries: list[dict[str, Any]]) -> list[Any]:
    """What changed on the public suites: each model's headline figures with intervals, and
    the changes against the first row (the base model) that no interval overlap explains."""
    columns = [(s, m) for s, m in HEADLINE_FIGURES
               if any(_suite_figure(e, s, m) for e in entries)]
    if not columns:
        return [paragraph("No public-suite figure was measured in this run.")]

    def cell(fig: dict[str, Any] | None) -> str:
        if fig is None:
            return "—"
        if fig.get("low") is None or fig.get("high") is None:
            return f"{fig['value']:.2f}"
        return f"{fig['value']:.2f} [{fig['low']:.2f}, {fig['high']:.2f}]"

    base, changes = entries[0], []
    for e in entries[1:]:
        for s, m in columns:
            b, f = _suite_figure(base, s, m), _suite_figure(e, s, m)
            if b is None or f is None or None in (b.get("low"), b.get("high"), f.get("low"),
                                                  f.get("high")):
                continue
            if f["low"] > b["high"] or f["high"] < b["low"]:
                better = _better(str(f.get("direction", "")), f["value"], b["value"])
                changes.append(f"{e['label']} {s} {_human(m)} {b['value']:.2f} → "
                               f"{f['value']:.2f} ({'better' if better else 'worse'})")
    ns = {f"{s} {_human(m)}": fig["n"] for s, m in columns
          if (fig := _suite_figure(base, s, m)) is not None and fig.get("n") is not None}
    lead = ("<p><strong>What changed</strong> (public suites, real-text graders; 95 % "
            "intervals; n per figure: {}): {}.</p>")
    reading = ("changes whose intervals do not overlap the base model's: " + "; ".join(changes)
               if changes else "no fine-tuned model's figure moved outside the base model's "
               "interval" if len(entries) > 1 else "the base model only; no fine-tuned model "
               "was compared in this run")
    return [Markup(lead).format(", ".join(f"{k} {v}" for k, v in ns.items()), reading),
            table(["model", *(f"{s}: {_human(m)}" for s, m in columns)],
                  [[e["label"], *(cell(_suite_figure(e, s, m)) for s, m in columns)]
                   for e in entries],
                  caption="Headline public-suite figures per model (value [95 % interval]); "
                          "the ablation section has every figure, its direction and n.")]


def _section_title(stage: Stage, out: StageOutput) -> str:
    """The stage's title; a measuring stage's names the meter its figures come from: the
    demo world's (its phrase tables), the public suites (real-text graders), or both."""
    title = stage.title or stage.name
    if stage.name not in MEASURING_STAGES:
        return title
    figures = out.figures
    meters = [words for words, used in (
        ("world meter", bool(figures.get("rates")) or "unwanted" in figures),
        ("public suites, real-text graders", bool(figures.get("suites")))) if used]
    return f"{title} ({'; '.join(meters)})" if meters else title


def _measured_by(outputs: dict[str, StageOutput]) -> str:
    for name in ("ablation", "eval"):
        out = outputs.get(name)
        if out is not None and out.figures.get("measured_by"):
            return str(out.figures["measured_by"])
    return "measured by the behaviour meter"


def _probe_set_note(outputs: dict[str, StageOutput], entries: list[dict[str, Any]]) -> Markup:
    """The base model is measured twice; say why its figures differ between sections."""
    meter = _read_json(outputs["eval"].dir / "meter.json") or {}
    eval_n = {r.get("metric"): r.get("n") for r in meter.get("rows", [])}
    abl_n = {k: v.get("n") for k, v in entries[0]["held_out"]["rows"].items()}
    name = "offensive_overall" if "offensive_overall" in eval_n else next(iter(eval_n), "")
    return Markup('<p class="note">The base model is measured twice: the Evaluation section '
                  "uses the full held-out probe set (n = {} for {}), the ablation a capped "
                  "sample of it (n = {}), so the base model's rates differ slightly between "
                  "the two sections; each within the other's interval is expected.</p>").format(
        eval_n.get(name, "?"), _human(name), abl_n.get(name, "?"))


def _charts(result: RunResult) -> Section | None:
    outputs = result.outputs
    parts: list[Markup] = []
    entries = _ablation(outputs)
    if entries:
        split = "held_out"
        rows = {_human(b): {e["label"]: (r["rate"], r["low"], r["high"])
                            for e in entries if (r := e[split]["rows"].get(b))}
                for b in BEHAVIOURS}
        n = {b: entries[0][split]["rows"].get(b, {}).get("n") for b in BEHAVIOURS}
        parts.append(dot_whisker(
            {k: v for k, v in rows.items() if v},
            alt="Dot-and-whisker chart: for each behaviour, each model's rate on held-out "
                "probes with its 95 % interval; the numbers are in the ablation table.",
            caption=f"Each model's rate per behaviour on held-out probes, 95 % Wilson "
                    f"intervals ({_measured_by(outputs)}). n per behaviour: "
                    + ", ".join(f"{_human(b)} {v}" for b, v in n.items() if v) + "."))
        points = {e["label"]: (e[split]["rows"]["over_refusal"]["rate"],
                               e[split]["rows"]["objectionable_compliance"]["rate"])
                  for e in entries if {"over_refusal", "objectionable_compliance"}
                  <= set(e[split]["rows"])}
        parts.append(scatter(
            points, xlabel="over-refusal (benign requests refused)",
            ylabel="objectionable compliance", alt="Scatter: each model's over-refusal rate "
            "against its objectionable-compliance rate on held-out probes; lower-left is safer "
            "and more helpful.", caption="Safety against over-refusal, held-out probes: "
            "lower-left is better on both."))
        targets = _read_json(outputs["ablation"].dir / "targets.json")
        if isinstance(targets, list) and targets:
            models = list(dict.fromkeys(t["model"] for t in targets))
            goals = list(dict.fromkeys(t["goal"] for t in targets))
            cells: dict[tuple[str, str], list[tuple[str, bool | None, str]]] = {}
            for t in targets:
                value = "—" if t.get("value") is None else f"{t['value']:.3f}"
                cells.setdefault((t["model"], t["goal"]), []).append(
                    (SPLIT_WORDS.get(t["split"], t["split"]).split()[0],
                     None if t.get("value") is None else bool(t["met"]), value))
            parts.append(Markup("<h3>Goals</h3>"))
            parts.append(goal_grid(models, goals, cells, caption="Goals (not test assertions) "
                                   f"per model and probe set, {_measured_by(outputs)}: ✓ met, "
                                   "✗ missed, with the measured value."))
    review = outputs.get("review")
    if review is not None and review.figures.get("alpha"):
        alpha = {_human(k): max(-0.2, v) for k, v in review.figures["alpha"].items()
                 if v is not None}
        parts.append(bars(alpha, xlabel="Krippendorff's α", xlim=(-0.2, 1.0),
                          bands=ALPHA_BANDS,
                          alt="Bar chart of reviewer agreement (Krippendorff's α) per guideline "
                              "category against the usual reading bands: below 0.667 discard, "
                              "0.667 to 0.8 tentative, 0.8 and above reliable.",
                          caption="Reviewer agreement per category (α; values below −0.2 drawn "
                                  "at −0.2). Shaded: the usual reading bands."))
    curves = _loss_curves(outputs)
    if curves:
        parts.append(lines(curves, xlabel="step", ylabel="training loss",
                           alt="Line chart of training loss against step for each training "
                               "stage: " + ", ".join(curves) + ".",
                           caption="Training loss per stage (each stage's own loss: "
                                   "cross-entropy for pretraining and SFT, the preference loss "
                                   "for reward and DPO, the policy loss for GRPO; compare the "
                                   "shape, not the level, across stages)."))
    parts = [p for p in parts if p]
    return Section("Charts", anchor="charts").add(*parts) if parts else None


def _loss_curves(outputs: dict[str, StageOutput]) -> dict[str, list[tuple[float, float]]]:
    curves: dict[str, list[tuple[float, float]]] = {}
    pretrain = outputs.get("pretrain")
    if pretrain is not None:
        history = _read_json(pretrain.dir / "loss_curve.json")
        if isinstance(history, list):
            curves["pretrain"] = [(h["step"], h["loss"]) for h in history
                                  if "step" in h and "loss" in h]

    def from_history(label: str, history: Any) -> None:
        if isinstance(history, list):
            curves[label] = [(h["step"], h["loss"]) for h in history
                             if isinstance(h, dict) and "step" in h and "loss" in h]

    for name in ("sft", "reward", "dpo"):
        if name in outputs:
            from_history(name, outputs[name].figures.get("log_history"))
    grpo = outputs.get("grpo")
    if grpo is not None:
        for variant, figures in (grpo.figures.get("variants") or {}).items():
            from_history(f"grpo {variant}", figures.get("log_history"))
    return curves


def _flat(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Scalar figures as (dotted name, value); long lists and paths left out."""
    rows: list[tuple[str, Any]] = []
    for k, v in figures.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            rows += _flat(v, name + ".")
        elif isinstance(v, int | float | str | bool) and not (
                isinstance(v, str) and (v.startswith("/") or len(v) > 80)):
            rows.append((name, v))
    return rows


def _generic(stage: Stage, out: StageOutput) -> list[Any]:
    """A section for a stage without its own report: its figures as a table."""
    rows = _flat(out.figures)
    parts: list[Any] = [paragraph(f"Finished in {out.seconds:.0f} s"
                                  f"{' (from the cache)' if out.cached else ''}; its files "
                                  f"are in {out.dir.name}.")]
    if rows:
        parts.append(table(["figure", "value"], rows[:60]))
    if len(rows) > 60:
        parts.append(paragraph(f"… and {len(rows) - 60} more in done.json."))
    return parts


def write_run_folder(project: Project, stages: Sequence[Stage], result: RunResult,
                     extra: dict[str, list[Any]] | None = None, *,
                     path: Path | None = None) -> Path:
    """Write ``run.json`` (every stage's folder, key, time, figures) and ``report.html``.

    Args:
        project: The project that ran.
        stages: The pipeline's stages (their titles and report functions).
        result: What ran.
        extra: More sections (title → HTML fragments) after the stages'.
        path: Write the report here instead of ``.accord/run/report.html`` (``run.json``
            is then not written).
    """
    run_dir = project.state_dir / "run"
    if path is None:
        run_dir.mkdir(parents=True, exist_ok=True)
        record = {name: {"dir": str(out.dir), "key": out.key, "seconds": out.seconds,
                         "cached": out.cached, "figures": out.figures}
                  for name, out in result.outputs.items()}
        (run_dir / "run.json").write_text(json.dumps(record, indent=2, default=str))

    spec = result.outputs.get("spec")
    subtitle = f"project {project.project.name}"
    if spec is not None:
        subtitle += f" · spec version {spec.figures.get('version')}"
    sections = [_summary(project, result)]
    charts = _safe(lambda: _charts(result), "charts")
    if charts is not None:
        sections.append(charts)
    overview = Section("Stages")
    overview.add(table(
        ["stage", "time (s)", "cached", "key figures", "folder"],
        [[out.name, out.seconds, "yes" if out.cached else "no", _key_figures(out.figures),
          out.dir.name] for out in result.outputs.values()]))
    sections.append(overview)
    for stage in stages:
        out = result.outputs.get(stage.name)
        if out is None:
            continue
        parts = (_safe(lambda s=stage, o=out: s.report(o), stage.name)  # type: ignore[misc]
                 if stage.report is not None else None)
        if parts is None:
            parts = _generic(stage, out)
        sections.append(Section(_section_title(stage, out)).add(*parts))
    for title, parts in (extra or {}).items():
        sections.append(Section(title).add(*parts))
    return write_report(path or run_dir / "report.html", f"Accord run: {project.project.name}",
                        subtitle, sections)


def _safe(build: Any, what: str) -> Any:
    """One part failing (a file missing from an old run) must not lose the whole report."""
    try:
        return build()
    except (OSError, KeyError, ValueError, TypeError) as exc:
        log.warning("report: %s left out (%s: %s)", what, type(exc).__name__, exc)
        return None


def rerender_report(project: Project, stages: Sequence[Stage], *,
                    path: Path | None = None) -> Path:
    """Rebuild ``report.html`` from the newest finished folder of each stage.

    Nothing runs: each stage's ``done.json`` (``.accord/stages/<stage>-<key>/``) gives its
    figures, the newest per stage wins.

    Args:
        project: The project whose run folder to read.
        stages: The pipeline's stages, in order.
        path: Where to write (default: the project's ``.accord/run/report.html``).

    Raises:
        PipelineError: no stage has finished in this project.
    """
    from accord.pipeline._runner import PipelineError

    outputs: dict[str, StageOutput] = {}
    root = project.state_dir / "stages"
    for stage in stages:
        done = sorted(root.glob(f"{stage.name}-*/done.json"), key=lambda p: p.stat().st_mtime)
        record = _read_json(done[-1]) if done else None
        if not isinstance(record, dict):
            continue
        outputs[stage.name] = StageOutput(
            stage.name, record.get("key", ""), done[-1].parent, record.get("run_id", ""),
            float(record.get("seconds", 0.0)), record.get("figures", {}))
    if not outputs:
        raise PipelineError(f"no finished stage under {root}: run `accord run` first")
    result = RunResult(outputs=outputs, ran=[], skipped=list(outputs))
    return write_run_folder(project, stages, result, path=path)


def report_command(
    directory: Annotated[Path, typer.Argument(help="The project folder.")] = Path("."),
    out: Annotated[Path | None, typer.Option("--out", help="Write the report here instead "
                                             "of .accord/run/report.html.")] = None,
) -> None:
    """Rebuild a finished run's report.html from its stage folders, running nothing."""
    from accord.pipeline._stages import STAGES
    from accord.project import load_project

    typer.echo(rerender_report(load_project(directory), STAGES, path=out))
