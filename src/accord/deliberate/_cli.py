"""``accord deliberate``: import, analyse, export deliberations; moderate; propose, draft,
ratify and reject spec changes. Commands parse arguments and call the package API."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accord.errors import AccordError

from ._cli_ratification import register_ratification

if TYPE_CHECKING:
    from accord.store import Store

deliberate_app = typer.Typer(help="Public deliberation: statements, votes, opinion groups, "
                             "consensus, ratification into the spec.", no_args_is_help=True)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The project folder (its "
                                          "store unless ACCORD_DATABASE_URL is set; its spec "
                                          "folder for ratification).")]
NameArg = Annotated[str, typer.Argument(help="The deliberation's name.")]
ByOpt = Annotated[str, typer.Option("--by", help="Who does this (recorded in provenance).")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Settings as YAML or JSON "
                                                "(participation, thresholds, "
                                                "demographic_targets, ...).")]


def _echo(text: str = "") -> None:
    typer.echo(text)


def _store(project: Path) -> Store:
    from accord.project import open_project_store

    if not project.is_dir():
        raise AccordError(f"--project {project}: not a folder")
    return open_project_store(project)


def _config(project: Path, config: Path | None, participation: str | None) -> Any:
    """Settings from --config, with --participation and the project's spec folder."""
    from accord.deliberate import ACCOUNTS, ANONYMOUS, DeliberationConfig, read_config_file
    from accord.project import load_project

    cfg = read_config_file(config) if config is not None else DeliberationConfig()
    updates: dict[str, Any] = {}
    if participation is not None:
        if participation not in (ACCOUNTS, ANONYMOUS):
            raise AccordError(f"--participation {participation!r} is not allowed; allowed: "
                              f"{ACCOUNTS}, {ANONYMOUS}")
        updates["participation"] = participation
    spec_dir = load_project(project).spec_dir
    if cfg.spec_dir is None and spec_dir.is_dir():
        updates["spec_dir"] = str(spec_dir)
    return cfg.model_copy(update=updates)


ParticipationOpt = Annotated[str | None, typer.Option("--participation", help="accounts "
                                                      "(signed in) or anonymous.")]


@deliberate_app.command("import")
def import_cmd(directory: Annotated[Path, typer.Argument(help="A Polis openData folder.")],
               name: Annotated[str | None, typer.Option("--name", help="Default: the folder's "
                                                        "name.")] = None,
               project: ProjectOpt = Path("."), config: ConfigOpt = None,
               participation: ParticipationOpt = None) -> None:
    """Import an openData folder (old or new Polis layout) as a new deliberation, all or
    nothing."""
    from accord.deliberate import config_of_row, import_note, import_opendata

    if not directory.is_dir():
        raise AccordError(f"{directory}: not a folder; expected an openData folder with "
                          "comments.csv, participants-votes.csv, summary.csv (and votes.csv "
                          "for the vote history)")
    from accord.accounts import write_session

    cfg = _config(project, config, participation)
    # Write lock first (SQLite): a concurrent import of the same name waits, then gets
    # "already exists" instead of "database is locked".
    with _store(project) as store, write_session(store) as session:
        row = import_opendata(session, directory, name=name, config=cfg)
        label, n, note = row.name, _counts(session, row), import_note(row)
        source = config_of_row(row).source
    _echo(f"imported {directory} as deliberation '{label}': {n}")
    if source is not None and source.xids:
        _echo(f"kept {len(source.xids)} participants' external ids (xid)")
    if source is not None and source.stats_history is not None:
        _echo(f"kept stats-history.csv ({source.stats_history['rows']} rows, "
              f"{len(source.stats_history['points'])} points of its curve)")
    if note:
        _echo(note)


