"""Admin pages: batches (create, progress, agreement, reviewer quality), adjudication of
items reviewers disagreed on, and accounts. No admin page shows survey answers."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from accord.errors import AccordError
from accord.review import (
    ROLES,
    adjudicate,
    batch_agreement,
    batch_progress,
    batch_spec,
    create_batch,
    create_user,
    disagreements,
    generate_password,
    get_batch,
    gold_from_spec_examples,
    list_users,
    reviewer_quality,
)
from accord.review._roles import ADMIN
from accord.serve._db import reading, writing
from accord.serve._permissions import Viewer, guard
from accord.serve._queries import batch_list, model_versions, spec_versions
from accord.serve._render import redirect, render
from accord.store import get_spec_version

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
                prompts=_int(form, "prompts"), overlap=_int(form, "overlap"),
                completions_per_prompt=_int(form, "completions_per_prompt"),
                seed=_int(form, "seed"), gold=gold, created_by=viewer.user_id).id

    return redirect(f"/admin/batches/{await run_in_threadpool(create)}")


def _int(form: Any, key: str) -> int:
    raw = str(form.get(key, "")).strip()
    try:
        return int(raw)
    except ValueError:
        raise AccordError(f"{key}: {raw!r} is not a whole number") from None


@router.get("/batches/{batch_id}")
def admin_batch(batch_id: int, request: Request, viewer: Viewer = guard(ADMIN)) -> Response:
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
async def admin_adjudicate(item_id: int, request: Request,
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
            create_user(session, username, password, [role])
            return [(u.username, roles, u.is_simulated, u.is_active)
                    for u, roles in list_users(session)]

    users = await run_in_threadpool(save)
    return render(request, "users.html", users=users, roles=list(ROLES),
                  created=(username, password))
