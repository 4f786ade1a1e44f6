"""A model in this process: a transformers causal LM with a chat template, as a backend."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accord.errors import AccordError
from accord.model._backend import Conversation, check_conversations
from accord.model._sampling import SamplingConfig


class LocalBackend:
    """A local causal LM (Accord's, any HF folder, a LoRA adapter folder, a ``.gguf`` file
    or ``smollm2``) behind
    the :class:`~accord.model.Backend` interface.

    ``generate`` is :func:`accord.model.generate` (the serving runner's decoding loop);
    ``score`` and ``next_token_logprobs`` are exact (``accord.model._score``).
    """

    def __init__(self, model: str | Path | Any, tokenizer: Any = None, *,
                 batch_size: int = 16, max_length: int | None = None,
                 name: str | None = None, what: str = "model") -> None:
        """Args:
            model: a path (see :func:`~accord.model.resolve_model`), or a loaded
                ``PreTrainedModel`` together with ``tokenizer``.
            tokenizer: the tokenizer of a loaded model; None with a path.
            batch_size: conversations per forward pass (never changes a reply).
            max_length: ``score`` keeps the last this-many tokens of each input
                (default: the model's ``max_position_embeddings``).
            name: how the backend is named (default: the path, or the model's own name).
            what: how errors name the model (e.g. "CAI model").

        Raises:
            AccordError: the model is missing, a tokenizer is missing or extra, the
                tokenizer has no chat template, or batch_size < 1.
        """
        if isinstance(model, (str, Path)):
            from accord.model._base import load_base_model
            from accord.model._resolve import resolve_model

            if tokenizer is not None:
                raise AccordError(f"{what}: give a tokenizer only with a loaded model")
            name = name or str(model)
            # A LoRA adapter folder loads as base + adapter, merged in memory (same outputs
            # as `accord model merge`'s copy, and no adapter work per token).
            model, tokenizer = load_base_model(resolve_model(model, what=what))
        elif tokenizer is None:
            raise AccordError(f"{what}: a loaded model needs its tokenizer")
        if not getattr(tokenizer, "chat_template", None):
            raise AccordError(f"{what} {name or ''}: the tokenizer has no chat template")
        if batch_size < 1:
            raise AccordError(f"{what}: batch_size={batch_size} must be >= 1")
        self.model, self.tokenizer = model, tokenizer
        self.name = name or str(getattr(model.config, "_name_or_path", "") or "local")
        self.batch_size = batch_size
        self.max_length = max_length

    def generate(self, conversations: Sequence[Conversation], sampling: SamplingConfig, *,
                 seeds: Sequence[int] | None = None) -> list[str]:
        """The assistant's next reply to each conversation (see
        :func:`accord.model.generate`)."""
        from accord.model._generate import generate

        return generate(self.model, self.tokenizer, list(conversations), sampling,
                        self.batch_size, seeds=seeds)

    def score(self, conversations: Sequence[Conversation],
              options: Sequence[str]) -> list[list[float]]:
        """Summed log-probability of each option's tokens as the start of the reply (exact,
        by teacher forcing; see :func:`accord.model._score.score_options`)."""
        from accord.model._score import score_options

        return score_options(self.model, self.tokenizer, check_conversations(conversations),
                             options, batch_size=self.batch_size, max_length=self.max_length)

    def next_token_logprobs(self, conversations: Sequence[Conversation], *,
                            top: int | None = 20) -> list[dict[str, float]]:
        """The first reply token's distribution by token text; ``top=None`` gives the whole
        vocabulary, so sums over token sets are exact."""
        from accord.model._score import next_token_logprobs

        return next_token_logprobs(self.model, self.tokenizer,
                                   check_conversations(conversations), top=top,
                                   batch_size=self.batch_size)
