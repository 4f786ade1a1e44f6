"""The chat page: talk to a served model under a profile, with the profile's settings
beside the chat (what is fixed by the bounds and why), and feedback on every answer.

The page streams answers from ``POST /api/chat`` (the same service as ``/v1``: hard
bounds enforced outside the model); static/chat.js draws it. Signed-out visitors may chat
only when ``[customize] anonymous_chat = true``, with the same per-visitor rate limit.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from accord.accounts import PUBLIC, SIGNED_IN
from accord.customize import (
    ChatRequest,
    ChatResult,
    ProfileError,
    add_feedback,
    list_profiles,
    save_profile,
)
from accord.errors import AccordError
from accord.model import SamplingConfig
from accord.serve._chat_state import (
    RateLimited,
    chat_service,
    chat_settings,
    check_length,
    current_spec,
    effective_for,
    limiter,
    owner_of,
    rate_keys,
)
from accord.serve._db import reading, writing
from accord.serve._inputs import log_unexpected
from accord.serve._permissions import Denied, Viewer, guard
from accord.serve._render import STATIC_DIR, render

router = APIRouter()
_ASSETS = {"chat.js": "text/javascript", "chat.css": "text/css"}
MAX_TURNS = 8


def _allowed(request: Request, viewer: Viewer) -> None:
    if viewer.account is None and not chat_settings(request).anonymous_chat:
        raise Denied(401, "sign in first (this server does not offer anonymous chat)")


def _view(request: Request, viewer: Viewer, conversation: Any = None) -> dict[str, Any]:
    user_id = viewer.account.id if viewer.account else None
    effective = effective_for(request, user_id, conversation, where="conversation")
    return {"options": [o.to_dict() for o in effective.options],
            "settings": effective.non_default, "disclosures": effective.disclosures,
            "system_prompt": effective.system_prompt}


@router.get("/chat/assets/{name}")
def chat_asset(name: str, viewer: Viewer = guard(PUBLIC)) -> Response:
    if name not in _ASSETS:  # a fixed list: no path ever reaches the file system
        return Response("not found", status_code=404)
    return FileResponse(STATIC_DIR / name, media_type=_ASSETS[name],
                        headers={"Cache-Control": "no-cache"})


@router.get("/chat")
def chat_page(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    _allowed(request, viewer)
    service = chat_service(request)
    spec = current_spec(request)
    view = _view(request, viewer)
    profiles = []
    if viewer.account is not None:
        with reading(request) as session:
            profiles = [p.name for p in list_profiles(session, viewer.account.id)]
    page = {"models": service.models if service else [], "profile": view,
            "categories": [{"id": c.id, "question": c.question}
                           for c in spec.guidelines.categories],
            "signed_in": viewer.account is not None}
    return render(request, "chat.html", page=page, view=view, profiles=profiles,
                  models=page["models"], bounds=spec.bounds.hard_bounds)


class ProfileBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    settings: dict[str, Any] = Field(default_factory=dict)
    name: str = "default"
    locked: list[str] = Field(default_factory=list)


class ChatBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str | None = None
    messages: list[dict[str, str]] = Field(min_length=1)
    settings: dict[str, Any] = Field(default_factory=dict)
    seed: int | None = Field(None, ge=0, le=2**32 - 1)


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer_id: str
    kind: str
    category: str | None = None
    comment: str = ""


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8; depth is capped before
        raise AccordError("the request body is not valid JSON") from None


def _parse(model: type[BaseModel], raw: Any) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise AccordError(f"{where}: {err['msg']}") from None


@router.get("/api/chat/profile")
def profile_view(request: Request, viewer: Viewer = guard(PUBLIC)) -> dict[str, Any]:
    _allowed(request, viewer)
    return _view(request, viewer)


@router.post("/api/chat/profile")
async def profile_save(request: Request, viewer: Viewer = guard(SIGNED_IN)) -> Response:
    body = _parse(ProfileBody, await _json(request))
    spec = current_spec(request)
    try:
        with writing(request) as session:
            save_profile(session, spec, viewer.user_id, body.name, body.settings,
                         locked=body.locked, deployment=chat_settings(request).deployment)
    except ProfileError as exc:
        return JSONResponse({"error": str(exc), "problems": exc.problems}, status_code=400)
    return JSONResponse(_view(request, viewer))


def _turns(messages: list[dict[str, str]], max_chars: int) -> list[dict[str, str]]:
    turns = []
    for i, m in enumerate(messages):
        if set(m) != {"role", "content"} or m["role"] not in ("user", "assistant"):
            raise AccordError(f"messages.{i}: each message is {{role: user|assistant, "
                              "content}; settings go in 'settings', not in system messages")
        # Refused before the tokenizer sees it: tokenising megabytes takes seconds.
        check_length(f"messages.{i}.content", m["content"], max_chars)
        turns.append({"role": m["role"], "content": m["content"]})
    if turns[-1]["role"] != "user":
        raise AccordError("the last message must come from the user")
    return turns[-MAX_TURNS:]


@router.post("/api/chat")
async def chat(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    _allowed(request, viewer)
    body = _parse(ChatBody, await _json(request))
    service = chat_service(request)
    if service is None or not service.models:
        return JSONResponse({"error": "no model is served here (start the server with "
                                      "`accord serve --model NAME_OR_PATH`)"}, status_code=404)
    model = body.model or service.models[0]
    if model not in service.models:
        return JSONResponse({"error": f"model {model!r} is not served here; served: "
                                      f"{', '.join(service.models)}"}, status_code=404)
    owner = owner_of(request, viewer)
    settings = chat_settings(request)
    turns = _turns(body.messages, settings.max_message_chars)
    try:
        await run_in_threadpool(limiter(request).hit, *rate_keys(request, viewer))
    except RateLimited as exc:
        return JSONResponse({"error": str(exc)}, status_code=429,
                            headers={"retry-after": str(exc.retry_after)})
    try:
        effective = await run_in_threadpool(
            effective_for, request, viewer.account.id if viewer.account else None,
            body.settings, None, None, "conversation")
    except ProfileError as exc:
        return JSONResponse({"error": str(exc), "problems": exc.problems}, status_code=400)
    req = ChatRequest(model=model, messages=turns, effective=effective,
                      sampling=SamplingConfig(temperature=settings.temperature, top_p=1.0,
                                              max_new_tokens=settings.default_max_tokens,
                                              seed=body.seed if body.seed is not None
                                              else secrets.randbits(32)),
                      owner=owner, source="chat")
    try:
        await run_in_threadpool(service.trim_to_fit, req)
    except AccordError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return StreamingResponse(_events(service, req), media_type="text/event-stream",
                             headers={"x-accel-buffering": "no"})


def _events(service: Any, req: ChatRequest) -> Iterator[str]:
    """``{"type": "start" | "delta" | "done" | "error", ...}`` events, one per SSE line."""

    def event(data: dict[str, Any]) -> str:
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield event({"type": "start", "id": req.id, "model": req.model,
                 "disclosures": req.effective.disclosures})
    try:
        for kind, value in service.stream(req):
            if kind == "delta":
                yield event({"type": "delta", "text": value})
            else:
                result: ChatResult = value
                yield event({"type": "done", "id": result.id, "text": result.text,
                             "enforced": result.enforced, "notice": result.notice,
                             "finish_reason": result.finish_reason})
    except AccordError as exc:
        yield event({"type": "error", "error": str(exc)})
    except Exception as exc:  # the stream has started: end it with an error, not a drop
        yield event({"type": "error", "error": log_unexpected("POST", "/api/chat", exc)})


@router.post("/api/chat/feedback")
async def chat_feedback(request: Request, viewer: Viewer = guard(PUBLIC)) -> Any:
    _allowed(request, viewer)
    body = _parse(FeedbackBody, await _json(request))
    owner = owner_of(request, viewer)
    try:
        await run_in_threadpool(limiter(request).hit,
                                *rate_keys(request, viewer, prefix="feedback"))
    except RateLimited as exc:
        return JSONResponse({"error": str(exc)}, status_code=429,
                            headers={"retry-after": str(exc.retry_after)})
    spec = current_spec(request)
    with writing(request) as session:
        row = add_feedback(session, spec, answer_id=body.answer_id, owner=owner,
                           kind=body.kind, category=body.category, comment=body.comment)
        return {"id": row.id, "status": row.status}
