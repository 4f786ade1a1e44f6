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
    force: Annotated[list[str] | None, typer.Option(
        "--force", metavar="STAGE", help="Re-run this stage even if cached (repeatable).")
    ] = None,
    base_model: Annotated[Path | None, typer.Option("--base-model", help="Start from this "
                                                    "local model (a Hugging Face folder or a "
                                                    ".gguf file) instead of pretraining.")
                          ] = None,
    profile: Annotated[str | None, typer.Option("--profile", metavar="NAME", help="Apply the "
                                                "project's preset [profiles.NAME] (e.g. quick, "
                                                "gpu) over its tables.")] = None,
) -> None:
    """The main job: run the pipeline's stages in order, cached and resumable."""
    from accord.pipeline import run_project

    run_project(directory, start=start, until=until, force=force or [], log=typer.echo,
                base_model=base_model, profile=profile)


def eval_command(
    model: Annotated[str, typer.Argument(help="What to measure: a model version name from the "
                                         "project's store, a model folder, a .gguf file, "
                                         "`smollm2`, or with --endpoint the served model's "
                                         "name.")],
    endpoint: Annotated[str | None, typer.Option("--endpoint", help="An OpenAI-compatible "
                                                 "base URL serving MODEL, e.g. "
                                                 "http://127.0.0.1:8000/v1.")] = None,
    suite: Annotated[str | None, typer.Option("--suite", help="Suites, comma-separated: "
                                              "xstest, evenhandedness, bbq, offensive, world, "
                                              "probes. Default: world for a stored model "
                                              "version, else the four public suites.")
                     ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most N items per suite "
                                              "(pairs for evenhandedness): a deterministic "
                                              "subset, balanced across types.")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", help="Sampling "
                                                      "temperature (public suites: 0.7; world: "
                                                      "the project's [eval]).")] = None,
    max_new_tokens: Annotated[int | None, typer.Option("--max-new-tokens", help="Reply length "
                                                       "cap (public suites: 128).")] = None,
    probes: Annotated[Path | None, typer.Option("--probes", help="Your own prompts: JSONL, "
                                                "one {\"prompt\", \"behaviour\": GRADER, "
                                                "\"expect\"?: bool} a line.")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="The public data folder (default: "
                                              "ACCORD_DATA_DIR, else ../shared/data beside "
                                              "the repository).")] = None,
    judge: Annotated[str | None, typer.Option("--judge", help="A judge model (local, or the "
                                              "served name with --judge-endpoint) for the "
                                              "even-handedness rubric.")] = None,
    judge_endpoint: Annotated[str | None, typer.Option("--judge-endpoint", help="An "
                                                       "OpenAI-compatible base URL serving "
                                                       "--judge.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write results.json, summary.txt "
                                             "and per-item records here (default: "
                                             ".accord/eval/ in a project).")] = None,
    project: Annotated[Path, typer.Option("--project", "-p", help="The project folder whose "
                                          "store and demo world to use.")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON alone "
                                          "on stdout (logs go to stderr).")] = False,
    samples: Annotated[int, typer.Option(help="Samples per probe (world suite).")] = 1,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Conversations per forward "
                                            "pass (local models).")] = 16,
) -> None:
    """Measure a model's behaviour: public suites (XSTest, political even-handedness, BBQ,
    offensive answers) judged by real-text graders, your own probes, or the demo world's
    meter; every figure with a 95 % interval and n."""
    from accord.pipeline import evaluate_suites

    def log(line: str) -> None:
        typer.echo(line, err=True)

    run = evaluate_suites(model, project_dir=project, endpoint=endpoint, suites=suite,
                          limit=limit, temperature=temperature, max_new_tokens=max_new_tokens,
                          probes=probes, data_dir=data, judge=judge,
                          judge_endpoint=judge_endpoint, out=out, batch_size=batch_size,
                          seed=seed, samples=samples, log=log)
    typer.echo(json.dumps(run.to_dict(), indent=2, ensure_ascii=False) if as_json
               else run.render_text())


def init_command(
    directory: Annotated[Path, typer.Argument(help="The new project folder.")],
    base_model: Annotated[str | None, typer.Option(
        "--base-model", metavar="PATH", help="The model to start from: a save_pretrained "
        "folder, a .gguf file, or smollm2 (the default: SmolLM2-135M-Instruct, offline).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="The project's name (default: the "
                                             "folder's).")] = None,
) -> None:
    """Write a ready-to-run project: accord.toml (commented), a starter spec and example
    data files in TRL's formats; review waits for people unless you choose simulated."""
    from accord.pipeline import init_project

    root = init_project(directory, base_model=base_model, name=name)
    typer.echo(f"wrote {root}/accord.toml, {root}/spec/ and {root}/data/ "
               "(replace the example data with yours)")
    typer.echo(f"next: accord spec check {root}/spec && accord run {root} --profile quick")