def _counts(session: Any, row: Any) -> str:
    from sqlalchemy import func, select

    from accord.deliberate import (
        DeliberationParticipant,
        DeliberationStatement,
        DeliberationVoteEvent,
    )

    def count(model: Any) -> int:
        return session.scalar(select(func.count()).select_from(model).where(
            model.deliberation_id == row.id)) or 0

    return (f"{count(DeliberationStatement)} statements, {count(DeliberationParticipant)} "
            f"participants, {count(DeliberationVoteEvent)} votes (history)")


@deliberate_app.command("create")
def create_cmd(name: NameArg,
               question: Annotated[str, typer.Option("--question", help="What participants "
                                                     "deliberate on.")],
               statement: Annotated[list[str] | None, typer.Option(
                   "--statement", metavar="TEXT", help="A seed statement (repeatable).")]
               = None,
               description: Annotated[str, typer.Option(help="Longer framing.")] = "",
               project: ProjectOpt = Path("."), config: ConfigOpt = None,
               participation: ParticipationOpt = None) -> None:
    """Start a new deliberation with seed statements."""
    from accord.deliberate import create_deliberation

    cfg = _config(project, config, participation)
    with _store(project) as store, store.session() as session:
        row = create_deliberation(session, name, question, description=description,
                                  config=cfg, seed_statements=statement or [])
        summary = f"created deliberation '{row.name}' ({cfg.participation}): " + _counts(
            session, row)
    _echo(summary)


@deliberate_app.command("configure")
def configure_cmd(name: NameArg, config: Annotated[Path, typer.Option("--config", help="New "
                                                                      "settings, YAML or JSON.")],
                  project: ProjectOpt = Path(".")) -> None:
    """Replace a deliberation's settings."""
    from accord.deliberate import get_deliberation, set_config

    cfg = _config(project, config, None)
    with _store(project) as store, store.session() as session:
        set_config(session, get_deliberation(session, name), cfg)
    _echo(f"deliberation '{name}': settings replaced")


@deliberate_app.command("list")
def list_cmd(project: ProjectOpt = Path(".")) -> None:
    """List deliberations."""
    from accord.deliberate import list_deliberations

    with _store(project) as store, store.session() as session:
        for row in list_deliberations(session):
            state = "open" if row.is_open else "closed"
            _echo(f"{row.name}\t{state}\t{_counts(session, row)}\t{row.question}")


@deliberate_app.command("analyze")
def analyze_cmd(name: NameArg, project: ProjectOpt = Path("."),
                as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
                seed: Annotated[int | None, typer.Option(min=0, help="Default: the "
                                                         "config's.")] = None,
                single: Annotated[bool, typer.Option("--single", help="One update on all "
                                                     "votes instead of replaying the "
                                                     "history.")] = False,
                max_updates: Annotated[int | None, typer.Option(min=1, help="Replay at most "
                                                                "this many updates.")] = None,
                exclude_bulk: Annotated[bool | None, typer.Option(
                    "--exclude-bulk/--include-bulk", help="Leave bulk voters out.")] = None,
                ) -> None:
    """Opinion groups (participant ids as in the source data), representative statements,
    consensus, bridging scores, and parity with the source's own groups."""
    from accord.deliberate import (
        analyze_deliberation,
        get_deliberation,
        public_analysis,
        source_parity,
    )

    with _store(project) as store, store.session() as session:
        row = get_deliberation(session, name)
        stored = analyze_deliberation(session, row, seed=seed, history=False if single else None,
                                      max_updates=max_updates, exclude_bulk=exclude_bulk)
    parity = source_parity(stored)
    if as_json:
        _echo(json.dumps({"name": name, "parity": parity, **public_analysis(stored)},
                         ensure_ascii=False))
        return
    _echo(_render(name, stored, parity))


