"""Deliberation pages: vote on one statement at a time, submit statements, share opt-in
demographics, read the results (opinion map, groups, consensus, bridging); admins moderate
and turn statements with broad support into spec changes (see _deliberate_admin.py).

Who may take part depends on the deliberation: ``accounts`` needs the ``deliberate``
permission (checked here on top of the route's guard), ``anonymous`` lets anyone in with
a random token in a cookie (only its salted hash is stored). Plain forms that work
without JavaScript; static/deliberate.js adds the keys.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accord.accounts import DELIBERATE, PUBLIC
from accord.deliberate import (
    ACCOUNTS,
    DEMOGRAPHICS_CONSENT,
    Deliberation,
    analyze_deliberation,
    cast_vote,
    config_of_row,
    find_participant,
    get_deliberation,
    has_demographics,
    import_note,
    join,
    list_deliberations,
    next_statement,
    record_demographics,
    results_view,
    withdraw_demographics,
)
from accord.errors import AccordError
from accord.serve._db import reading, writing
from accord.serve._deliberate_admin import router as admin_router
from accord.serve._inputs import QueryCount, form_int
from accord.serve._permissions import Denied, Viewer, guard
from accord.serve._render import STATIC_DIR, redirect, render

router = APIRouter()
router.include_router(admin_router)
PARTICIPANT_COOKIE = "accord_participant"
_STATIC = {"deliberate.js": "text/javascript", "deliberate.css": "text/css"}
# Routing needs each statement's place in the opinion map; recomputed at most this often.
_EXTREMITY_TTL_S = 20.0
_extremity_cache: dict[tuple[str, int], tuple[float, dict[int, float]]] = {}
_extremity_lock = threading.Lock()


@router.get("/deliberate-static/{name}")
def deliberate_static(name: str, viewer: Viewer = guard(PUBLIC)) -> Response:
    if name not in _STATIC:  # a fixed list: no path ever reaches the file system
        return Response("not found", status_code=404)
    return FileResponse(STATIC_DIR / name, media_type=_STATIC[name],
                        headers={"Cache-Control": "no-cache"})


def _may_take_part(viewer: Viewer, row: Deliberation) -> None:
    if config_of_row(row).participation != ACCOUNTS or viewer.can(DELIBERATE):
        return
    if viewer.account is None:
        raise Denied(401, "sign in to take part")
    raise Denied(403, f"deliberation {row.name!r} is for participants; your account needs "
                      f"the {DELIBERATE!r} permission (an admin can give it the participant "
                      "role)")


def _identity(request: Request, viewer: Viewer, row: Deliberation) -> dict[str, Any]:
    if config_of_row(row).participation == ACCOUNTS:
        return {"user_id": viewer.user_id}
    return {"token": request.cookies.get(PARTICIPANT_COOKIE) or None}


def _with_token(request: Request, viewer: Viewer, row: Deliberation) -> tuple[dict[str, Any],
                                                                              str]:
    """The participant's identity for a write, minting an anonymous token if needed."""
    who = _identity(request, viewer, row)
    fresh = ""
    if "token" in who and not who["token"]:
        fresh = who["token"] = secrets.token_urlsafe(32)
    return who, fresh


def _set_token(request: Request, response: Response, token: str) -> Response:
    if token:
        response.set_cookie(PARTICIPANT_COOKIE, token, httponly=True, samesite="lax",
                            secure=request.app.state.secure_cookies, path="/deliberations",
                            max_age=400 * 24 * 3600)
    return response


def _extremity(session: Session, row: Deliberation) -> dict[int, float]:
    """Each statement's distance from the centre of the opinion map (Polis's extremity),
    from a single-update analysis of the votes so far."""
    key = (str(session.get_bind().url), row.id)
    with _extremity_lock:
        hit = _extremity_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < _EXTREMITY_TTL_S:
        return hit[1]
    try:
        stored = analyze_deliberation(session, row, history=False, bridging=False)
        found = {s.id: math.hypot(s.x, s.y) for s in stored.analysis.statements}
    except AccordError:  # no votes yet: every statement is as informative
        found = {}
    with _extremity_lock:
        _extremity_cache[key] = (time.monotonic(), found)
    return found


