"""``POST /v1/completions``: OpenAI's legacy text completion (prompt in, text out, no chat
template), for bridges that read log-likelihoods: with ``echo`` and ``logprobs`` the
prompt's own tokens are scored too (``max_tokens: 0`` scores without generating), which is
how lm-eval-style harnesses ask for ``loglikelihood``.

Generated text is screened against the hard bounds like every chat answer (as a reply to
the prompt read as a user turn); a crossing replaces it with the notice and the safe
completion (``finish_reason: content_filter``). Special-token text in a prompt is removed
first, as in chat: a prompt cannot open turns of its own.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from accord.accounts import PUBLIC
from accord.customize import notice_for
from accord.errors import AccordError
from accord.model import SamplingConfig
from accord.serve._audits import audit_scope
from accord.serve._chat_state import chat_service, chat_settings
from accord.serve._permissions import Viewer, guard
from accord.serve._v1_bodies import CompletionBody, unsupported
from accord.serve._v1_common import (
    ApiError,
    api_key,
    model_parts,
    parse_body,
    scored,
    served_runner,
)

MAX_PROMPTS = 64


def _prompt_items(body: CompletionBody) -> list[Any]:
    """The request's prompts, one item each (a string or a list of token ids).

    Raises:
        ApiError: 400 when there are none or more than ``MAX_PROMPTS``.
    """
    raw = body.prompt
    if isinstance(raw, str):
        items: list[Any] = [raw]
    elif raw and all(isinstance(x, int) for x in raw):
        items = [raw]
    else:
        items = list(raw)
    if not items or len(items) > MAX_PROMPTS:
        raise ApiError(400, f"prompt: give 1 to {MAX_PROMPTS} prompts", param="prompt")
    return items


def _prompts(body: CompletionBody, runner: Any, tokenizer: Any) -> list[list[int]]:
    """Each prompt's token ids (text is cleaned of special-token strings, then encoded)."""
    items = _prompt_items(body)
    vocab = len(tokenizer)
    out = []
    limit = None
    for i, item in enumerate(items):
        if isinstance(item, str):
            if limit is None:
                limit = runner.context * 64 if getattr(runner, "context", None) else None
            if limit is not None and len(item) > limit:
                raise ApiError(400, f"prompt[{i}] is longer than the model can read",
                               param="prompt", code="context_length_exceeded")
            strip = getattr(runner, "strip_special", None)
            text = strip(item) if strip is not None else item
            ids = tokenizer(text)["input_ids"]
        else:
            ids = list(item)
            if any(t < 0 or t >= vocab for t in ids):
                raise ApiError(400, f"prompt[{i}]: token ids must be in [0, {vocab})",
                               param="prompt")
        if not ids:
            raise ApiError(400, f"prompt[{i}] has no tokens", param="prompt")
        out.append(ids)
    return out


