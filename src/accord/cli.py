"""The ``accord`` command: thin, one sub-command per stage or service.

Every command only parses arguments and calls a package API; errors a user can act on
(:class:`accord.errors.AccordError`) are printed without a traceback and exit with 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer
from typer.core import TyperGroup

from accord.errors import AccordError

if TYPE_CHECKING:
    from accord.store import Store


class _AccordGroup(TyperGroup):
    """Turns user errors anywhere below it into a message on stderr and exit status 2.

    Done at the root group (not in ``main``) so Typer's test runner sees the same exit codes
    as a shell does.
    """

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except AccordError as exc:
            typer.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


app = typer.Typer(cls=_AccordGroup,
                  help="Accord: shape a chat assistant's behaviour the way a careful lab "
                  "does it, in the open.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
spec_app = typer.Typer(help="The behaviour spec: check, show, diff, start one.",
                       no_args_is_help=True)
db_app = typer.Typer(help="The store: schema migrations.", no_args_is_help=True)
app.add_typer(spec_app, name="spec")
app.add_typer(db_app, name="db")

DirArg = Annotated[Path, typer.Argument(help="A spec folder (guidelines.yaml, bounds.yaml, "
                                        "constitution.yaml, rules.yaml).")]


def _echo(text: str = "") -> None:
    typer.echo(text)


# ---------------------------------------------------------------------------- spec


@spec_app.command("check")
def spec_check(directory: DirArg) -> None:
    """Validate a spec folder; print every error with file:line:column."""
    from accord.spec import load_spec

    spec = load_spec(directory)
    _echo(f"ok: {directory} is a valid spec, version {spec.version}")


@spec_app.command("show")
def spec_show(
    directory: DirArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the canonical content.")] = False,
) -> None:
    """Print a spec's summary (or its canonical content) and version hash."""
    from accord.spec import load_spec

    spec = load_spec(directory)
    if as_json:
        _echo(json.dumps({"version": spec.version, "hash": spec.hash,
                          "content": spec.content()}, indent=2, ensure_ascii=False))
        return
    _echo(spec.summary())
    _echo_provenance("provenance:", spec.manifest.provenance)


def _echo_provenance(title: str, records: list) -> None:
    """Where a spec version came from: each record, with a ratified deliberation's
    statements and tallies (accord.deliberate.provenance_lines)."""
    from accord.deliberate._spec_change import provenance_lines

    if records:
        _echo(title)
        _echo("\n".join(provenance_lines(records)))


@spec_app.command("diff")
def spec_diff(
    a: Annotated[Path, typer.Argument(help="The old spec folder.")],
    b: Annotated[Path, typer.Argument(help="The new spec folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
) -> None:
    """Semantic diff of two specs: what was added, removed or changed, by id."""
    from accord.spec import diff_specs, load_spec

    old, new = load_spec(a), load_spec(b)
    diff = diff_specs(old, new)
    added = [r for r in new.manifest.provenance if r not in old.manifest.provenance]
    if as_json:
        _echo(json.dumps({**diff.to_dict(), "provenance_added": [
            r.model_dump(mode="json") for r in added]}, indent=2, ensure_ascii=False))
    else:
        _echo(diff.render())
        _echo_provenance(f"provenance of {new.version} (added since {old.version}):", added)


@spec_app.command("init")
def spec_init(directory: Annotated[Path, typer.Argument(help="Where to write the spec.")]) -> None:
    """Write a commented starter spec that validates."""
    from accord.spec import write_starter_spec

    write_starter_spec(directory)
    _echo(f"wrote a starter spec to {directory}; check it with: accord spec check {directory}")


# ---------------------------------------------------------------------------- db

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The project folder whose "
                                          "store to use (SQLite under .accord/ unless "
                                          "ACCORD_DATABASE_URL is set).")]
UrlOpt = Annotated[str | None, typer.Option("--url", help="A database URL (overrides the "
                                            "project's).")]


def _db_url(project: Path, url: str | None) -> str:
    from accord.store import database_url

    return url or database_url(project)


@db_app.command("upgrade")
def db_upgrade(project: ProjectOpt = Path("."), url: UrlOpt = None,
               revision: Annotated[str, typer.Option(help="Target revision.")] = "head") -> None:
    """Apply schema migrations (up to head by default)."""
    from accord.store import current_revision, upgrade

    target = _db_url(project, url)
    upgrade(target, revision)
    _echo(f"database at revision {current_revision(target)}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")],
                 project: ProjectOpt = Path("."), url: UrlOpt = None) -> None:
    """Revert schema migrations down to REVISION."""
    from accord.store import current_revision, downgrade

    target = _db_url(project, url)
    downgrade(target, revision)
    _echo(f"database at revision {current_revision(target)}")