def _render(name: str, stored: Any, parity: dict[str, Any] | None) -> str:
    a, conv = stored.analysis, stored.conversation
    text = {s.id: s.text for s in conv.statements.values()}
    in_groups = sum(len(g.participant_ids) for g in a.groups)
    lines = [f"deliberation '{name}': {len(a.participants)} voters ({in_groups} in groups), "
             f"{len(a.statements)} statements voted on, {len(conv.votes)} votes; "
             f"{a.method} ({a.n_updates} updates), seed {a.seed}"]
    if parity is not None:
        ari = "n/a" if parity["ari"] is None else f"{parity['ari']:.3f}"
        lines.append(f"parity with the source's groups: ARI {ari} over {parity['participants']}"
                     f" participants; {parity['groups']} groups here, "
                     f"{parity['source_groups']} in the source")
    if stored.weighting_note:
        lines.append(stored.weighting_note)
    for g in a.groups:
        lines.append(f"\ngroup {g.id} ({len(g.participant_ids)} participants):")
        lines += textwrap.wrap(", ".join(map(str, g.participant_ids)), 100,
                               initial_indent="  ", subsequent_indent="  ")
        for r in g.representative:
            lines.append(f"  {r.direction:8} {r.statement_id:>5}  {r.p_success:.0%} of group, "
                         f"z {r.p_test:.2f}, repness {r.repness:.2f}  "
                         f"{_short(text.get(r.statement_id, ''))}")
    for direction in ("agree", "disagree"):
        lines.append(f"\nconsensus ({direction}):")
        for c in a.consensus.get(direction, []):
            lines.append(f"  {c.statement_id:>5}  {c.p_success:.0%}  "
                         f"{_short(text.get(c.statement_id, ''))}")
    scored = sorted((s for s in a.statements if s.bridging is not None and not s.moderated_out),
                    key=lambda s: -s.bridging.intercept)
    lines.append("\nbridging (top 10; intercept, 95 % interval) and group-informed consensus:")
    for s in scored[:10]:
        b = s.bridging
        lines.append(f"  {s.id:>5}  {b.intercept:+.3f} [{b.low:+.3f}, {b.high:+.3f}]  "
                     f"gic {s.group_informed_consensus:.3f}  {_short(s.text)}")
    return "\n".join(lines)


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


@deliberate_app.command("export")
def export_cmd(name: NameArg, directory: Annotated[Path, typer.Argument(help="Folder to "
                                                                       "write.")],
               project: ProjectOpt = Path("."),
               accord_groups: Annotated[bool, typer.Option(
                   "--accord-groups", help="Write Accord's opinion groups as group-id "
                   "(default: the source's).")] = False) -> None:
    """Export as a Polis openData folder (demographics never leave the store)."""
    from accord.deliberate import analyze_deliberation, export_opendata, get_deliberation

    with _store(project) as store, store.session() as session:
        groups = None
        if accord_groups:
            groups = analyze_deliberation(session, get_deliberation(session, name)
                                          ).analysis.group_of()
        export_opendata(session, name, directory, groups=groups)
    _echo(f"exported deliberation '{name}' to {directory}")


@deliberate_app.command("moderate")
def moderate_cmd(name: NameArg, statement: Annotated[int, typer.Argument(help="Statement "
                                                                         "number.")],
                 state: Annotated[str, typer.Argument(help="accepted, rejected, meta or "
                                                      "unmoderated.")],
                 project: ProjectOpt = Path(".")) -> None:
    """Accept, reject or mark a statement meta."""
    from accord.deliberate import get_deliberation, moderate

    with _store(project) as store, store.session() as session:
        moderate(session, get_deliberation(session, name), statement, state)
    _echo(f"statement {statement} of '{name}' is now {state}")


register_ratification(deliberate_app, _store)


def provenance_command(
        model: Annotated[str, typer.Argument(help="A model version's name "
                                             "(see `accord model lineage`).")],
        project: ProjectOpt = Path("."),
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The chain behind a model version: the deliberations and statements (vote shares per
    group) ratified into its spec version, the spec diff, the data sets and rewards that
    trained it, its lineage, and its meter results and published audits."""
    from accord.deliberate import model_provenance, model_provenance_lines

    with _store(project) as store, store.session() as session:
        data = model_provenance(session, model)
    if as_json:
        _echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    _echo("\n".join(model_provenance_lines(data)))
