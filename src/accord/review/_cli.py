"""``accord review``: batches, canned completions, simulated reviewers, exports and the
published demographics report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from accord.errors import AccordError

if TYPE_CHECKING:
    import httpx

review_app = typer.Typer(help="Human review: batches, simulated reviewers, transparency.",
                         no_args_is_help=True)
batch_app = typer.Typer(help="Review batches.", no_args_is_help=True)
review_app.add_typer(batch_app, name="batch")

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The project folder "
                                          "(accord.toml; its store, unless "
                                          "ACCORD_DATABASE_URL is set).")]


@batch_app.command("create")
def batch_create(
    model: Annotated[str, typer.Option(help="Model version whose stored completions to draw.")],
    project: ProjectOpt = Path("."),
    spec: Annotated[str | None, typer.Option(help="Spec version shown (default: newest).")
                    ] = None,
    name: Annotated[str, typer.Option(help="A label.")] = "batch",
    kind: Annotated[str, typer.Option(help="rating or comparison.")] = "rating",
    prompts: Annotated[int, typer.Option("-n", help="Prompts N.")] = 10,
    k: Annotated[int, typer.Option("-k", help="Completions per prompt K.")] = 1,
    overlap: Annotated[int, typer.Option("-r", "--overlap", help="Reviewers per item.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the draw and order.")] = 0,
    gold_examples: Annotated[bool, typer.Option(help="Mix in the guideline examples as gold "
                                                "items (rating batches).")] = False,
) -> None:
    """Draw a review batch from completions already stored for a model version."""
    from accord.project import open_project_store
    from accord.review import create_batch, gold_from_spec_examples
    from accord.store import get_spec_version, latest_spec_version

    with open_project_store(project) as store, store.session() as session:
        spec_row = get_spec_version(session, spec) if spec else latest_spec_version(session)
        if spec_row is None:
            raise AccordError("no spec version is recorded; run `accord run` first")
        gold = gold_from_spec_examples(session, spec_row) if gold_examples else []
        batch = create_batch(session, name=name, kind=kind, model_version=model,
                             spec_version=spec_row, prompts=prompts, completions_per_prompt=k,
                             overlap=overlap, seed=seed, gold=gold)
        typer.echo(f"batch {batch.id}: {kind}, {prompts} prompts x {k}, overlap {overlap}, "
                   f"{len(gold)} gold items, spec {spec_row.version}")


@review_app.command("canned", short_help="Store canned completions to try the app without a model.")
def review_canned(project: ProjectOpt = Path("."),
                  prompts: Annotated[int, typer.Option("-n", min=1, help="Prompts.")] = 20,
                  k: Annotated[int, typer.Option("-k", min=1, help="Completions per prompt.")
                               ] = 3,
                  ) -> None:
    """Store canned completions (model version 'canned') to try the review app without a
    trained model."""
    from accord.project import open_project_store
    from accord.review import store_canned_completions
    from accord.store import latest_spec_version

    with open_project_store(project) as store, store.session() as session:
        store_canned_completions(session, latest_spec_version(session), prompts=prompts,
                                 completions_per_prompt=k)
    typer.echo(f"stored {prompts} x {k} canned completions under model version 'canned'")


@review_app.command("simulate", short_help="Simulated reviewers review a batch over HTTP.")
def review_simulate(
    batch: Annotated[int, typer.Option(help="The batch to review.")],
    url: Annotated[str, typer.Option(help="The running server.")] = "http://127.0.0.1:8000",
    project: ProjectOpt = Path("."),
    reviewers: Annotated[int, typer.Option("-n", min=1, help="Simulated reviewers.")] = 5,
    seed: Annotated[int, typer.Option(help="Panel seed.")] = 0,
) -> None:
    """Create simulated reviewer accounts and let them review through the HTTP API.

    The server at --url must be running (`accord serve`); it is checked before any account
    is made. The accounts are named sim-SEED-NNN: a later run with the same --seed (another
    batch, or a retry after a failed run) reuses them with fresh passwords. Reviews the
    server acknowledged are kept if a run stops half-way; run again to go on.
    """
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from accord.project import open_project_store
    from accord.review import (
        SimulatedReviewer,
        check_review_server,
        make_panel,
        register_simulated_reviewers,
        simulate_over_http,
    )

    check_review_server(url)
    panel = make_panel(reviewers, seed)
    with open_project_store(project) as store, store.session() as session:
        credentials = register_simulated_reviewers(session, panel)
    try:
        with ThreadPoolExecutor(len(panel)) as pool:
            results = list(pool.map(lambda pc: simulate_over_http(
                url, pc[1], batch, SimulatedReviewer(pc[0], seed)), zip(panel, credentials,
                                                                        strict=True)))
    except httpx.HTTPStatusError as exc:
        raise AccordError(f"the review server at {url} refused a request for batch {batch} "
                          f"(HTTP {exc.response.status_code}: {_detail(exc.response)}); "
                          "reviews it acknowledged are kept") from None
    except httpx.TransportError as exc:
        raise AccordError(f"lost the review server at {url} ({exc}); reviews it acknowledged "
                          "are kept: run again once `accord serve` is back") from None
    done = sum(len(r.acknowledged) for r in results)
    typer.echo(f"{len(panel)} simulated reviewers submitted {done} reviews to batch {batch}")


def _detail(response: httpx.Response) -> str:
    """The server's error message from a JSON error body, else the start of the body."""
    try:
        body = response.json()
        detail = body.get("error") or body.get("detail")
    except (ValueError, AttributeError):  # not JSON, or JSON but not an object
        detail = None
    return str(detail) if detail else response.text[:200]