@db_app.command("current")
def db_current(project: ProjectOpt = Path("."), url: UrlOpt = None) -> None:
    """Print the database's schema revision and the newest one this code knows."""
    from accord.store import current_revision, head_revision

    target = _db_url(project, url)
    _echo(f"current: {current_revision(target) or '(empty database)'}\nhead: {head_revision()}")


# ---------------------------------------------------------------------------- run


@app.command("run")
def run(
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

    run_project(directory, start=start, until=until, force=force or [], log=_echo,
                base_model=base_model)


@app.command("eval")
def eval_model(
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

    result = evaluate_model(project, model, samples=samples, seed=seed, log=_echo)
    _echo(json.dumps(result.to_dict()["rows"], indent=2) if as_json else result.render_text())


# ---------------------------------------------------------------------------- serve, users, review

users_app = typer.Typer(help="Accounts for the review web app.", no_args_is_help=True)
review_app = typer.Typer(help="Human review: batches, simulated reviewers, transparency.",
                         no_args_is_help=True)
batch_app = typer.Typer(help="Review batches.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(review_app, name="review")
review_app.add_typer(batch_app, name="batch")
ServeProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The project folder "
                                               "(accord.toml; its store, unless "
                                               "ACCORD_DATABASE_URL is set).")]


def _open_store(project: Path) -> Store:
    from accord.serve._main import open_project_store

    return open_project_store(project)


@app.command("serve")
def serve(project: ServeProjectOpt = Path("."),
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
          workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
          model: Annotated[list[str] | None, typer.Option(
              "--model", help="Serve this model (repeatable): a model version name, a "
              "saved model folder, or NAME=PATH. Enables /v1 and the chat page.")] = None,
          ) -> None:
    """Run the web app and JSON API (creates the first admin if there is none); with
    --model, also the chat page and the OpenAI-compatible API under the bounds."""
    from accord.serve._main import serve as run_server

    run_server(project, host=host, port=port, workers=workers, echo=_echo, models=model)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Lowercase letters, digits, _ . -")],
    project: ServeProjectOpt = Path("."),
    role: Annotated[list[str] | None, typer.Option(help="A role (repeatable): admin, "
                                                   "reviewer.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Same as --role admin.")] = False,
    simulated: Annotated[bool, typer.Option(help="The account is a simulated reviewer.")
                         ] = False,
) -> None:
    """Create an account and print its one-time password."""
    from accord.review import create_user, generate_password

    roles = sorted({*(role or []), *(["admin"] if admin else [])}) or ["reviewer"]
    password = generate_password()
    with _open_store(project) as store, store.session() as session:
        create_user(session, username, password, roles, simulated=simulated)
    _echo(f"created {username} ({', '.join(roles)}); one-time password: {password}")


@users_app.command("list")
def users_list(project: ServeProjectOpt = Path(".")) -> None:
    """List accounts with their roles."""
    from accord.review import list_users

    with _open_store(project) as store, store.session() as session:
        for user, roles in list_users(session):
            flags = " simulated" if user.is_simulated else ""
            _echo(f"{user.username}\t{','.join(roles)}{flags}")


@users_app.command("reset-password")
def users_reset(username: Annotated[str, typer.Argument(help="The account.")],
                project: ServeProjectOpt = Path(".")) -> None:
    """Give an account a new one-time password (signs out all its sessions)."""
    from accord.review import generate_password, set_password

    password = generate_password()
    with _open_store(project) as store, store.session() as session:
        set_password(session, username, password)
    _echo(f"new one-time password for {username}: {password}")


