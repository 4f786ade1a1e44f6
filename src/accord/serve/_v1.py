"""The OpenAI-compatible API: ``/v1/chat/completions`` (plain and SSE streaming),
``/v1/models`` and ``/v1/feedback``, authenticated by per-user API keys.

The profile applies by key (the key's profile, else the user's default profile) and per
request through the extra body field ``profile`` (a mapping of options: the conversation
layer; or the name of one of the user's profiles). A client's ``system`` message that is a
``Settings: k=v; ...`` line is read as conversation settings; any other system text is not
given to the model (it could pose as the platform). Errors use OpenAI's error shape.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from accord.accounts import PUBLIC
from accord.customize import (
    ApiKey,
    ChatRequest,
    ChatResult,
    FeedbackError,
    ProfileError,
    add_feedback,
    client_messages,
    key_owner,
    touch_key,
)
from accord.errors import AccordError
from accord.model import SamplingConfig
from accord.serve._chat_state import (
    RateLimited,
    api_rate_keys,
    chat_service,
    chat_settings,
    current_spec,
    effective_for,
    limiter,
)
from accord.serve._db import writing
from accord.serve._inputs import log_unexpected
from accord.serve._permissions import Viewer, guard
from accord.store import NotFoundError

router = APIRouter(prefix="/v1")


class ApiError(Exception):
    """An error in OpenAI's shape: ``{"error": {message, type, param, code}}``."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type = status, message, type
        self.param, self.code, self.headers = param, code, headers or {}

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param,
                          "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def openai_error(status: int, message: str) -> JSONResponse:
    """The error shape for refusals raised outside this module (sign-in, CSRF)."""
    kind = {401: "invalid_request_error", 403: "permission_error", 404: "not_found_error",
            429: "rate_limit_error"}.get(status, "invalid_request_error")
    if status >= 500:
        kind = "server_error"
    return ApiError(status, message, type=kind).response()


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["text"]
    text: str


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[_Part]
    name: str | None = None

    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(
            p.text for p in self.content)


class _StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_usage: bool = False


