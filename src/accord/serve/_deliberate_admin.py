"""Deliberation admin pages: create a deliberation, moderate statements (``moderate``),
and ratify (``admin``): find the statements that pass the thresholds, draft the spec
change each supports, ratify it into a new spec version, or reject it."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from accord.accounts import ADMIN, MODERATE
from accord.deliberate import (
    KINDS,
    MODERATION_STATES,
    DeliberationStatement,
    add_statement,
    config_of_row,
    create_deliberation,
    draft,
    get_deliberation,
    get_proposal,
    list_deliberations,
    list_proposals,
    moderate,
    parse_change_text,
    parse_config,
    propose,
    provenance_lines,
    ratify,
    reject,
    vote_counts,
)
from accord.errors import AccordError
from accord.serve._db import reading, writing
from accord.serve._inputs import Id, Number, form_int
from accord.serve._permissions import Viewer, guard
from accord.serve._render import redirect, render
from accord.store import SpecVersion

router = APIRouter()


def _templates(text: str) -> dict[str, str]:
    """A starting point for each kind of change, quoting the statement it comes from."""
    quoted = text.replace('"', "'")
    return {
        "principle": (f'id: new_principle\ntext: "{quoted}"\ncritique: Does the response '
                      "follow this principle? Explain.\nrevision: Rewrite the response so it "
                      "follows this principle.\ncomparison: Which response follows this "
                      "principle better?\n"),
        "default": f'id: new_default\ndescription: "{quoted}"\n# option: tone\n# value: neutral\n',
        "bound": (f'id: new_bound\ndescription: "{quoted}"\ncheck:\n  proposition: '
                  "helps_with_harm\n  threshold: 0.5\nsafe_completion: I can't help with "
                  "that.\n"),
        "option": (f'id: new_option\ndescription: "{quoted}"\nvalues: [off, on]\n'
                   "default: off\n"),
    }


def _yaml_text(item: dict[str, Any] | None) -> str:
    if not item:
        return ""
    from ruamel.yaml import YAML

    out = io.StringIO()
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.dump(item, out)
    return out.getvalue()


def _project_spec_dir(request: Request) -> str:
    """The served project's spec folder, if it exists (``app.state.spec_dir``, set by
    ``accord serve``; an app made without a project has none)."""
    folder: Path | None = request.app.state.spec_dir
    return str(folder) if folder is not None and folder.is_dir() else ""


def allowed_spec_dir(request: Request, raw: str) -> str | None:
    """The spec folder an admin's form may name: empty means the project's own; anything
    else must be a folder inside the served project (symbolic links resolved), so a web
    form can never make ratification rewrite files elsewhere on the machine.

    Args:
        request: the form's request (``app.state.spec_dir``, ``app.state.project_root``).
        raw: what the form's ``spec_dir`` field held; relative to the project folder.

    Raises:
        AccordError: outside the project, not a folder, or the server has no project.
    """
    spec: Path | None = request.app.state.spec_dir
    root: Path | None = getattr(request.app.state, "project_root", None)
    if not raw.strip():
        return str(spec) if spec is not None and spec.is_dir() else None
    inside = [p.resolve() for p in (root, spec) if p is not None]
    if not inside:
        raise AccordError("spec_dir: this server serves no project, so a ratified change "
                          "has nowhere it may be written; leave the field empty (set a "
                          "spec folder with `accord deliberate configure`)")
    if "\x00" in raw:
        raise AccordError("spec_dir: contains a NUL character")
    path = Path(raw.strip()).expanduser()
    resolved = (path if path.is_absolute() else inside[0] / path).resolve()
    if not any(resolved == base or resolved.is_relative_to(base) for base in inside):
        raise AccordError(f"spec_dir: {raw.strip()!r} is outside the project "
                          f"({inside[0]}); a deliberation's ratified changes may only be "
                          "written into a spec folder inside the project")
    if not resolved.is_dir():
        raise AccordError(f"spec_dir: {raw.strip()!r} is not a folder inside the project")
    return str(resolved)


@router.get("/admin/deliberations")
def admin_deliberations(request: Request, viewer: Viewer = guard(MODERATE)) -> Response:
    with reading(request) as session:
        rows = []
        for r in list_deliberations(session):
            waiting = session.scalars(select(DeliberationStatement.number).where(
                DeliberationStatement.deliberation_id == r.id,
                DeliberationStatement.moderation == "unmoderated")).all()
            rows.append((r.name, r.question, config_of_row(r).participation, len(waiting)))
    return render(request, "deliberate_admin_list.html", deliberations=rows,
                  spec_dir=_project_spec_dir(request))


def _float(form: Any, key: str, default: float) -> float:
    raw = str(form.get(key, "")).strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise AccordError(f"{key}: {raw!r} is not a number") from None
    if not math.isfinite(value):  # nan and inf pass float() but no threshold is either
        raise AccordError(f"{key}: {raw!r} is not a finite number")
    return value


@router.post("/admin/deliberations")
async def admin_create(request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
    form = await request.form()
    name = str(form.get("name", "")).strip()
    config = parse_config({
        "participation": str(form.get("participation", "accounts")),
        "spec_dir": allowed_spec_dir(request, str(form.get("spec_dir", ""))),
        "thresholds": {"min_group_agree": _float(form, "min_group_agree", 0.7),
                       "min_votes": form_int(form, "min_votes", low=0, default=10),
                       "min_group_votes": form_int(form, "min_group_votes", low=0,
                                                   default=3)}},
        "the form")
    seeds = [line for line in str(form.get("statements", "")).splitlines() if line.strip()]

    def save() -> None:
        with writing(request) as session:
            create_deliberation(session, name, str(form.get("question", "")),
                                description=str(form.get("description", "")), config=config,
                                seed_statements=seeds, created_by=viewer.user_id)

    await run_in_threadpool(save)
    return redirect(f"/admin/deliberations/{name}")


@router.get("/admin/deliberations/{name}")
def admin_moderation(name: str, request: Request, viewer: Viewer = guard(MODERATE)
                     ) -> Response:
    """Every statement, those waiting for moderation first."""
    with reading(request) as session:
        row = get_deliberation(session, name)
        counts = vote_counts(session, row)
        statements = session.scalars(select(DeliberationStatement).where(
            DeliberationStatement.deliberation_id == row.id)).all()
        listed = sorted((s.moderation != "unmoderated", s.number, s.text, s.moderation,
                          s.is_seed, counts.get(s.number, (0, 0, 0))) for s in statements)
    return render(request, "deliberate_moderate.html", row=row, statements=listed,
                  states=MODERATION_STATES)


@router.post("/admin/deliberations/{name}/statements/{number}/moderation")
async def admin_moderate(name: str, number: Number, request: Request,
                         viewer: Viewer = guard(MODERATE)) -> Response:
    form = await request.form()

    def save() -> None:
        with writing(request) as session:
            moderate(session, get_deliberation(session, name), number,
                     str(form.get("state", "")), viewer.user_id)

    await run_in_threadpool(save)
    return redirect(f"/admin/deliberations/{name}#s{number}")


@router.post("/admin/deliberations/{name}/statements")
async def admin_seed(name: str, request: Request, viewer: Viewer = guard(MODERATE)) -> Response:
    form = await request.form()

    def save() -> None:
        with writing(request) as session:
            add_statement(session, get_deliberation(session, name), str(form.get("text", "")),
                          author=None, seed=True)

    await run_in_threadpool(save)
    return redirect(f"/admin/deliberations/{name}")


@router.get("/admin/deliberations/{name}/ratification")
def admin_ratification(name: str, request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
    """Proposals with their tallies, a draft form for each, and the spec versions."""
    with reading(request) as session:
        row = get_deliberation(session, name)
        cfg = config_of_row(row)
        proposals = []
        for p in list_proposals(session, row):
            first = p.tallies.get(str(p.statement_numbers[0]), {})
            version = session.get(SpecVersion, p.spec_version_id) if p.spec_version_id else None
            proposals.append({
                "row": p, "tallies": p.tallies, "change_text": _yaml_text(p.change),
                "templates": _templates(first.get("text", "")),
                "version": version.version if version else None,
                "provenance": provenance_lines(list(version.provenance)) if version else []})
        specs = session.execute(select(SpecVersion.version, SpecVersion.name,
                                       SpecVersion.provenance, SpecVersion.created_at)
                                .order_by(SpecVersion.id.desc()).limit(10)).all()
    return render(request, "deliberate_ratify.html", row=row, cfg=cfg, proposals=proposals,
                  kinds=list(KINDS), specs=specs)


@router.post("/admin/deliberations/{name}/proposals")
def admin_propose(name: str, request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
    with writing(request) as session:
        propose(session, get_deliberation(session, name))
    return redirect(f"/admin/deliberations/{name}/ratification")


def _owner(session: Any, proposal_id: int) -> tuple[Any, str]:
    from accord.deliberate import Deliberation

    proposal = get_proposal(session, proposal_id)
    row = session.get(Deliberation, proposal.deliberation_id)
    return proposal, row.name


@router.post("/admin/proposals/{proposal_id}/draft")
async def admin_draft(proposal_id: Id, request: Request, viewer: Viewer = guard(ADMIN)
                      ) -> Response:
    form = await request.form()
    item = parse_change_text(str(form.get("change", "")), "the change")

    def save() -> str:
        with writing(request) as session:
            proposal, name = _owner(session, proposal_id)
            assert viewer.account is not None
            draft(session, proposal, str(form.get("kind", "")), item,
                  by=viewer.account.username, summary=str(form.get("summary", "")))
            return name

    name = await run_in_threadpool(save)
    return redirect(f"/admin/deliberations/{name}/ratification#p{proposal_id}")


@router.post("/admin/proposals/{proposal_id}/ratify")
def admin_ratify(proposal_id: Id, request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
    with writing(request) as session:
        proposal, name = _owner(session, proposal_id)
        assert viewer.account is not None
        ratify(session, proposal, by=viewer.account.username)
    return redirect(f"/admin/deliberations/{name}/ratification#p{proposal_id}")


@router.post("/admin/proposals/{proposal_id}/reject")
def admin_reject(proposal_id: Id, request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
    with writing(request) as session:
        proposal, name = _owner(session, proposal_id)
        assert viewer.account is not None
        reject(session, proposal, by=viewer.account.username)
    return redirect(f"/admin/deliberations/{name}/ratification#p{proposal_id}")