@router.get("/deliberations")
def deliberations_page(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    with reading(request) as session:
        rows = [(r.name, r.question, r.is_open, config_of_row(r).participation)
                for r in list_deliberations(session)]
    return render(request, "deliberate_list.html", deliberations=rows)


@router.get("/deliberations/{name}")
def vote_page(name: str, request: Request, submitted: QueryCount | None = None,
              viewer: Viewer = guard(PUBLIC)) -> Response:
    """The next statement to vote on (Polis's routing), and the form to add one."""
    with reading(request) as session:
        row = get_deliberation(session, name)
        _may_take_part(viewer, row)
        cfg = config_of_row(row)
        participant = find_participant(session, row, **_identity(request, viewer, row))
        statement, done, total = next_statement(session, row, participant,
                                                _extremity(session, row))
        context = {"row": row, "statement": statement, "done": done, "total": total,
                   "submitted": submitted, "max_length": cfg.max_statement_length,
                   "asks_demographics": bool(cfg.demographic_targets),
                   "shared": has_demographics(session, participant)}
    return render(request, "deliberate_vote.html", **context)


@router.post("/deliberations/{name}/vote")
async def vote(name: str, request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    form = await request.form()
    number = form_int(form, "statement", low=0)
    choice = str(form.get("vote", ""))

    def save() -> str:
        with writing(request) as session:
            row = get_deliberation(session, name)
            _may_take_part(viewer, row)
            who, fresh = _with_token(request, viewer, row)
            cast_vote(session, row, join(session, row, **who), number, choice)
            return fresh

    fresh = await run_in_threadpool(save)
    return _set_token(request, redirect(f"/deliberations/{name}"), fresh)


@router.post("/deliberations/{name}/statements")
async def submit_statement(name: str, request: Request,
                           viewer: Viewer = guard(PUBLIC)) -> Response:
    form = await request.form()
    text = str(form.get("text", ""))

    def save() -> tuple[int, str]:
        from accord.deliberate import add_statement

        with writing(request) as session:
            row = get_deliberation(session, name)
            _may_take_part(viewer, row)
            who, fresh = _with_token(request, viewer, row)
            statement = add_statement(session, row, text, author=join(session, row, **who))
            return statement.number, fresh

    number, fresh = await run_in_threadpool(save)
    return _set_token(request, redirect(f"/deliberations/{name}?submitted={number}"), fresh)


@router.get("/deliberations/{name}/about-you")
def about_you_page(name: str, request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    """Opt-in demographics, used only to weight the results (never shown one by one)."""
    with reading(request) as session:
        row = get_deliberation(session, name)
        _may_take_part(viewer, row)
        participant = find_participant(session, row, **_identity(request, viewer, row))
        context = {"row": row, "targets": config_of_row(row).demographic_targets,
                   "shared": has_demographics(session, participant),
                   "consent_text": DEMOGRAPHICS_CONSENT}
    return render(request, "deliberate_about.html", **context)


@router.post("/deliberations/{name}/about-you")
async def about_you(name: str, request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    form = await request.form()

    def save() -> str:
        with writing(request) as session:
            row = get_deliberation(session, name)
            _may_take_part(viewer, row)
            targets = config_of_row(row).demographic_targets
            answers = {v: str(form.get(f"d.{v}", "")) for v in targets}
            who, fresh = _with_token(request, viewer, row)
            record_demographics(session, row, join(session, row, **who), answers,
                                consent=form.get("consent") == "yes")
            return fresh

    fresh = await run_in_threadpool(save)
    return _set_token(request, redirect(f"/deliberations/{name}/about-you"), fresh)


@router.post("/deliberations/{name}/about-you/withdraw")
def about_you_withdraw(name: str, request: Request, viewer: Viewer = guard(PUBLIC)
                       ) -> Response:
    with writing(request) as session:
        row = get_deliberation(session, name)
        _may_take_part(viewer, row)
        participant = find_participant(session, row, **_identity(request, viewer, row))
        if participant is not None:
            withdraw_demographics(session, participant)
    return redirect(f"/deliberations/{name}/about-you")


@router.get("/deliberations/{name}/results")
def results_page(name: str, request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    """The opinion map, groups, consensus (weighted and not), bridging: public."""
    with reading(request) as session:
        row = get_deliberation(session, name)
        cfg = config_of_row(row)
        try:
            view = results_view(analyze_deliberation(session, row), cfg)
            view["import_note"] = import_note(row)
        except AccordError as exc:
            if "no votes" not in str(exc):
                raise
            view = None
    return render(request, "deliberate_results.html", row=row, view=view)


@router.get("/provenance/{model}")
def provenance_page(model: str, request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    """The chain behind a model version, from the votes to the measurements: public."""
    from accord.deliberate import model_provenance

    with reading(request) as session:
        data = model_provenance(session, model)
    return render(request, "provenance.html", data=data)