def _complete(request: Request, body: CompletionBody) -> dict[str, Any]:
    runner = served_runner(request, body.model)
    problem = unsupported(body)
    if problem is not None:
        raise ApiError(400, problem[1], param=problem[0], code="unsupported_parameter")
    model, tokenizer = model_parts(runner, "/v1/completions")
    n = body.n or 1
    if body.best_of is not None and body.best_of != n:
        raise ApiError(400, "best_of must equal n (choices are not ranked here)",
                       param="best_of")
    settings = chat_settings(request)
    max_tokens = 16 if body.max_tokens is None else body.max_tokens
    if max_tokens > settings.max_tokens_limit:
        raise ApiError(400, f"max_tokens is {max_tokens}; this server allows at most "
                            f"{settings.max_tokens_limit}", param="max_tokens")
    if max_tokens == 0 and not body.echo:
        raise ApiError(400, "max_tokens 0 asks for nothing: set echo to score the prompt",
                       param="max_tokens")
    stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    if len(stop) > 4:
        raise ApiError(400, "stop: at most 4 sequences", param="stop")
    prompts = _prompts(body, runner, tokenizer)
    context = getattr(runner, "context", None)
    for i, ids in enumerate(prompts):
        if context is not None and len(ids) + (1 if max_tokens else 0) > context:
            raise ApiError(400, f"prompt[{i}] is {len(ids)} tokens; model {body.model!r} "
                                f"reads at most {context}", param="prompt",
                           code="context_length_exceeded")
    seed = body.seed if body.seed is not None else secrets.randbits(32)
    temperature = 1.0 if body.temperature is None else body.temperature
    top = body.logprobs
    choices, completion_tokens = [], 0
    for p, ids in enumerate(prompts):
        texts = _generate(request, runner, model, tokenizer, ids, n, max_tokens, temperature,
                          body.top_p or 1.0, seed, stop)
        prompt_text = tokenizer.decode(ids, skip_special_tokens=True)
        for j, (text, tokens, finish, ended) in enumerate(texts):
            completion_tokens += len(tokens)
            logprobs = None
            if top is not None:
                # A reply that ended on its own lists its end-of-turn token (as vLLM does):
                # harnesses read the prompt's scores as all positions but the last.
                positions = scored(runner, ids, tokens, top, score_prompt=bool(body.echo),
                                   end=ended)
                logprobs = _text_logprobs(positions, 0)
            choices.append({"text": (prompt_text if body.echo else "") + text,
                            "index": p * n + j, "logprobs": logprobs,
                            "finish_reason": finish})
    prompt_tokens = sum(len(ids) for ids in prompts)
    return {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion",
            "created": int(time.time()), "model": body.model, "system_fingerprint": None,
            "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def _generate(request: Request, runner: Any, model: Any, tokenizer: Any, ids: list[int],
              n: int, max_tokens: int, temperature: float, top_p: float, seed: int,
              stop: list[str]) -> list[tuple[str, list[int], str, bool]]:
    """``n`` continuations of one prompt (row ``i`` keyed ``(seed + i, 0)``), screened:
    (text, its token ids, finish reason, whether it ended on an end-of-turn token)."""
    if max_tokens == 0:
        return [("", [], "length", False)] * n
    from accord.model import DecodeRow, decode

    context = getattr(runner, "context", None)
    room = max_tokens if context is None else min(max_tokens, context - len(ids))
    rows = [DecodeRow(list(ids), seed=seed + i, stream=0, max_new_tokens=room,
                      stop=tuple(s for s in stop if s)) for i in range(n)]
    sampling = SamplingConfig(temperature=temperature, top_p=top_p, max_new_tokens=room,
                              seed=seed)
    try:
        decode(model, tokenizer, rows, sampling)
    except (RuntimeError, ValueError) as exc:  # the model failed on a checked request
        raise AccordError(f"generation failed: {exc}") from exc
    out = []
    for row in rows:
        whole = tokenizer.decode(row.tokens, skip_special_tokens=True)
        text = row.shown if row.stop and row.finish_reason == "stop" and row.shown != whole \
            else whole
        tokens = list(row.tokens) if text == whole else \
            tokenizer(text, add_special_tokens=False)["input_ids"]
        ended = row.finish_reason == "stop" and text == whole
        out.append((text, tokens, row.finish_reason or "length", ended))
    service = chat_service(request)
    prompt = tokenizer.decode(ids, skip_special_tokens=True)
    verdicts = service.check([[{"role": "user", "content": prompt}]] * len(out),
                             [t for t, *_ in out], runner.name)
    screened = []
    for (text, tokens, finish, ended), verdict in zip(out, verdicts, strict=True):
        if not verdict.ok:
            text = f"{notice_for(verdict.crossed)} {service.safe[verdict.crossed[0]]}"
            tokens, finish = tokenizer(text, add_special_tokens=False)["input_ids"], \
                "content_filter"
            ended = False
        screened.append((text, tokens, finish, ended))
    return screened


def _text_logprobs(positions: list[dict[str, Any]], offset: int) -> dict[str, Any]:
    """Scored positions in the completion API's ``logprobs`` shape."""
    tokens, offsets, tops, at = [], [], [], offset
    for p in positions:
        tokens.append(p["token"])
        offsets.append(at)
        at += len(p["token"])
        listed: dict[str, float] | None = None
        if p["logprob"] is not None:
            listed = {}
            for _, text, logprob in p["top"]:  # most likely first: it keeps a shared text
                listed.setdefault(text, logprob)
        tops.append(listed)
    return {"tokens": tokens, "token_logprobs": [p["logprob"] for p in positions],
            "top_logprobs": tops, "text_offset": offsets}


async def completions(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    """``POST /v1/completions``; see the module docstring."""
    try:
        key = await api_key(request)
        body = await parse_body(request, CompletionBody)
        # An auditor's budget is charged for the most this request may generate: every
        # prompt's choices, not one prompt's (a 64-prompt batch costs 64 times one).
        cap = ((16 if body.max_tokens is None else body.max_tokens) * (body.n or 1)
               * len(_prompt_items(body)))
        await run_in_threadpool(audit_scope, request, key, body.model, cap)  # auditors' keys
        out = await run_in_threadpool(_complete, request, body)
    except ApiError as exc:
        return exc.response()
    except AccordError as exc:
        return ApiError(500, str(exc), type="server_error").response()
    return JSONResponse(out)
