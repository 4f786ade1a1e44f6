"""The model that critiques, revises and gives feedback: any ``accord.model`` backend
(a local model, an OpenAI-compatible endpoint) with CAI's seed schedule.

Call ``k`` of :meth:`CaiModel.generate` samples with seed ``sampling.seed + 1000 * k``, so
repeated rounds draw fresh numbers and the whole sequence of calls is reproducible (on a
local model row ``i`` of call ``k`` is keyed ``(seed + 1000 k, i)``; an endpoint request
sends ``seed + 1000 k + i``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accord.cai._common import Conversation
from accord.model import Backend, LocalBackend, OpenAIBackend, SamplingConfig, check_conversation


class CaiModel:
    """A backend as CAI's ``generate`` and ``score`` callables
    (:data:`~accord.cai.Generate`, :data:`~accord.cai.ScoreOptions`)."""

    def __init__(self, backend: Backend, sampling: SamplingConfig | None = None) -> None:
        """Args:
            backend: an ``accord.model`` backend (``LocalBackend``, ``OpenAIBackend``).
            sampling: for :meth:`generate` (default: temperature 0.7, 96 new tokens, seed
                0); see the module docstring for the seed of each call.
        """
        self.backend = backend
        self.sampling = sampling or SamplingConfig(temperature=0.7, max_new_tokens=96)
        self.calls = 0
        self._lock = threading.Lock()

    def generate(self, conversations: Sequence[Conversation]) -> list[str]:
        """The assistant's next reply to each conversation (seeded; see the module)."""
        with self._lock:
            seed = self.sampling.seed + 1000 * self.calls
            self.calls += 1
        return self.backend.generate(list(conversations),
                                     dataclasses.replace(self.sampling, seed=seed))

    def score(self, conversations: Sequence[Conversation],
              options: Sequence[str]) -> list[list[float]]:
        """The log-probability of each option as the start of the assistant's reply to
        each conversation (exact on a local model; read from the top log-probabilities on
        an endpoint, see ``accord.model.OpenAIBackend``)."""
        convs = [check_conversation(c, f"conversation {i}") for i, c in enumerate(conversations)]
        return self.backend.score(convs, options)


class LocalModel(CaiModel):
    """:class:`CaiModel` over a :class:`~accord.model.LocalBackend`: the policy itself (a
    folder saved by ``accord.model``), any HF folder, a ``.gguf`` file or ``smollm2``."""

    def __init__(self, model: str | Path | Any, tokenizer: Any = None, *,
                 sampling: SamplingConfig | None = None, batch_size: int = 16,
                 max_length: int | None = None) -> None:
        """Args:
            model: a path (see ``accord.model.resolve_model``), or a loaded
                ``PreTrainedModel`` together with ``tokenizer``.
            tokenizer: the tokenizer of a loaded model; None with a path.
            sampling: see :class:`CaiModel`.
            batch_size: conversations per forward pass (never changes a result).
            max_length: :meth:`score` keeps the last this-many tokens of each input
                (default: the model's ``max_position_embeddings``).
        """
        super().__init__(LocalBackend(model, tokenizer, batch_size=batch_size,
                                      max_length=max_length, what="CAI model"), sampling)


class OpenAIModel(CaiModel):
    """:class:`CaiModel` over an :class:`~accord.model.OpenAIBackend`: any
    OpenAI-compatible chat endpoint (vLLM, a hosted API, ``accord serve``)."""

    def __init__(self, model: str, base_url: str, *, api_key_env: str = "OPENAI_API_KEY",
                 temperature: float = 0.7, top_p: float = 0.95, max_tokens: int = 96,
                 seed: int = 0, top_logprobs: int = 20, answer_tokens: int = 8,
                 max_workers: int = 4, timeout_s: float = 120.0) -> None:
        """Args:
            model: the served model's name.
            base_url: e.g. ``http://127.0.0.1:8000/v1``.
            api_key_env: environment variable holding the key ("EMPTY" when unset).
            temperature, top_p, max_tokens, seed: sampling for :meth:`generate`.
            top_logprobs: listed tokens per position for :meth:`score` (OpenAI allows 20).
            answer_tokens: tokens generated (greedily) while looking for the option.
            max_workers: concurrent requests.
            timeout_s: per request.
        """
        backend = OpenAIBackend(model, base_url, api_key_env=api_key_env,
                                top_logprobs=top_logprobs, answer_tokens=answer_tokens,
                                max_workers=max_workers, timeout_s=timeout_s, what="CAI model")
        super().__init__(backend, SamplingConfig(temperature=temperature, top_p=top_p,
                                                 max_new_tokens=max_tokens, seed=seed))
