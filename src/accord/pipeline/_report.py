"""The run folder: ``.accord/run/run.json`` and ``report.html`` after every ``accord run``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accord.pipeline._runner import RunResult, Stage
from accord.project import Project
from accord.report import Section, table, write_report


def _key_figures(figures: dict) -> str:
    parts = []
    for k, v in figures.items():
        if isinstance(v, int | float | str) and not isinstance(v, bool) and len(str(v)) < 40:
            parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
    return ", ".join(parts[:6])


def write_run_folder(project: Project, stages: Sequence[Stage], result: RunResult,
                     extra: dict[str, list[Any]] | None = None) -> Path:
    """Write ``run.json`` (every stage's folder, key, time, figures) and ``report.html``;
    ``extra`` adds sections (title → HTML fragments) after the stages'."""
    run_dir = project.state_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {name: {"dir": str(out.dir), "key": out.key, "seconds": out.seconds,
                     "cached": out.cached, "figures": out.figures}
              for name, out in result.outputs.items()}
    (run_dir / "run.json").write_text(json.dumps(record, indent=2, default=str))

    spec = result.outputs.get("spec")
    subtitle = f"project {project.project.name}"
    if spec is not None:
        subtitle += f" · spec version {spec.figures.get('version')}"
    overview = Section("Stages")
    overview.add(table(
        ["stage", "time (s)", "cached", "key figures", "folder"],
        [[out.name, out.seconds, "yes" if out.cached else "no", _key_figures(out.figures),
          str(out.dir.relative_to(project.root))] for out in result.outputs.values()]))
    sections = [overview]
    for stage in stages:
        out = result.outputs.get(stage.name)
        if out is not None and stage.report is not None:
            sections.append(Section(stage.title or stage.name).add(*stage.report(out)))
    for title, parts in (extra or {}).items():
        sections.append(Section(title).add(*parts))
    return write_report(run_dir / "report.html", f"Accord run: {project.project.name}",
                        subtitle, sections)