class ChatBody(BaseModel):
    """The request body; unknown fields are refused (400), as OpenAI does."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1)
    messages: list[_Message] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    n: int = Field(1, ge=1, le=1)
    stream: bool = False
    stream_options: _StreamOptions | None = None
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    stop: str | list[str] | None = None
    user: str | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)  # accepted, not used
    frequency_penalty: float | None = Field(None, ge=-2, le=2)  # accepted, not used
    profile: dict[str, Any] | str | None = None  # Accord: settings or a saved profile name


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer_id: str
    kind: Literal["up", "down", "flag"]
    category: str | None = None
    comment: str = ""


def _authenticate(request: Request) -> ApiKey:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>' (make a key "
                            "at /keys or with `accord customize keys create`)",
                       code="invalid_api_key")
    with request.app.state.store.session() as session:
        row = key_owner(session, key.strip())
        if row is not None:
            session.expunge(row)
    if row is None:  # the key itself is never echoed or logged
        raise ApiError(401, "invalid or revoked API key", code="invalid_api_key")
    try:  # per key and per account: a second key brings no second allowance
        limiter(request).hit(*api_rate_keys(row.id, row.user_id))
    except RateLimited as exc:
        raise ApiError(429, str(exc), type="rate_limit_error", code="rate_limit_exceeded",
                       headers={"retry-after": str(exc.retry_after)}) from None
    return row


async def _key(request: Request) -> ApiKey:
    row = await run_in_threadpool(_authenticate, request)
    if row.last_used_at is None or time.time() - row.last_used_at.timestamp() > 300:
        with writing(request) as session:  # a write at most every five minutes per key
            touch_key(session, row.id)
    return row


def _models(request: Request) -> list[dict[str, Any]]:
    service = chat_service(request)
    names = service.models if service is not None else []
    return [{"id": n, "object": "model", "created": 0, "owned_by": "accord"} for n in names]


@router.get("/models")
async def list_models(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    try:
        await _key(request)
    except ApiError as exc:
        return exc.response()
    return JSONResponse({"object": "list", "data": _models(request)})


@router.get("/models/{model_id:path}")
async def get_model(request: Request, model_id: str, viewer: Viewer = guard(PUBLIC)) -> Response:
    try:
        await _key(request)
        found = [m for m in _models(request) if m["id"] == model_id]
        if not found:
            raise ApiError(404, f"model {model_id!r} does not exist", param="model",
                           code="model_not_found", type="not_found_error")
    except ApiError as exc:
        return exc.response()
    return JSONResponse(found[0])


async def _body(request: Request, model: type[BaseModel]) -> Any:
    try:
        raw = await request.json()
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8; depth is capped before
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "the request body must be a JSON object")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        param = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            raise ApiError(400, f"unrecognized request argument supplied: {param}",
                           param=param) from None
        raise ApiError(400, f"{param}: {err['msg']}", param=param) from None


def _chat_request(request: Request, body: ChatBody, key: ApiKey) -> ChatRequest:
    service = chat_service(request)
    if service is None or body.model not in service.models:
        served = ", ".join(service.models) if service is not None else "none"
        raise ApiError(404, f"the model {body.model!r} does not exist or is not served here "
                            f"(served: {served})", param="model", code="model_not_found",
                       type="not_found_error")
    profile_name = body.profile if isinstance(body.profile, str) else None
    limit = chat_settings(request).max_message_chars
    for i, m in enumerate(body.messages):
        # Refused before the tokenizer sees it: tokenising megabytes takes seconds.
        length = len(m.text())
        if length > limit:
            raise ApiError(400, f"Invalid 'messages[{i}].content': string too long. Expected "
                                f"a string with maximum length {limit}, but got a string "
                                f"with length {length} instead.",
                           param=f"messages[{i}].content", code="string_above_max_length")
    try:
        turns, conversation = client_messages(
            [{"role": m.role, "content": m.text()} for m in body.messages],
            body.profile if isinstance(body.profile, dict) else None)
    except ProfileError as exc:
        raise ApiError(400, str(exc), param="messages") from None
    except AccordError as exc:
        raise ApiError(400, str(exc), param="messages") from None
    try:
        effective = effective_for(request, key.user_id, conversation, profile_name,
                                  None if profile_name else key.profile_id)
    except ProfileError as exc:
        raise ApiError(400, str(exc), param="profile") from None
    except NotFoundError as exc:
        raise ApiError(400, str(exc), param="profile") from None
    settings = chat_settings(request)
    max_tokens = body.max_completion_tokens or body.max_tokens or settings.default_max_tokens
    if max_tokens > settings.max_tokens_limit:
        raise ApiError(400, f"max_tokens is {max_tokens}; this server allows at most "
                            f"{settings.max_tokens_limit}", param="max_tokens")
    stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    if len(stop) > 4:
        raise ApiError(400, "stop: at most 4 sequences", param="stop")
    sampling = SamplingConfig(
        temperature=settings.temperature if body.temperature is None else body.temperature,
        top_p=1.0 if body.top_p is None else body.top_p, max_new_tokens=max_tokens,
        seed=body.seed if body.seed is not None else secrets.randbits(32))
    chat = ChatRequest(model=body.model, messages=turns, effective=effective, sampling=sampling,
                       stop=tuple(stop), owner=f"user:{key.user_id}", source="api",
                       api_key_id=key.id)
    try:
        service.check_fits(chat)
    except AccordError as exc:
        raise ApiError(400, str(exc), param="messages",
                       code="context_length_exceeded") from None
    return chat


def _usage(result: ChatResult) -> dict[str, int]:
    return {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
            "total_tokens": result.prompt_tokens + result.completion_tokens}


def _accord(result: ChatResult) -> dict[str, Any]:
    return {"enforced": result.enforced, "notice": result.notice, "bounds": result.crossed}


@router.post("/chat/completions")
async def chat_completions(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    try:
        key = await _key(request)
        body = await _body(request, ChatBody)
        chat = await run_in_threadpool(_chat_request, request, body, key)
    except ApiError as exc:
        return exc.response()
    service = chat_service(request)
    assert service is not None
    created = int(time.time())
    if not body.stream:
        try:
            result = await run_in_threadpool(service.complete, chat)
        except AccordError as exc:  # the request was checked: this is the server's fault
            return ApiError(500, str(exc), type="server_error").response()
        return JSONResponse({
            "id": result.id, "object": "chat.completion", "created": created,
            "model": result.model, "system_fingerprint": None,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": result.text,
                                                 "refusal": None},
                         "logprobs": None, "finish_reason": result.finish_reason}],
            "usage": _usage(result), "accord": _accord(result)})
    usage = body.stream_options is not None and body.stream_options.include_usage
    return StreamingResponse(_sse(service, chat, created, usage), media_type="text/event-stream",
                             headers={"x-accel-buffering": "no"})


def _sse(service: Any, chat: ChatRequest, created: int, include_usage: bool) -> Iterator[str]:
    """SSE chunks in OpenAI's shape; runs in a worker thread (StreamingResponse iterates a
    plain iterator in the thread pool), so generation never blocks the event loop."""

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        data = {"id": chat.id, "object": "chat.completion.chunk", "created": created,
                "model": chat.model, "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "logprobs": None,
                             "finish_reason": finish}], **extra}
        if include_usage:
            data.setdefault("usage", None)
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        for kind, value in service.stream(chat):
            if kind == "delta":
                yield chunk({"content": value})
            else:
                result: ChatResult = value
                yield chunk({}, result.finish_reason, accord=_accord(result))
                if include_usage:
                    usage = {"id": chat.id, "object": "chat.completion.chunk",
                             "created": created, "model": chat.model,
                             "system_fingerprint": None, "choices": [],
                             "usage": _usage(result)}
                    yield f"data: {json.dumps(usage)}\n\n"
    except Exception as exc:  # the stream has started: end it with an error, not a drop
        message = (str(exc) if isinstance(exc, AccordError)
                   else log_unexpected("POST", "/v1/chat/completions", exc))
        error = {"error": {"message": message, "type": "server_error", "param": None,
                           "code": None}}
        yield f"data: {json.dumps(error)}\n\n"
    yield "data: [DONE]\n\n"


@router.post("/feedback")
async def feedback(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    """Accord's extension: thumbs up/down or a flag on an answer received with this key."""
    try:
        key = await _key(request)
        body = await _body(request, FeedbackBody)
    except ApiError as exc:
        return exc.response()
    try:
        spec = current_spec(request)
        with writing(request) as session:
            row = add_feedback(session, spec, answer_id=body.answer_id,
                               owner=f"user:{key.user_id}", kind=body.kind,
                               category=body.category, comment=body.comment)
            out = {"id": row.id, "object": "feedback", "status": row.status}
    except NotFoundError as exc:
        return ApiError(404, str(exc), param="answer_id", type="not_found_error").response()
    except FeedbackError as exc:
        return ApiError(400, str(exc)).response()
    return JSONResponse(out)
