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


PAGE_SIZE = 20
# Krippendorff's usual reading of α: below 0.667 discard, up to 0.8 tentative, above reliable.
ALPHA_BANDS = ((0.8, "reliable", "good"), (0.667, "tentative", "fair"),
               (float("-inf"), "too low to rely on", "poor"))


def alpha_band(alpha: float | None) -> tuple[str, str]:
    """(reading, css class) of an α value; ("undefined", "none") for None.

    Args:
        alpha: Krippendorff's α, or None when it is undefined.
    """
    if alpha is None:
        return "undefined", "none"
    return next((word, cls) for low, word, cls in ALPHA_BANDS if alpha >= low)


def category_label(category_id: str, categories: dict[str, Any]) -> str:
    """What people read for a category id: ``issues:factual_error`` → ``issues: Factual
    error`` (the flag's own label), ``over_refusal`` → ``over refusal``.

    Args:
        category_id: A category id, or ``category:flag`` for one flag of a flags category.
        categories: The batch's spec categories by id.
    """
    base, _, flag = category_id.partition(":")
    words = base.replace("_", " ")
    if not flag:
        return words
    scale = getattr(categories.get(base), "scale", None)
    options = {o.id: o.label for o in getattr(scale, "options", [])}
    return f"{words}: {options.get(flag, flag.replace('_', ' '))}"


def answer_label(category: Any, value: Any) -> str:
    """A reviewer's answer as the label they chose (``2 · Slightly``, ``Factual error``).

    Args:
        category: The spec category (None for a ranking or an unknown category).
        value: The stored answer.
    """
    if value is None:
        return "—"
    scale = getattr(category, "scale", None)
    kind = getattr(scale, "type", "")
    if kind == "likert":
        return f"{value} · {scale.points.get(int(value), '')}".rstrip(" ·")
    if kind == "binary":
        return f"{value}: {getattr(scale.labels, str(value), '')}".rstrip(": ")
    if kind == "flags":
        options = {o.id: o.label for o in scale.options}
        return ", ".join(options.get(v, v) for v in value) if value else "none"
    if isinstance(value, list):  # a ranking: tiers of completion ids, best first
        return " > ".join(" = ".join(f"#{c}" for c in tier) for tier in value)
    return str(value)


def disagreement_degree(category: Any, values: list[Any]) -> float:
    """How much reviewers disagree on one category of one item: 0 (all agree) to 1.

    Likert: the spread of the points over the scale's width; anything else: the share of
    reviewers outside the most common answer, over the most that share can be.

    Args:
        category: The spec category (None for a ranking).
        values: Each reviewer's answer (missing ones left out).
    """
    if len(values) < 2:
        return 0.0
    scale = getattr(category, "scale", None)
    if getattr(scale, "type", "") == "likert":
        points = sorted(scale.points)
        width = points[-1] - points[0] or 1
        numbers = [int(v) for v in values]
        return (max(numbers) - min(numbers)) / width
    counts: dict[str, int] = {}
    for value in values:
        key = json.dumps(value, sort_keys=True)
        counts[key] = counts.get(key, 0) + 1
    n = len(values)
    # 1 - 1/n is the share outside the most common answer when every answer differs.
    return (1 - max(counts.values()) / n) / (1 - 1 / n)


def _disagreement_rows(found: list[dict[str, Any]], categories: dict[str, Any]
                       ) -> list[dict[str, Any]]:
    rows = []
    for d in found:
        degrees = {}
        for cat in d["categories"]:
            category = categories.get(cat)
            values = [a if cat == "ranking" else a.get(cat) for _, a in d["answers"]]
            degrees[cat] = disagreement_degree(category, [v for v in values if v is not None])
        rows.append({**d, "degrees": degrees, "degree": max(degrees.values(), default=0.0),
                     "open": [c for c in d["categories"] if c not in d["adjudicated"]]})
    # Most disagreement first; among equals, more split categories first, then item order.
    rows.sort(key=lambda r: (-r["degree"], -len(r["categories"]), r["item_id"]))
    return rows


@router.get("/batches/{batch_id}")
def admin_batch(batch_id: Id, request: Request, viewer: Viewer = guard(ADMIN),
                category: Annotated[str, Query(max_length=200)] = "",
                status: Annotated[str, Query(pattern="^(open|decided|all)$")] = "open",
                page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                size: Annotated[int, Query(ge=5, le=2000)] = PAGE_SIZE) -> Response:
    """A batch's progress, agreement and reviewers, and its disagreements: sorted by how
    much reviewers disagree, filtered by category and status, ``size`` a page."""
    with reading(request) as session:
        batch = get_batch(session, batch_id)
        spec_row, spec = batch_spec(session, batch)
        categories = {c.id: c for c in spec.guidelines.categories}
        # Rank every disagreement without its text; fetch the text for the page shown only.
        rows = _disagreement_rows(disagreements(session, batch_id, with_text=False),
                                  categories)
        split = sorted({c for r in rows for c in r["categories"]})
        if category:
            rows = [r for r in rows if category in r["categories"]]
        if status == "open":
            rows = [r for r in rows if r["open"]]
        elif status == "decided":
            rows = [r for r in rows if not r["open"]]
        pages = max(1, -(-len(rows) // size))
        page = min(page, pages)
        shown = rows[(page - 1) * size:page * size]
        texts = {d["item_id"]: d for d in disagreements(
            session, batch_id, items={r["item_id"] for r in shown})}
        shown = [{**r, "messages": texts[r["item_id"]]["messages"],
                  "completions": texts[r["item_id"]]["completions"]} for r in shown]
        context = {
            "batch": batch, "spec_version": spec_row.version, "categories": categories,
            "progress": batch_progress(session, batch_id),
            "agreement": batch_agreement(session, batch_id),
            "reviewers": reviewer_quality(session, batch_id),
        }
    return render(request, "admin_batch.html", **context,
                  disagreements=shown,
                  matching=len(rows), page=page, pages=pages, size=size,
                  split_categories=split, category=category, show=status,
                  alpha_band=alpha_band, category_label=category_label,
                  answer_label=answer_label)


@router.post("/items/{item_id}/adjudication")
async def admin_adjudicate(item_id: Id, request: Request,
                           viewer: Viewer = guard(ADMIN)) -> Response:
    form = await request.form()
    category = str(form.get("category", ""))
    raw = str(form.get("value", "")).strip()
    if form.get("scale") == "flags":  # ticked boxes; none ticked means "no flag applies"
        value: Any = [str(v) for v in form.getlist("value")]
    else:
        try:  # rankings come as JSON lists; Likert as a number; binary as text
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if raw == "":
            raise AccordError(f"choose an answer for {category!r} before deciding")

    def save() -> int:
        with writing(request) as session:
            row = adjudicate(session, item_id, category, value, viewer.user_id,
                             note=str(form.get("note", "")))
            from accord.review import ReviewItem

            item = session.get(ReviewItem, row.item_id)
            assert item is not None
            return item.batch_id

    batch_id = await run_in_threadpool(save)
    back = str(form.get("back", ""))
    query = back if back.startswith("?") and "\n" not in back else ""
    return redirect(f"/admin/batches/{batch_id}{query}#item-{item_id}")


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
