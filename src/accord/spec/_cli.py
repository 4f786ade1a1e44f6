"""``accord spec``: check, show, diff and start a spec folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

spec_app = typer.Typer(help="The behaviour spec: check, show, diff, start one.",
                       no_args_is_help=True)

DirArg = Annotated[Path, typer.Argument(help="A spec folder (guidelines.yaml, bounds.yaml, "
                                        "constitution.yaml, rules.yaml).")]


@spec_app.command("check")
def spec_check(directory: DirArg) -> None:
    """Validate a spec folder; print every error with file:line:column."""
    from accord.spec import load_spec

    spec = load_spec(directory)
    typer.echo(f"ok: {directory} is a valid spec, version {spec.version}")


@spec_app.command("show")
def spec_show(
    directory: DirArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the canonical content.")] = False,
) -> None:
    """Print a spec's summary (or its canonical content) and version hash."""
    from accord.spec import load_spec

    spec = load_spec(directory)
    if as_json:
        typer.echo(json.dumps({"version": spec.version, "hash": spec.hash,
                               "content": spec.content()}, indent=2, ensure_ascii=False))
        return
    typer.echo(spec.summary())
    _echo_provenance("provenance:", spec.manifest.provenance)


def _echo_provenance(title: str, records: list) -> None:
    """Where a spec version came from: each record, with a ratified deliberation's
    statements and tallies (accord.deliberate.provenance_lines)."""
    # Late import: the deliberation package builds on this one, not the other way round.
    from accord.deliberate import provenance_lines

    if records:
        typer.echo(title)
        typer.echo("\n".join(provenance_lines(records)))


@spec_app.command("diff")
def spec_diff(
    a: Annotated[Path, typer.Argument(help="The old spec folder.")],
    b: Annotated[Path, typer.Argument(help="The new spec folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
) -> None:
    """Semantic diff of two specs: what was added, removed or changed, by id."""
    from accord.errors import AccordError
    from accord.spec import diff_specs, load_spec

    def load(path: Path, which: str) -> Any:
        try:
            return load_spec(path)
        except AccordError as exc:  # say which of the two folders is wrong
            sep = "\n" if "\n" in str(exc) else " "
            raise AccordError(f"the {which} spec ({path}) is invalid:{sep}{exc}") from None

    old, new = load(a, "old"), load(b, "new")
    diff = diff_specs(old, new)
    added = [r for r in new.manifest.provenance if r not in old.manifest.provenance]
    if as_json:
        typer.echo(json.dumps({**diff.to_dict(), "provenance_added": [
            r.model_dump(mode="json") for r in added]}, indent=2, ensure_ascii=False))
    else:
        typer.echo(diff.render())
        _echo_provenance(f"provenance of {new.version} (added since {old.version}):", added)


@spec_app.command("init")
def spec_init(directory: Annotated[Path, typer.Argument(help="Where to write the spec.")]) -> None:
    """Write a commented starter spec that validates."""
    from accord.spec import write_starter_spec

    write_starter_spec(directory)
    typer.echo(f"wrote a starter spec to {directory}; check it with: accord spec check "
               f"{directory}")