@batch_app.command("create")
def batch_create(
    model: Annotated[str, typer.Option(help="Model version whose stored completions to draw.")],
    project: ServeProjectOpt = Path("."),
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
    from accord.review import create_batch, gold_from_spec_examples
    from accord.store import get_spec_version, latest_spec_version

    with _open_store(project) as store, store.session() as session:
        spec_row = get_spec_version(session, spec) if spec else latest_spec_version(session)
        if spec_row is None:
            raise AccordError("no spec version is recorded; run `accord run` first")
        gold = gold_from_spec_examples(session, spec_row) if gold_examples else []
        batch = create_batch(session, name=name, kind=kind, model_version=model,
                             spec_version=spec_row, prompts=prompts, completions_per_prompt=k,
                             overlap=overlap, seed=seed, gold=gold)
        _echo(f"batch {batch.id}: {kind}, {prompts} prompts x {k}, overlap {overlap}, "
              f"{len(gold)} gold items, spec {spec_row.version}")


@review_app.command("canned")
def review_canned(project: ServeProjectOpt = Path("."),
                  prompts: Annotated[int, typer.Option("-n", help="Prompts.")] = 20,
                  k: Annotated[int, typer.Option("-k", help="Completions per prompt.")] = 3
                  ) -> None:
    """Store canned completions (model version 'canned') to try the review app without a
    trained model."""
    from accord.review import store_canned_completions
    from accord.store import latest_spec_version

    with _open_store(project) as store, store.session() as session:
        store_canned_completions(session, latest_spec_version(session), prompts=prompts,
                                 completions_per_prompt=k)
    _echo(f"stored {prompts} x {k} canned completions under model version 'canned'")


@review_app.command("simulate")
def review_simulate(
    batch: Annotated[int, typer.Option(help="The batch to review.")],
    url: Annotated[str, typer.Option(help="The running server.")] = "http://127.0.0.1:8000",
    project: ServeProjectOpt = Path("."),
    reviewers: Annotated[int, typer.Option("-n", help="Simulated reviewers.")] = 5,
    seed: Annotated[int, typer.Option(help="Panel seed.")] = 0,
) -> None:
    """Create simulated reviewer accounts and let them review through the HTTP API."""
    from concurrent.futures import ThreadPoolExecutor

    from accord.review import (
        SimulatedReviewer,
        make_panel,
        register_simulated_reviewers,
        simulate_over_http,
    )

    panel = make_panel(reviewers, seed)
    with _open_store(project) as store, store.session() as session:
        credentials = register_simulated_reviewers(session, panel)
    with ThreadPoolExecutor(len(panel)) as pool:
        results = list(pool.map(lambda pc: simulate_over_http(
            url, pc[1], batch, SimulatedReviewer(pc[0], seed)), zip(panel, credentials,
                                                                    strict=True)))
    done = sum(len(r.acknowledged) for r in results)
    _echo(f"{len(panel)} simulated reviewers submitted {done} reviews to batch {batch}")


@review_app.command("export")
def review_export(
    batch: Annotated[list[int], typer.Option(help="A batch to export (repeatable).")],
    out: Annotated[Path, typer.Option(help="The export folder.")],
    project: ServeProjectOpt = Path("."),
    kind: Annotated[str, typer.Option(help="sft or preference.")] = "sft",
) -> None:
    """Export reviewed completions as a TRL data set: SFT rows, or preference pairs (each
    ranking of K expanded to its C(K,2) pairs, ties skipped)."""
    from accord.review import preference_rows, reviewed_completions, sft_rows, write_export

    if kind not in ("sft", "preference"):
        raise AccordError(f"--kind {kind!r} is not allowed; allowed: sft, preference")
    with _open_store(project) as store, store.session() as session:
        rated, rankings, version = reviewed_completions(session, batch)
    rows = sft_rows(rated) if kind == "sft" else preference_rows(rated, rankings)
    meta = {"spec_version": version, "batch_ids": batch}
    manifest = write_export(rows, "sft" if kind == "sft" else "preference", out, meta)
    _echo(f"wrote {manifest.rows} {kind} rows to {out} (sha256 {manifest.hash[:12]})")


@review_app.command("transparency")
def review_transparency(
    out: Annotated[Path, typer.Option(help="Folder for demographics.html and .json.")],
    project: ServeProjectOpt = Path("."),
    epsilon: Annotated[float, typer.Option(help="Privacy budget of the whole report.")] = 1.0,
    min_cell: Annotated[int, typer.Option(help="Smallest count published.")] = 11,
    include_simulated: Annotated[bool, typer.Option(help="Count simulated reviewers (the "
                                                    "report then says so).")] = False,
) -> None:
    """Publish reviewer demographics once: totals only, small cells suppressed, noised.

    Written to files rather than served per request: fresh noise on every request would
    let anyone average it away.
    """
    from accord.project import load_project
    from accord.review import survey_answers
    from accord.serve._main import ReviewSettings
    from accord.transparency import demographics_report

    fields = load_project(project).section("review", ReviewSettings).survey.fields
    with _open_store(project) as store, store.session() as session:
        answers = survey_answers(session, include_simulated=include_simulated)
    report = demographics_report(answers, [f.id for f in fields], epsilon=epsilon,
                                 min_cell=min_cell, values={f.id: f.options for f in fields},
                                 simulated=include_simulated)
    out.mkdir(parents=True, exist_ok=True)
    (out / "demographics.html").write_text(report.to_html(), encoding="utf-8")
    (out / "demographics.json").write_text(json.dumps(report.to_dict(), indent=2,
                                                      ensure_ascii=False), encoding="utf-8")
    _echo(f"wrote {out / 'demographics.html'} ({len(answers)} self-reports, epsilon {epsilon})")


def _register_rewards() -> None:
    from accord.rewards._cli import rewards_app

    app.add_typer(rewards_app, name="rewards")


_register_rewards()


def _register_customize() -> None:
    from accord.customize._cli import customize_app

    app.add_typer(customize_app, name="customize")


_register_customize()


def _register_deliberate() -> None:
    from accord.deliberate._cli import deliberate_app

    app.add_typer(deliberate_app, name="deliberate")


_register_deliberate()


def main() -> None:
    """Entry point of the ``accord`` script."""
    app()


if __name__ == "__main__":
    main()
