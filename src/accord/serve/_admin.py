"""Admin pages: batches (create, progress, agreement, reviewer quality), adjudication of
items reviewers disagreed on, the guideline-clarity report, exports to training sets, and
accounts. No admin page shows survey answers."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from accord.accounts import ADMIN, ROLES, create_user, generate_password, list_users
from accord.errors import AccordError
from accord.review import (
    adjudicate,
    batch_agreement,
    batch_progress,
    batch_spec,
    create_batch,
    disagreements,
    get_batch,
    gold_from_spec_examples,
    reviewer_quality,
)
from accord.serve._db import reading, writing
from accord.serve._inputs import Id, form_int, parse_int
from accord.serve._permissions import Viewer, guard
from accord.serve._queries import batch_list, model_versions, spec_versions
from accord.serve._render import redirect, render
from accord.serve._review_reports import (
    EXPORT_FILES,
    batch_choices,
    batch_clarity,
    export_file,
    list_exports,
    parse_filters,
    rating_batches_by_version,
    run_export,
    version_comparison,
)
from accord.store import NotFoundError, get_spec_version

router = APIRouter(prefix="/admin")



@router.get("")
def admin_home(request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
    with reading(request) as session:
        context = {"batches": batch_list(session), "models": model_versions(session),
                   "specs": spec_versions(session)}
    return render(request, "admin.html", **context)


@router.post("/batches")
async def admin_create_batch(request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
    form = await request.form()

    def create() -> int:
        with writing(request) as session:
            spec_row = get_spec_version(session, str(form.get("spec_version", "")))
            kind = str(form.get("kind", "rating"))
            gold = (gold_from_spec_examples(session, spec_row)
                    if form.get("gold_examples") == "yes" and kind == "rating" else [])
            return create_batch(
                session, name=str(form.get("name", "")).strip() or "batch", kind=kind,
                model_version=str(form.get("model_version", "")), spec_version=spec_row,
                prompts=form_int(form, "prompts", low=0),
                overlap=form_int(form, "overlap", low=0),
                completions_per_prompt=form_int(form, "completions_per_prompt", low=0),
                seed=form_int(form, "seed"), gold=gold, created_by=viewer.user_id).id

    return redirect(f"/admin/batches/{await run_in_threadpool(create)}")


@router.get("/batches/{batch_id}")
def admin_batch(batch_id: Id, request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
    with reading(request) as session:
        batch = get_batch(session, batch_id)
        spec_row, spec = batch_spec(session, batch)
        context = {
            "batch": batch, "spec_version": spec_row.version,
            "categories": {c.id: c for c in spec.guidelines.categories},
            "progress": batch_progress(session, batch_id),
            "agreement": batch_agreement(session, batch_id),
            "reviewers": reviewer_quality(session, batch_id),
            "disagreements": disagreements(session, batch_id),
        }
    return render(request, "admin_batch.html", **context)


@router.post("/items/{item_id}/adjudication")
async def admin_adjudicate(item_id: Id, request: Request,
                           viewer: Viewer = guard(ADMIN)) -> Response:
    form = await request.form()
    category = str(form.get("category", ""))
    raw = str(form.get("value", "")).strip()
    try:  # flags and rankings come as JSON lists; Likert as a number; binary as text
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw

    def save() -> int:
        with writing(request) as session:
            row = adjudicate(session, item_id, category, value, viewer.user_id,
                             note=str(form.get("note", "")))
            from accord.review import ReviewItem

            item = session.get(ReviewItem, row.item_id)
            assert item is not None
            return item.batch_id

    batch_id = await run_in_threadpool(save)
    return redirect(f"/admin/batches/{batch_id}#item-{item_id}")


@router.get("/users")
def admin_users(request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
    with reading(request) as session:
        users = [(u.username, roles, u.is_simulated, u.is_active)
                 for u, roles in list_users(session)]
    return render(request, "users.html", users=users, roles=list(ROLES), created=None)


@router.post("/users")
async def admin_create_user(request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
    """Create an account with a one-time password shown once on this page (not logged)."""
    form = await request.form()
    username, role = str(form.get("username", "")).strip(), str(form.get("role", "reviewer"))
    password = generate_password()

    def save() -> list[Any]:
        with writing(request) as session:
            create_user(session, username, password, [role], one_time=True)
            return [(u.username, roles, u.is_simulated, u.is_active)
                    for u, roles in list_users(session)]

    users = await run_in_threadpool(save)
    return render(request, "users.html", users=users, roles=list(ROLES),
                  created=(username, password))


@router.get("/clarity")
def admin_clarity_index(request: Request, a: str = "", b: str = "",
                        viewer: Viewer = guard(ADMIN)) -> Response:
    """Rating batches by guideline version, and (with ``a`` and ``b``) the comparison of
    two versions: does the new text raise agreement?"""
    with reading(request) as session:
        versions = rating_batches_by_version(session)
        compared = version_comparison(session, a, b) if a and b else None
    return render(request, "admin_clarity_index.html", versions=versions, a=a, b=b,
                  compared=compared)


@router.get("/batches/{batch_id}/clarity")
def admin_batch_clarity(batch_id: Id, request: Request,
                        top: Annotated[int, Query(ge=1, le=1000)] = 5,
                        viewer: Viewer = guard(ADMIN)) -> Response:
    """Categories ranked by agreement, the most-disagreed items with every reviewer's
    answer and note, and α per category for the batch."""
    with reading(request) as session:
        batch = get_batch(session, batch_id)
        clarity = batch_clarity(session, batch_id, top_items=max(1, min(top, 50)))
        agreement = batch_agreement(session, batch_id)
    return render(request, "admin_clarity.html", batch=batch, clarity=clarity,
                  report=clarity.report, agreement=agreement, top=top)


def _export_root(request: Request) -> Any:
    return getattr(request.app.state, "export_root", None)


@router.get("/exports")
def admin_exports(request: Request, created: str = "",
                  viewer: Viewer = guard(ADMIN)) -> Response:
    return _exports_page(request, created=created)


def _exports_page(request: Request, *, created: str = "", error: str = "",
                  form: Any = None, status: int = 200) -> Response:
    from accord.review import PreferenceFilters, SFTFilters

    with reading(request) as session:
        batches = batch_choices(session)
    root = _export_root(request)
    defaults = {"sft": SFTFilters().to_dict(), "preference": PreferenceFilters().to_dict()}
    return render(request, "admin_exports.html", status=status, batches=batches,
                  exports=list_exports(root), root=root, created=created, error=error,
                  defaults=defaults, form=form or {}, files=list(EXPORT_FILES))


@router.post("/exports")
async def admin_export(request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
    """Write an SFT or preference export as ``accord review export`` does; it is listed on
    the page, its manifest records spec version, batches, filters and who exported it."""
    form = await request.form()
    root = _export_root(request)
    kind = str(form.get("kind", "sft"))

    def export() -> str:
        if root is None:
            raise AccordError("this server was started without a project folder, so it has "
                              "nowhere to keep exports; start it with accord serve -p PROJECT "
                              "or use: accord review export")
        batch_ids = [parse_int(str(raw), "batch", low=1) for raw in form.getlist("batch")]
        filters = parse_filters(kind, form)
        with reading(request) as session:
            return run_export(session, batch_ids, kind, filters, root,
                              viewer.account.username if viewer.account else "")[0]

    try:
        name = await run_in_threadpool(export)
    except AccordError as exc:
        shown = {k: form.getlist(k) if k == "batch" else form.get(k) for k in form}
        return _exports_page(request, error=str(exc), form=shown, status=422)
    return redirect(f"/admin/exports?created={name}#export-{name}")


@router.get("/exports/{name}/{filename}")
def admin_export_download(name: str, filename: str, request: Request,
                          viewer: Viewer = guard(ADMIN)) -> Response:
    """One file of a listed export (data.jsonl, manifest.json, sources.jsonl)."""
    path = export_file(_export_root(request), name, filename)
    if path is None:
        raise NotFoundError(f"no export file {name}/{filename}; the exports are listed at "
                            "/admin/exports")
    return FileResponse(path, media_type=EXPORT_FILES[filename],
                        filename=f"{name}-{filename}")