@review_app.command("export", short_help="Export reviewed completions as a TRL data set.")
def review_export(
    batch: Annotated[list[int], typer.Option(help="A batch to export (repeatable).")],
    out: Annotated[Path, typer.Option(help="The export folder.")],
    project: ProjectOpt = Path("."),
    kind: Annotated[str, typer.Option(help="sft or preference.")] = "sft",
) -> None:
    """Export reviewed completions as a TRL data set: SFT rows, or preference pairs (each
    ranking of K expanded to its C(K,2) pairs, ties skipped)."""
    from accord.project import open_project_store
    from accord.review import preference_rows, reviewed_completions, sft_rows, write_export

    if kind not in ("sft", "preference"):
        raise AccordError(f"--kind {kind!r} is not allowed; allowed: sft, preference")
    with open_project_store(project) as store, store.session() as session:
        rated, rankings, version = reviewed_completions(session, batch)
    rows = sft_rows(rated) if kind == "sft" else preference_rows(rated, rankings)
    meta = {"spec_version": version, "batch_ids": batch}
    manifest = write_export(rows, "sft" if kind == "sft" else "preference", out, meta)
    typer.echo(f"wrote {manifest.rows} {kind} rows to {out} (sha256 {manifest.hash[:12]})")


@review_app.command("transparency", short_help="Publish reviewer demographics once (noised).")
def review_transparency(
    out: Annotated[Path, typer.Option(help="Folder for demographics.html and .json.")],
    project: ProjectOpt = Path("."),
    epsilon: Annotated[float, typer.Option(help="Privacy budget of the whole report.")] = 1.0,
    min_cell: Annotated[int, typer.Option(help="Smallest count published.")] = 11,
    include_simulated: Annotated[bool, typer.Option(help="Count simulated reviewers (the "
                                                    "report then says so).")] = False,
) -> None:
    """Publish reviewer demographics once: totals only, small cells suppressed, noised.

    Written to files rather than served per request: fresh noise on every request would
    let anyone average it away.
    """
    from accord.project import load_project, open_project_store
    from accord.review import ReviewSettings, survey_answers
    from accord.transparency import demographics_report

    fields = load_project(project).section("review", ReviewSettings).survey.fields
    with open_project_store(project) as store, store.session() as session:
        answers = survey_answers(session, include_simulated=include_simulated)
    report = demographics_report(answers, [f.id for f in fields], epsilon=epsilon,
                                 min_cell=min_cell, values={f.id: f.options for f in fields},
                                 simulated=include_simulated)
    out.mkdir(parents=True, exist_ok=True)
    (out / "demographics.html").write_text(report.to_html(), encoding="utf-8")
    (out / "demographics.json").write_text(json.dumps(report.to_dict(), indent=2,
                                                      ensure_ascii=False), encoding="utf-8")
    typer.echo(f"wrote {out / 'demographics.html'} ({len(answers)} self-reports, "
               f"epsilon {epsilon})")
