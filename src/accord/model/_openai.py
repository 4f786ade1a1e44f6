"""Any OpenAI-compatible chat endpoint (vLLM, a hosted API, ``accord serve``) as a backend,
through the official ``openai`` client (imported on first request).

An endpoint only returns the top-N log-probabilities of the tokens it generated, so:

- ``next_token_logprobs`` lists the first generated position's tokens (and the token
  chosen there); a token not listed has less probability than every listed one.
- ``score`` reads the options at the position where the greedy reply writes an option's
  key (``A`` in ``(A)``; "(" and spaces before it are skipped), from the tokens listed
  there; an option missing there gets the smallest listed probability, a bound, not zero.
  With the options sharing every token but the key, that is exactly the local model's
  normalised score up to the tokens after the key.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from accord.errors import AccordError
from accord.model._backend import Conversation, check_conversations
from accord.model._sampling import SamplingConfig

_KEY_STRIP = " \t\n()[]{}.:,'\""


def option_key(text: str) -> str:
    """What identifies an option in a token: ``"(A)"`` → ``"A"``, ``" (B"`` → ``"B"``."""
    return text.strip(_KEY_STRIP)


class OpenAIBackend:
    """An OpenAI-compatible chat endpoint behind the :class:`~accord.model.Backend`
    interface; see the module docstring for what its scores mean."""

    def __init__(self, model: str, base_url: str, *, api_key_env: str = "OPENAI_API_KEY",
                 top_logprobs: int = 20, answer_tokens: int = 8, max_workers: int = 4,
                 timeout_s: float = 120.0, what: str = "model") -> None:
        """Args:
            model: the served model's name.
            base_url: e.g. ``http://127.0.0.1:8000/v1``.
            api_key_env: environment variable holding the key ("EMPTY" when unset).
            top_logprobs: listed tokens per position (OpenAI allows 20, vLLM more); also
                what ``next_token_logprobs(top=None)`` asks for.
            answer_tokens: tokens generated (greedily) by ``score`` while looking for the
                option.
            max_workers: concurrent requests.
            timeout_s: per request.
            what: how errors name the model.
        """
        if top_logprobs < 1 or answer_tokens < 1 or max_workers < 1:
            raise AccordError(f"{what} endpoint: top_logprobs, answer_tokens and max_workers "
                              "must be >= 1")
        self.name, self.base_url = model, base_url
        self.top_logprobs, self.answer_tokens = top_logprobs, answer_tokens
        self.max_workers, self.timeout_s, self.api_key_env = max_workers, timeout_s, api_key_env
        self._client: Any = None

    def _create(self, **kwargs: Any) -> Any:
        import openai

        if self._client is None:
            key = os.environ.get(self.api_key_env) or "EMPTY"
            self._client = openai.OpenAI(base_url=self.base_url, api_key=key,
                                         timeout=self.timeout_s, max_retries=1)
        try:
            return self._client.chat.completions.create(model=self.name, **kwargs)
        except openai.OpenAIError as exc:
            raise AccordError(f"endpoint {self.base_url} (model {self.name!r}) failed: "
                              f"{exc}") from exc

    def _map(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        with ThreadPoolExecutor(self.max_workers) as pool:
            return list(pool.map(fn, items))

    def _logprobs(self, reply: Any) -> Sequence[Any]:
        logprobs = reply.choices[0].logprobs
        if logprobs is None or not logprobs.content:
            raise AccordError(f"endpoint {self.base_url} (model {self.name!r}) returned no "
                              "logprobs; it must support logprobs=True and top_logprobs")
        return logprobs.content

    def generate(self, conversations: Sequence[Conversation], sampling: SamplingConfig, *,
                 seeds: Sequence[int] | None = None) -> list[str]:
        """The assistant's reply to each conversation; request ``i`` sends seed
        ``seeds[i]``, or ``sampling.seed + i`` (an endpoint takes one integer seed, so
        replies repeat only where it honours ``seed``).

        Raises:
            AccordError: the endpoint failed, or ``sampling`` sets top_k or
                repetition_penalty, which the OpenAI API does not have.
        """
        if sampling.top_k or sampling.repetition_penalty != 1.0:
            raise AccordError(f"endpoint {self.base_url}: the OpenAI API has no top_k or "
                              "repetition_penalty; leave them at 0 and 1.0")
        convs = check_conversations(conversations)
        if seeds is not None and len(seeds) != len(convs):
            raise AccordError(f"{len(seeds)} seeds for {len(convs)} conversations")

        def one(item: tuple[int, Conversation]) -> str:
            i, conv = item
            reply = self._create(messages=conv, temperature=sampling.temperature,
                                 top_p=sampling.top_p, max_tokens=sampling.max_new_tokens,
                                 seed=seeds[i] if seeds is not None else sampling.seed + i)
            return reply.choices[0].message.content or ""

        return self._map(one, list(enumerate(convs)))

    def score(self, conversations: Sequence[Conversation],
              options: Sequence[str]) -> list[list[float]]:
        """Log-probabilities of the options read from the endpoint's top log-probabilities
        (see the module docstring); all equal when no listed token spells any option.

        Raises:
            AccordError: options without distinct keys, or the endpoint fails or returns
                no logprobs.
        """
        keys = [option_key(o) for o in options]
        if not options or any(not k for k in keys) or len(set(keys)) != len(keys):
            raise AccordError(f"score: options {list(options)} need distinct keys (their "
                              "text without brackets and spaces, e.g. A and B)")
        convs = check_conversations(conversations)

        def one(conv: Conversation) -> list[float]:
            reply = self._create(messages=conv, max_tokens=self.answer_tokens, temperature=0,
                                 logprobs=True, top_logprobs=self.top_logprobs)
            return _option_logprobs(self._logprobs(reply), keys)

        return self._map(one, convs)

    def next_token_logprobs(self, conversations: Sequence[Conversation], *,
                            top: int | None = 20) -> list[dict[str, float]]:
        """The first generated position's listed tokens (and the chosen one) by text, with
        their log-probabilities; ``top=None`` asks for ``top_logprobs`` tokens. Listed
        tokens with the same text add up."""
        convs = check_conversations(conversations)
        n = self.top_logprobs if top is None else top

        def one(conv: Conversation) -> dict[str, float]:
            reply = self._create(messages=conv, max_tokens=1, temperature=0, logprobs=True,
                                 top_logprobs=n)
            first = self._logprobs(reply)[0]
            listed = {(t.token, t.logprob) for t in first.top_logprobs or []}
            listed.add((first.token, first.logprob))
            mass: dict[str, float] = {}
            for token, logprob in listed:
                mass[token] = mass.get(token, 0.0) + math.exp(logprob)
            return {t: math.log(p) if p > 0 else float("-inf") for t, p in mass.items()}

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
