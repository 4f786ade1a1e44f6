"""The one interface to a model that answers, scores and gives next-token probabilities.

A **backend** is whatever runs a model for Accord's graders and data steps (CAI, the LLM
judge, the pipeline's samplers). It has three methods, each over a batch of conversations
(message lists ending with the turn to answer):

- ``generate(conversations, sampling, *, seeds=None)``: the assistant's next reply to
  each, sampled with :class:`~accord.model.SamplingConfig`; row ``i`` is keyed
  ``(sampling.seed, i)``, or ``(seeds[i], 0)`` (``accord.model._sampling``).
- ``score(conversations, options)``: for each conversation, the log-probability of each
  option as the start of the reply (only differences between options matter).
- ``next_token_logprobs(conversations, *, top=20)``: the first reply token's distribution
  as token text -> log-probability; ``top=None`` asks for every token the backend can list.

Implementations:

- :class:`~accord.model.LocalBackend` (``_local``): a transformers model in this process;
  exact scores and distributions, decoding by ``_decode``, the loop the server uses too.
- :class:`~accord.model.OpenAIBackend` (``_openai``): any OpenAI-compatible endpoint (vLLM,
  a hosted API, ``accord serve``); scores and distributions come from the endpoint's top
  log-probabilities, so they are bounds where a token is not listed.

Where a vLLM backend goes: a module ``_vllm.py`` here with a ``VLLMBackend`` holding a
``vllm.LLM``; ``generate`` maps :class:`SamplingConfig` to ``vllm.SamplingParams`` (with
``seed`` per request, following the ``(seed, stream)`` convention as far as vLLM's
per-request seeds allow), ``score`` uses ``prompt_logprobs`` on prompt + option, and
``next_token_logprobs`` uses ``logprobs=top`` with one generated token. It is then chosen
in :func:`load_backend` (e.g. an ``engine="vllm"`` argument). Nothing here imports vLLM.

This module imports neither torch nor transformers.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from accord.errors import AccordError
from accord.model._sampling import SamplingConfig

if TYPE_CHECKING:
    from accord.model._local import LocalBackend
    from accord.model._openai import OpenAIBackend

Conversation = list[dict[str, str]]

_SHARED: dict[str, tuple[Any, Any]] = {}
_SHARED_LOCK = threading.Lock()


@runtime_checkable
class Backend(Protocol):
    """A model behind Accord's three questions; see the module docstring."""

    name: str

    def generate(self, conversations: Sequence[Conversation], sampling: SamplingConfig, *,
                 seeds: Sequence[int] | None = None) -> list[str]: ...

    def score(self, conversations: Sequence[Conversation],
              options: Sequence[str]) -> list[list[float]]: ...

    def next_token_logprobs(self, conversations: Sequence[Conversation], *,
                            top: int | None = 20) -> list[dict[str, float]]: ...


def check_conversation(messages: Any, where: str) -> Conversation:
    """A plain-dict copy of one conversation.

    Args:
        messages: the conversation to check.
        where: how errors name it ("conversation 3", "prompts, row 7").

    Raises:
        AccordError: it is not a non-empty list of ``{"role", "content"}`` dicts ending
            with a user (or system) turn.
    """
    if not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)) or not messages:
        raise AccordError(f"{where}: expected a non-empty list of messages, "
                          f"got {messages!r:.80}")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping) or m.get("role") not in ("system", "user", "assistant") \
                or not isinstance(m.get("content"), str):
            raise AccordError(f"{where}, message {i}: expected {{'role': system|user|assistant, "
                              f"'content': str}}, got {m!r:.80}")
        out.append({"role": m["role"], "content": m["content"]})
    if out[-1]["role"] == "assistant":
        raise AccordError(f"{where}: ends with an assistant message; a prompt ends with the "
                          "user turn to answer")
    return out


def check_conversations(conversations: Sequence[Any]) -> list[Conversation]:
    """Plain-dict copies of ``conversations`` (see :func:`check_conversation`)."""
    return [check_conversation(c, f"conversation {n}") for n, c in enumerate(conversations)]


def load_backend(model: Any, *, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", batch_size: int = 16,
                 max_length: int | None = None, top_logprobs: int = 20,
                 answer_tokens: int = 8, max_workers: int = 4, timeout_s: float = 120.0,
                 shared: bool = False, what: str = "model") -> LocalBackend | OpenAIBackend:
    """A backend for ``model``: an endpoint's model name with ``base_url``, else a local
    model (a folder, a ``.gguf`` file or ``smollm2``; wrap a loaded model in
    :class:`~accord.model.LocalBackend` directly).

    Args:
        model: see above.
        base_url: an OpenAI-compatible endpoint, e.g. ``http://127.0.0.1:8000/v1``.
        api_key_env: environment variable holding the endpoint's key ("EMPTY" when unset).
        batch_size: conversations per forward pass (local).
        max_length: tokens kept per scored input (local; default: the model's context).
        top_logprobs: tokens listed per position by the endpoint.
        answer_tokens: tokens the endpoint generates while looking for an option.
        max_workers: concurrent endpoint requests.
        timeout_s: per endpoint request.
        shared: load a local model by path once per process and share its weights with
            every later ``shared`` backend of the same path (for read-only users such as
            the LLM judge; never for a folder that is rewritten while the process runs).
        what: how errors name the model ("CAI model", "llm_judge model").

    Raises:
        AccordError: the model is not found, or has no chat template.
    """
    if base_url is not None:
        from accord.model._openai import OpenAIBackend

        return OpenAIBackend(str(model), base_url, api_key_env=api_key_env,
                             top_logprobs=top_logprobs, answer_tokens=answer_tokens,
                             max_workers=max_workers, timeout_s=timeout_s, what=what)
    from accord.model._local import LocalBackend

    if shared and isinstance(model, (str, Path)):
        with _SHARED_LOCK:
            key = str(model)
            if key not in _SHARED:
                loaded = LocalBackend(model, what=what)
                _SHARED[key] = (loaded.model, loaded.tokenizer)
            lm, tokenizer = _SHARED[key]
        return LocalBackend(lm, tokenizer, batch_size=batch_size, max_length=max_length,
                            name=key, what=what)
    return LocalBackend(model, batch_size=batch_size, max_length=max_length, what=what)
