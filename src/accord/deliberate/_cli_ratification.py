"""``accord deliberate propose | proposals | draft | ratify | reject``: from statements with
broad support to a new spec version with provenance."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from accord.errors import AccordError

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The project folder (its "
                                          "store; its spec folder for ratification).")]
ProposalArg = Annotated[int, typer.Argument(min=1, help="The proposal's id (see `accord "
                                            "deliberate proposals NAME`).")]
ByOpt = Annotated[str, typer.Option("--by", help="Who does this (recorded in provenance).")]


def describe(p: Any) -> list[str]:
    """Lines describing one proposal: status, statements with tallies, the drafted change."""
    lines = [f"proposal {p.id} [{p.status}]"]
    for n in p.statement_numbers:
        t = p.tallies.get(str(n), {})
        tally = t.get("tally", {})
        groups = ", ".join(f"group {g} {v['agree_share']:.0%}"
                           for g, v in (t.get("groups") or {}).items())
        bridging = t.get("bridging")
        lines.append(f"  statement {n}: {t.get('text', '')}")
        lines.append(f"    {tally.get('agree', 0):g} agree / {tally.get('disagree', 0):g} disagree"
                     f" / {tally.get('pass', 0):g} pass ({tally.get('agree_share', 0):.0%});"
                     f" {groups or 'no groups'}; group-informed consensus "
                     f"{t.get('group_informed_consensus', 0):.3f}"
                     + (f"; bridging {bridging['intercept']:+.3f}" if bridging else ""))
    if p.kind:
        lines.append(f"  change ({p.kind}, drafted by {p.drafted_by}): "
                     f"{json.dumps(p.change, ensure_ascii=False)}")
    if p.decided_by:
        lines.append(f"  {p.status} by {p.decided_by} at {p.decided_at:%Y-%m-%d %H:%M} UTC")
    return lines


def register_ratification(app: typer.Typer, open_store: Callable[[Path], Any]) -> None:
    """Add the ratification commands to ``app``; ``open_store(project)`` opens the store."""

    @app.command("propose")
    def propose_cmd(name: Annotated[str, typer.Argument(help="The deliberation.")],
                    project: ProjectOpt = Path(".")) -> None:
        """Record a proposal for every statement passing the deliberation's thresholds."""
        from accord.deliberate import get_deliberation, propose

        with open_store(project) as store, store.session() as session:
            new = propose(session, get_deliberation(session, name))
            lines = [line for p in new for line in describe(p)]
        typer.echo("\n".join(lines) if lines else "no new statement passes the thresholds")

    @app.command("proposals")
    def proposals_cmd(name: Annotated[str, typer.Argument(help="The deliberation.")],
                      project: ProjectOpt = Path("."),
                      as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")]
                      = False) -> None:
        """List a deliberation's proposals and what became of them."""
        from accord.deliberate import get_deliberation, list_proposals

        with open_store(project) as store, store.session() as session:
            rows = list_proposals(session, get_deliberation(session, name))
            if as_json:
                typer.echo(json.dumps([_plain(p) for p in rows], ensure_ascii=False, indent=2))
                return
            lines = [line for p in rows for line in describe(p)]
        typer.echo("\n".join(lines) if lines else f"'{name}' has no proposals yet; run "
                   f"`accord deliberate propose {name}`")

    @app.command("draft")
    def draft_cmd(proposal: ProposalArg,
                  kind: Annotated[str, typer.Option("--kind", help="principle, default, bound "
                                                    "or option.")],
                  file: Annotated[Path, typer.Option("--file", help="The new or changed item, "
                                                     "as YAML (the fields it has in the spec).")],
                  by: ByOpt, summary: Annotated[str, typer.Option(help="One line saying what "
                                                                  "changes and why.")] = "",
                  project: ProjectOpt = Path(".")) -> None:
        """Draft the spec change a proposal supports."""
        from accord.deliberate import draft, get_proposal, parse_change_text

        if not file.is_file():
            raise AccordError(f"--file {file}: not found")
        item = parse_change_text(file.read_text(encoding="utf-8"), str(file))
        with open_store(project) as store, store.session() as session:
            row = draft(session, get_proposal(session, proposal), kind, item, by=by,
                        summary=summary)
            lines = describe(row)
        typer.echo("\n".join(lines))

    @app.command("ratify")
    def ratify_cmd(proposal: ProposalArg, by: ByOpt,
                   spec: Annotated[Path | None, typer.Option("--spec", help="The spec folder "
                                                             "(default: the deliberation's, "
                                                             "else the project's).")] = None,
                   project: ProjectOpt = Path(".")) -> None:
        """Write a drafted change into the spec: a new spec version with provenance."""
        from accord.accounts import write_session
        from accord.deliberate import get_proposal, provenance_lines, ratify
        from accord.project import load_project

        # Write lock first (SQLite): a concurrent ratification queues instead of failing.
        with open_store(project) as store, write_session(store) as session:
            row = get_proposal(session, proposal)
            folder = spec
            if folder is None:
                from accord.deliberate import Deliberation, config_of_row

                owner = session.get(Deliberation, row.deliberation_id)
                if owner is not None and not config_of_row(owner).spec_dir:
                    folder = load_project(project).spec_dir
            version, _ = ratify(session, row, by=by, spec_dir=folder)
            label = f"{version.version} (id {version.id})"
            records = list(version.provenance)
        typer.echo(f"ratified proposal {proposal}: new spec version {label}")
        typer.echo("\n".join(provenance_lines(records)))

    @app.command("reject")
    def reject_cmd(proposal: ProposalArg, by: ByOpt, project: ProjectOpt = Path(".")) -> None:
        """Decide not to turn a proposal into a spec change."""
        from accord.deliberate import get_proposal, reject

        with open_store(project) as store, store.session() as session:
            reject(session, get_proposal(session, proposal), by=by)
        typer.echo(f"proposal {proposal} rejected")


def _plain(p: Any) -> dict[str, Any]:
    return {"id": p.id, "status": p.status, "statements": p.statement_numbers,
            "tallies": p.tallies, "basis": p.basis, "kind": p.kind, "change": p.change,
            "summary": p.summary, "drafted_by": p.drafted_by, "decided_by": p.decided_by,
            "decided_at": p.decided_at.isoformat() if p.decided_at else None,
            "spec_version_id": p.spec_version_id}
