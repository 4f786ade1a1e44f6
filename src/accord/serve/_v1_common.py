"""What every ``/v1`` route shares: OpenAI's error shape, the one place an API key is
resolved (and rate-limited), body parsing, the served model, and log-probabilities read
through ``accord.model`` (this module never imports torch).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from accord.customize import ApiKey, key_owner, touch_key
from accord.errors import AccordError
from accord.serve._chat_state import RateLimited, api_rate_keys, chat_service, limiter
from accord.serve._db import writing


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
    """The error shape for refusals raised outside ``/v1``'s handlers (sign-in, limits)."""
    kind = {401: "invalid_request_error", 403: "permission_error", 404: "not_found_error",
            429: "rate_limit_error"}.get(status, "invalid_request_error")
    if status >= 500:
        kind = "server_error"
    return ApiError(status, message, type=kind).response()


def resolve_key(request: Request) -> ApiKey:
    """The API key a ``/v1`` request carries, checked and counted against its limits.

    The one place a key is resolved: scoping (which models a key may use, its budget) is
    added here.

    Args:
        request: the request; its ``Authorization: Bearer <key>`` header is read.

    Raises:
        ApiError: 401 without a valid key, 429 over the key's or account's rate.
    """
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


async def api_key(request: Request) -> ApiKey:
    """:func:`resolve_key` off the event loop; notes the key's last use."""
    row = await run_in_threadpool(resolve_key, request)
    if row.last_used_at is None or time.time() - row.last_used_at.timestamp() > 300:
        with writing(request) as session:  # a write at most every five minutes per key
            touch_key(session, row.id)
    return row


async def parse_body(request: Request, model: type[BaseModel]) -> Any:
    """The JSON body validated into ``model``; every problem is an :class:`ApiError`."""
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
                           param=param, code="unknown_parameter") from None
        raise ApiError(400, f"{param}: {err['msg']}", param=param) from None


def served_runner(request: Request, model: str) -> Any:
    """The runner serving ``model``.

    Raises:
        ApiError: 404 when the model is not served here.
    """
    service = chat_service(request)
    if service is None or model not in service.models:
        served = ", ".join(service.models) if service is not None else "none"
        raise ApiError(404, f"the model {model!r} does not exist or is not served here "
                            f"(served: {served})", param="model", code="model_not_found",
                       type="not_found_error")
    return service.runner(model)


def model_parts(runner: Any, param: str) -> tuple[Any, Any]:
    """The loaded model and tokenizer behind a runner (for scoring).

    Raises:
        ApiError: the runner keeps no local model (a proxy), so nothing can be scored.
    """
    model, tokenizer = getattr(runner, "model", None), getattr(runner, "tokenizer", None)
    if model is None or tokenizer is None:
        raise ApiError(400, f"{param} is not available for model {runner.name!r}",
                       param=param, code="unsupported_parameter")
    return model, tokenizer


def scored(runner: Any, prompt_ids: list[int], token_ids: list[int], top: int, *,
           score_prompt: bool = False, end: bool = False) -> list[dict[str, Any]]:
    """``accord.model.token_logprobs`` for a served model, cut to its context.

    Raises:
        ApiError: the model cannot be scored here.
    """
    from accord.model import token_logprobs

    model, tokenizer = model_parts(runner, "logprobs")
    context = getattr(runner, "context", None)
    if context is not None:
        room = max(0, context - len(prompt_ids))
        end = end and len(token_ids) < room
        token_ids = token_ids[:room]
    try:
        return token_logprobs(model, tokenizer, prompt_ids, token_ids, top=top,
                              score_prompt=score_prompt, end=end)
    except AccordError as exc:
        raise ApiError(400, str(exc), param="logprobs") from None


def chat_logprobs(positions: list[dict[str, Any]]) -> dict[str, Any]:
    """Scored positions in the chat API's ``logprobs`` shape."""

    def entry(token: str, logprob: float) -> dict[str, Any]:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

    content = []
    for p in positions:
        item = entry(p["token"], p["logprob"])
        item["top_logprobs"] = [entry(t, lp) for _, t, lp in p["top"]]
        content.append(item)
    return {"content": content, "refusal": None}
