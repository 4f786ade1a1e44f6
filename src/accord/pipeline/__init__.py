"""``accord run``: the main job, its stages in order, cached and resumable.

See :mod:`accord.pipeline._runner` for the caching rules and
:mod:`accord.pipeline._stages` for the stages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from accord.pipeline._cli import eval_command, init_command, run_command
from accord.pipeline._data import DataError, DataSection, ProjectData, load_data, read_data_file
from accord.pipeline._evaluate import EvalRun, evaluate_model, evaluate_suites
from accord.pipeline._init import init_project
from accord.pipeline._overlap import prompt_overlap
from accord.pipeline._report import report_command, rerender_report, write_run_folder
from accord.pipeline._runner import (
    PipelineError,
    RunResult,
    Stage,
    StageContext,
    StageOutput,
    run_pipeline,
    stage_key,
)
from accord.pipeline._stages import SERVICE_TABLES, STAGES

# One resolution of a project's database for run, serve and the CLI (accord.project).
from accord.project import database_url_of as project_database_url
from accord.project import load_project

__all__ = [
    "STAGES",
    "DataError",
    "DataSection",
    "EvalRun",
    "PipelineError",
    "ProjectData",
    "RunResult",
    "Stage",
    "StageContext",
    "StageOutput",
    "eval_command",
    "evaluate_model",
    "evaluate_suites",
    "init_command",
    "init_project",
    "load_data",
    "project_database_url",
    "prompt_overlap",
    "read_data_file",
    "report_command",
    "rerender_report",
    "run_command",
    "run_pipeline",
    "run_project",
    "stage_key",
]


def run_project(directory: Path | str, *, start: str | None = None, until: str | None = None,
                force: Sequence[str] = (), log: Callable[[str], None] = print,
                stages: Sequence[Stage] | None = None,
                base_model: Path | str | None = None,
                profile: str | None = None) -> RunResult:
    """Load the project folder, open its store and run the pipeline (see :func:`run_pipeline`).

    Args:
        base_model: start from this local model (an HF folder or a ``.gguf`` file) instead
            of pretraining; the same as ``[pretrain] base_model``, which it overrides.
        profile: a preset of the project (``[profiles.NAME]``, e.g. ``quick``) merged over
            its tables.
    """
    from accord.store import open_store

    project = load_project(directory, profile=profile)
    if base_model is not None:
        path = Path(base_model).resolve()
        if not path.exists():
            raise PipelineError(f"--base-model {base_model}: no such file or folder")
        project.tables["pretrain"] = {**project.table("pretrain"), "base_model": str(path)}
    store = open_store(url=project_database_url(project))
    try:
        result = run_pipeline(project, stages or STAGES, start=start, until=until, force=force,
                              log=log, state={"store": store}, services=SERVICE_TABLES)
        # What the deployment saw since the models were served: bounds enforced, feedback.
        from accord.customize import report_sections

        deployment = report_sections(store)
    finally:
        store.close()
    report = write_run_folder(project, stages or STAGES, result,
                              extra={"Deployment: enforcement and public feedback": deployment})
    spec_out = result.outputs.get("spec")
    if spec_out is not None:
        log("")
        log((spec_out.dir / "summary.txt").read_text(encoding="utf-8").rstrip())
    log("")
    log(f"report: {report}")
    return result
