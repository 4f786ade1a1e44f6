"""``accord run`` and ``accord eval``: the main job and the behaviour meter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def run_command(
    directory: Annotated[Path, typer.Argument(help="The project folder (accord.toml, spec/).")],
    start: Annotated[str | None, typer.Option("--from", help="Re-run this stage and all "
                                              "after it.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Stop after this stage.")] = None,
    force: Annotated[list[str] | None, typer.Option("--force", help="Re-run this stage even "
                                                    "if cached (repeatable).")] = None,
    base_model: Annotated[Path | None, typer.Option("--base-model", help="Start from this "
                                                    "local model (a Hugging Face folder or a "
                                                    ".gguf file) instead of pretraining.")
                          ] = None,
) -> None:
    """The main job: run the pipeline's stages in order, cached and resumable."""
    from accord.pipeline import run_project

    run_project(directory, start=start, until=until, force=force or [], log=typer.echo,
                base_model=base_model)


def eval_command(
    model: Annotated[str, typer.Argument(help="A model version name from the project's store "
                                         "(see the run report), or a saved model folder.")],
    project: Annotated[Path, typer.Option("--project", "-p", help="The project folder whose "
                                          "store and demo world to use.")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    samples: Annotated[int, typer.Option(help="Samples per probe.")] = 1,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
) -> None:
    """The behaviour meter: unwanted-behaviour rates, over-refusal, helpfulness and
    steerability on the held-out probes, with 95 % intervals."""
    from accord.pipeline import evaluate_model

    result = evaluate_model(project, model, samples=samples, seed=seed, log=typer.echo)
    typer.echo(json.dumps(result.to_dict()["rows"], indent=2) if as_json
               else result.render_text())
