"""API keys (each user's own page) and the admins' feedback triage queue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from accord.accounts import ADMIN, SIGNED_IN
from accord.customize import (
    PROBE_SETS,
    create_api_key,
    dismiss,
    feedback_counts,
    list_api_keys,
    list_profiles,
    revoke_api_key,
    to_regression_case,
    to_review_item,
    triage_queue,
)
from accord.errors import AccordError
from accord.serve._chat_state import chat_settings
from accord.serve._db import reading, writing
from accord.serve._inputs import Id
from accord.serve._permissions import Viewer, guard
from accord.serve._render import redirect, render

router = APIRouter()
ACTIONS = ("review", "regression", "dismiss")


def _keys_page(request: Request, viewer: Viewer, new_key: str = "", error: str = "",
               status: int = 200) -> Response:
    with reading(request) as session:
        keys = [{"id": k.id, "name": k.name, "prefix": k.prefix,
                 "created": k.created_at.strftime("%Y-%m-%d %H:%M"),
                 "used": k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "",
                 "revoked": k.revoked_at is not None}
                for k in list_api_keys(session, viewer.user_id)]
        profiles = [p.name for p in list_profiles(session, viewer.user_id)]
    return render(request, "chat_keys.html", status=status, keys=keys, profiles=profiles,
                  new_key=new_key, error=error)


@router.get("/keys")
def keys_page(request: Request, viewer: Viewer = guard(SIGNED_IN)) -> Response:
    return _keys_page(request, viewer)


@router.post("/keys")
async def keys_create(request: Request, viewer: Viewer = guard(SIGNED_IN)) -> Response:
    form = await request.form()
    name = str(form.get("name", "")).strip() or "key"
    profile = str(form.get("profile", "")).strip() or None
    try:
        with writing(request) as session:
            _, key = create_api_key(session, viewer.user_id, name, profile)
    except AccordError as exc:
        return _keys_page(request, viewer, error=str(exc), status=400)
    # Shown once, on this response only (Cache-Control: no-store is set app-wide).
    return _keys_page(request, viewer, new_key=key)


@router.post("/keys/{key_id}/revoke")
def keys_revoke(request: Request, key_id: Id, viewer: Viewer = guard(SIGNED_IN)) -> Response:
    with writing(request) as session:
        revoke_api_key(session, key_id, viewer.user_id)
    return redirect("/keys")


@router.get("/admin/feedback")
def triage_page(request: Request, status: str = "open",
                viewer: Viewer = guard(ADMIN)) -> Response:
    with reading(request) as session:
        items = triage_queue(session, status)
        counts = feedback_counts(session)
    return render(request, "chat_triage.html", items=items, counts=counts, listing=status,
                  probes=PROBE_SETS)


def _triage(request: Request, viewer: Viewer, feedback_id: int, action: str,
            probe: str | None, note: str) -> dict[str, Any]:
    if action not in ACTIONS:
        raise AccordError(f"action {action!r} is not allowed; allowed: {', '.join(ACTIONS)}")
    with writing(request) as session:
        if action == "review":
            item = to_review_item(session, feedback_id, viewer.user_id,
                                  overlap=chat_settings(request).feedback_overlap)
            return {"status": "review", "review_item_id": item}
        if action == "regression":
            case = to_regression_case(session, feedback_id, viewer.user_id, probe or None, note)
            return {"status": "regression", "regression_case_id": case.id, "probe": case.probe}
        dismiss(session, feedback_id, viewer.user_id)
        return {"status": "dismissed"}


@router.post("/admin/feedback/{feedback_id}")
async def triage_form(request: Request, feedback_id: Id,
                      viewer: Viewer = guard(ADMIN)) -> Response:
    form = await request.form()
    _triage(request, viewer, feedback_id, str(form.get("action", "")),
            str(form.get("probe", "")) or None, str(form.get("note", "")))
    return redirect("/admin/feedback")


class TriageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str
    probe: str | None = None
    note: str = ""


@router.get("/api/admin/feedback")
def triage_api(request: Request, status: str = "open",
               viewer: Viewer = guard(ADMIN)) -> dict[str, Any]:
    with reading(request) as session:
        return {"items": triage_queue(session, status), "counts": feedback_counts(session)}


@router.post("/api/admin/feedback/{feedback_id}")
def triage_api_action(request: Request, feedback_id: Id, body: TriageBody,
                      viewer: Viewer = guard(ADMIN)) -> dict[str, Any]:
    return _triage(request, viewer, feedback_id, body.action, body.probe, body.note)
