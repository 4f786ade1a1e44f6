"""The ``accord`` command: thin, one sub-command per stage or service.

Every command only parses arguments and calls a package API; errors a user can act on
(:class:`accord.errors.AccordError`) are printed without a traceback and exit with 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from accord.errors import AccordError


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


@spec_app.command("diff")
def spec_diff(
    a: Annotated[Path, typer.Argument(help="The old spec folder.")],
    b: Annotated[Path, typer.Argument(help="The new spec folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
) -> None:
    """Semantic diff of two specs: what was added, removed or changed, by id."""
    from accord.spec import diff_specs, load_spec

    diff = diff_specs(load_spec(a), load_spec(b))
    if as_json:
        _echo(json.dumps(diff.to_dict(), indent=2, ensure_ascii=False))
    else:
        _echo(diff.render())


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
) -> None:
    """The main job: run the pipeline's stages in order, cached and resumable."""
    from accord.pipeline import run_project

    run_project(directory, start=start, until=until, force=force or [], log=_echo)


def main() -> None:
    """Entry point of the ``accord`` script."""
    app()


if __name__ == "__main__":
    main()
