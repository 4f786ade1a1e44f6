"""The OpenAI-compatible API: ``/v1/chat/completions`` (plain and SSE streaming, ``n``
choices, log-probabilities), ``/v1/completions`` (``_v1_completions``), ``/v1/models`` and
``/v1/feedback``, authenticated by per-user API keys (``_v1_common.resolve_key``).

The profile applies by key (the key's profile, else the user's default profile) and per
request through the extra body field ``profile`` (a mapping of options: the conversation
layer; or the name of one of the user's profiles). A client's ``system`` message that is a
``Settings: k=v; ...`` line is read as conversation settings; any other system text is
honoured below the platform's prompt (a spec with a system-prompt template) or refused with
a warning in the response's ``accord`` field, never silently dropped; ``tool`` results
reach it as user turns. Every field OpenAI defines is accepted or refused with a reason
(``_v1_bodies``). Errors use OpenAI's error shape.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict
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
    client_system_texts,
    new_answer_id,
)
from accord.errors import AccordError
from accord.model import SamplingConfig
from accord.serve._audits import audit_scope
from accord.serve._chat_state import chat_service, chat_settings, current_spec, effective_for
from accord.serve._db import writing
from accord.serve._inputs import log_unexpected
from accord.serve._permissions import Viewer, guard
from accord.serve._v1_bodies import ChatBody, unsupported
from accord.serve._v1_common import (
    ApiError,
    api_key,
    chat_logprobs,
    openai_error,
    parse_body,
    scored,
    served_runner,
)
from accord.serve._v1_completions import completions
from accord.store import NotFoundError

router = APIRouter(prefix="/v1")
__all__ = ["ApiError", "ChatBody", "FeedbackBody", "openai_error", "router"]


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer_id: str
    kind: Literal["up", "down", "flag"]
    category: str | None = None
    comment: str = ""


def _models(request: Request) -> list[dict[str, Any]]:
    service = chat_service(request)
    names = service.models if service is not None else []
    return [{"id": n, "object": "model", "created": 0, "owned_by": "accord"} for n in names]


@router.get("/models")
async def list_models(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    try:
        await api_key(request)
    except ApiError as exc:
        return exc.response()
    return JSONResponse({"object": "list", "data": _models(request)})


@router.get("/models/{model_id:path}")
async def get_model(request: Request, model_id: str, viewer: Viewer = guard(PUBLIC)) -> Response:
    try:
        await api_key(request)
        found = [m for m in _models(request) if m["id"] == model_id]
        if not found:
            raise ApiError(404, f"model {model_id!r} does not exist", param="model",
                           code="model_not_found", type="not_found_error")
    except ApiError as exc:
        return exc.response()
    return JSONResponse(found[0])


def _turns(body: ChatBody) -> list[dict[str, str]]:
    """The messages as ``client_messages`` reads them: a tool's result is text the model
    reads in a user turn (it has no tool turn); an assistant turn without content is its
    refusal or empty."""
    out = []
    for m in body.messages:
        if m.role in ("tool", "function"):
            out.append({"role": "user", "content": f"Tool result: {m.text()}"})
        else:
            out.append({"role": m.role, "content": m.text()})
    return out


def _chat_request(request: Request, body: ChatBody, key: ApiKey) -> ChatRequest:
    service = chat_service(request)
    served_runner(request, body.model)
    problem = unsupported(body)
    if problem is not None:
        raise ApiError(400, problem[1], param=problem[0], code="unsupported_parameter")
    if body.top_logprobs and not body.logprobs:
        raise ApiError(400, "top_logprobs needs logprobs: true", param="top_logprobs")
    profile_name = body.profile if isinstance(body.profile, str) else None
    limit = chat_settings(request).max_message_chars
    turns_in = _turns(body)
    for i, m in enumerate(turns_in):
        # Refused before the tokenizer sees it: tokenising megabytes takes seconds.
        length = len(m["content"])
        if length > limit:
            raise ApiError(400, f"Invalid 'messages[{i}].content': string too long. Expected "
                                f"a string with maximum length {limit}, but got a string "
                                f"with length {length} instead.",
                           param=f"messages[{i}].content", code="string_above_max_length")
    try:
        turns, conversation = client_messages(
            turns_in, body.profile if isinstance(body.profile, dict) else None)
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
    audit_scope(request, key, body.model, max_tokens * (body.n or 1))  # auditors' keys
    stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    if len(stop) > 4:
        raise ApiError(400, "stop: at most 4 sequences", param="stop")
    sampling = SamplingConfig(
        temperature=settings.temperature if body.temperature is None else body.temperature,
        top_p=1.0 if body.top_p is None else body.top_p, max_new_tokens=max_tokens,
        seed=body.seed if body.seed is not None else secrets.randbits(32))
    chat = ChatRequest(model=body.model, messages=turns, effective=effective, sampling=sampling,
                       stop=tuple(s for s in stop if s), owner=f"user:{key.user_id}",
                       source="api", api_key_id=key.id,
                       client_system=tuple(client_system_texts(turns_in)))
    try:
        service.check_fits(chat)
    except AccordError as exc:
        raise ApiError(400, str(exc), param="messages",
                       code="context_length_exceeded") from None
    return chat


def _usage(results: list[ChatResult]) -> dict[str, int]:
    prompt = results[0].prompt_tokens
    completion = sum(r.completion_tokens for r in results)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _accord(result: ChatResult) -> dict[str, Any]:
    return {"enforced": result.enforced, "notice": result.notice, "bounds": result.crossed,
            "outcome": result.outcome, "warnings": result.warnings}


def _logprobs_of(service: Any, chat: ChatRequest, result: ChatResult, top: int
                 ) -> dict[str, Any]:
    """The shown answer's tokens scored by the model that wrote it: the sampled tokens
    themselves when the answer is the sample as made, else the shown text's tokens (a
    safe completion or disclosure, which the model did not write, scores low)."""
    runner = service.runner(chat.model)
    prompt = runner.encode(service.conversation(chat))
    tokenizer = runner.tokenizer
    ids = result.token_ids
    sampled = ids is not None and \
        tokenizer.decode(ids, skip_special_tokens=True).strip() == result.text
    if not sampled:
        ids = tokenizer(result.text, add_special_tokens=False)["input_ids"]
    # A sample that ended on its own lists the end-of-turn token too (as vLLM does), so
    # an empty answer still tells a judge what the model would have said first.
    end = sampled and result.finish_reason == "stop"
    return chat_logprobs(scored(runner, prompt, list(ids), top, end=end))


def _answer(service: Any, chat: ChatRequest, n: int, top: int | None
            ) -> tuple[list[ChatResult], list[dict[str, Any] | None]]:
    """``n`` answers (choice ``i`` with seed + i), recorded, with their log-probabilities
    when asked (``top`` is None: not asked)."""
    if n == 1:
        results = [service.complete(chat)]
        chats = [chat]
    else:
        chats = [replace(chat, id=chat.id if i == 0 else new_answer_id(),
                         sampling=replace(chat.sampling, seed=chat.sampling.seed + i))
                 for i in range(n)]
        results = service.complete_many(chats)
        for c, r in zip(chats, results, strict=True):
            service.record(c, r)
    logprobs = [None if top is None else _logprobs_of(service, c, r, top)
                for c, r in zip(chats, results, strict=True)]
    return results, logprobs


@router.post("/chat/completions")
async def chat_completions(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    try:
        key = await api_key(request)
        body = await parse_body(request, ChatBody)
        chat = await run_in_threadpool(_chat_request, request, body, key)
    except ApiError as exc:
        return exc.response()
    service = chat_service(request)
    assert service is not None
    created = int(time.time())
    top = (body.top_logprobs or 0) if body.logprobs else None
    if not body.stream:
        try:
            results, logprobs = await run_in_threadpool(_answer, service, chat, body.n or 1,
                                                        top)
        except ApiError as exc:
            return exc.response()
        except AccordError as exc:  # the request was checked: this is the server's fault
            return ApiError(500, str(exc), type="server_error").response()
        return JSONResponse({
            "id": results[0].id, "object": "chat.completion", "created": created,
            "model": results[0].model, "system_fingerprint": None, "service_tier": "default",
            "choices": [{"index": i, "message": {"role": "assistant", "content": r.text,
                                                 "refusal": None, "annotations": []},
                         "logprobs": lp, "finish_reason": r.finish_reason}
                        for i, (r, lp) in enumerate(zip(results, logprobs, strict=True))],
            "usage": _usage(results), "accord": _accord(results[0])})
    usage = body.stream_options is not None and body.stream_options.include_usage
    return StreamingResponse(_sse(service, chat, created, usage, top),
                             media_type="text/event-stream",
                             headers={"x-accel-buffering": "no"})


def _sse(service: Any, chat: ChatRequest, created: int, include_usage: bool,
         top: int | None) -> Iterator[str]:
    """SSE chunks in OpenAI's shape; runs in a worker thread (StreamingResponse iterates a
    plain iterator in the thread pool), so generation never blocks the event loop. With
    ``logprobs``, the whole answer's scored tokens come in one chunk before the last
    (text is released a sentence at a time after screening, so they are known only then)."""

    def chunk(delta: dict[str, Any], finish: str | None = None,
              logprobs: dict[str, Any] | None = None, **extra: Any) -> str:
        data = {"id": chat.id, "object": "chat.completion.chunk", "created": created,
                "model": chat.model, "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "logprobs": logprobs,
                             "finish_reason": finish}], **extra}
        if include_usage:
            data.setdefault("usage", None)
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    try:
        for kind, value in service.stream(chat):
            if kind == "delta":
                yield chunk({"content": value})
            else:
                result: ChatResult = value
                if top is not None:
                    yield chunk({}, logprobs=_logprobs_of(service, chat, result, top))
                yield chunk({}, result.finish_reason, accord=_accord(result))
                if include_usage:
                    usage = {"id": chat.id, "object": "chat.completion.chunk",
                             "created": created, "model": chat.model,
                             "system_fingerprint": None, "choices": [],
                             "usage": _usage([result])}
                    yield f"data: {json.dumps(usage)}\n\n"
    except Exception as exc:  # the stream has started: end it with an error, not a drop
        message = (str(exc) if isinstance(exc, (AccordError, ApiError))
                   else log_unexpected("POST", "/v1/chat/completions", exc))
        error = {"error": {"message": message, "type": "server_error", "param": None,
                           "code": None}}
        yield f"data: {json.dumps(error)}\n\n"
    yield "data: [DONE]\n\n"


@router.post("/feedback")
async def feedback(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    """Accord's extension: thumbs up/down or a flag on an answer received with this key."""
    try:
        key = await api_key(request)
        body = await parse_body(request, FeedbackBody)
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


router.add_api_route("/completions", completions, methods=["POST"])
