"""RL-CAI's AI feedback: a feedback model picks the better of two responses under a
principle, asked as a multiple-choice question; the normalised probabilities of the
options ``(A)``/``(B)`` are soft preference labels, averaged over several principles
(Bai et al. 2022, §4)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from random import Random
from typing import Any

from accord.cai._common import (
    Conversation,
    ScoreOptions,
    as_principles,
    prompt_messages,
    reply_text,
)
from accord.errors import AccordError
from accord.progress import task
from accord.world import CHOICE_OPTIONS, choice_conversation

_PASSTHROUGH = ("id", "prompt_id")


def normalise(logprobs: Sequence[float]) -> list[float]:
    """Probabilities from (unnormalised) log-probabilities (a stable softmax)."""
    if not logprobs or any(math.isnan(x) for x in logprobs):
        raise AccordError(f"feedback scores {list(logprobs)} are empty or NaN")
    top = max(logprobs)
    if top == -math.inf:
        return [1 / len(logprobs)] * len(logprobs)
    weights = [math.exp(x - top) for x in logprobs]
    total = sum(weights)
    return [w / total for w in weights]


def _pair(row: Any, i: int) -> tuple[Conversation, str, str]:
    where = f"pair {i}"
    if not isinstance(row, Mapping):
        raise AccordError(f"{where}: expected a dict with 'prompt' and 'chosen'/'rejected' "
                          "(or 'responses': [first, second])")
    prompt = prompt_messages(row, where)
    if "responses" in row:
        responses = row["responses"]
        if not isinstance(responses, Sequence) or len(responses) != 2:
            raise AccordError(f"{where}: 'responses' must hold exactly two responses")
        return prompt, reply_text(responses[0], where), reply_text(responses[1], where)
    if "chosen" not in row or "rejected" not in row:
        raise AccordError(f"{where}: needs 'chosen' and 'rejected' (or 'responses'); got keys "
                          f"{sorted(row)}")
    return prompt, reply_text(row["chosen"], where), reply_text(row["rejected"], where)


def feedback_labels(score: ScoreOptions, pairs: Sequence[Any], principles: Any, *,
                    n_principles: int = 4, seed: int = 0, both_orders: bool = True,
                    batch_size: int = 64) -> list[dict[str, Any]]:
    """Soft AI-feedback preference labels for pairs of responses.

    For each pair, ``n_principles`` distinct principles are drawn (per pair, from
    ``seed``); each is asked as ``accord.world.choice_conversation`` with the pair as
    options (A) and (B) and, with ``both_orders``, again with the options swapped, which
    cancels a feedback model's bias for a letter. Each question's probabilities of the
    replies ``(A)`` and ``(B)`` are normalised; the label is their mean.

    Args:
        score: ``(conversations, options)`` → option log-probabilities (e.g.
            ``LocalModel(...).score`` or ``OpenAIModel(...).score``).
        pairs: rows with ``prompt`` (messages) and ``chosen``/``rejected`` (TRL rows: the
            world's ``preference_pairs``, review exports; their order is only which
            response is "first") or ``responses: [first, second]``; responses are strings
            or TRL assistant-message lists.
        principles: a spec, a constitution, or principles (see ``as_principles``).
        n_principles: principles per pair (at most the constitution's size).
        seed: which principles each pair gets.
        both_orders: ask each principle in both option orders.
        batch_size: questions per call to ``score``.

    Returns:
        One row per pair, usable by the reward-model and DPO stages: ``prompt``,
        ``chosen`` / ``rejected`` (TRL assistant-message lists, the AI's preferred response
        first), ``p_chosen`` (the label's confidence, >= 0.5), ``p_first`` (probability
        that the pair's first response is better), ``first_preferred``, ``votes``
        (``principle``, ``order`` "AB"/"BA", ``p_first`` per question), ``principles``,
        ``source: "ai_feedback"`` and the row's ``id``/``prompt_id`` when present.

    Raises:
        AccordError: malformed pairs or principles, ``n_principles`` < 1, or a scorer that
            does not return one log-probability per option.
    """
    if n_principles < 1 or batch_size < 1:
        raise AccordError(f"feedback_labels: n_principles={n_principles} and "
                          f"batch_size={batch_size} must be >= 1")
    pool = as_principles(principles)
    parsed = [_pair(row, i) for i, row in enumerate(pairs)]
    questions: list[tuple[int, str, str, Conversation]] = []  # pair, principle, order, conv
    drawn: list[list[str]] = []
    for i, (prompt, first, second) in enumerate(parsed):
        chosen = Random(f"accord.cai.feedback:{seed}:{i}").sample(
            pool, min(n_principles, len(pool)))
        drawn.append([p.id for p in chosen])
        for p in chosen:
            questions.append((i, p.id, "AB", choice_conversation(prompt, p.comparison, first,
                                                                 second)))
            if both_orders:
                questions.append((i, p.id, "BA", choice_conversation(prompt, p.comparison,
                                                                     second, first)))
    probs: list[list[float]] = []
    with task("cai feedback", total=len(questions)) as progress:
        for lo in range(0, len(questions), batch_size):
            chunk = [q[3] for q in questions[lo:lo + batch_size]]
            scores = score(chunk, list(CHOICE_OPTIONS))
            if len(scores) != len(chunk) or any(len(s) != len(CHOICE_OPTIONS) for s in scores):
                raise AccordError("feedback_labels: the scorer must return one log-probability "
                                  f"per option ({len(CHOICE_OPTIONS)}) for each of the "
                                  f"{len(chunk)} questions")
            probs += [normalise(s) for s in scores]
            progress.advance(len(chunk))
    votes: list[list[dict[str, Any]]] = [[] for _ in parsed]
    for (i, pid, order, _), p in zip(questions, probs, strict=True):
        votes[i].append({"principle": pid, "order": order,
                         "p_first": p[0] if order == "AB" else p[1]})
    rows = []
    for i, ((prompt, first, second), row) in enumerate(zip(parsed, pairs, strict=True)):
        p_first = sum(v["p_first"] for v in votes[i]) / len(votes[i])
        better, worse = (first, second) if p_first >= 0.5 else (second, first)
        out: dict[str, Any] = {
            "prompt": prompt, "chosen": [{"role": "assistant", "content": better}],
            "rejected": [{"role": "assistant", "content": worse}],
            "p_chosen": max(p_first, 1 - p_first), "p_first": p_first,
            "first_preferred": p_first >= 0.5, "votes": votes[i], "principles": drawn[i],
            "source": "ai_feedback"}
        out.update({k: row[k] for k in _PASSTHROUGH if k in row})
        rows.append(out)
    return rows


def preference_rows(labels: Sequence[Mapping[str, Any]], *,
                    min_confidence: float = 0.5) -> list[dict[str, Any]]:
    """``prompt``/``chosen``/``rejected`` rows (plus ``p_chosen``) for
    ``accord.train.train_reward_model`` / ``train_dpo``, keeping labels whose confidence
    is at least ``min_confidence`` (0.5 keeps all)."""
    if not 0.5 <= min_confidence <= 1.0:
        raise AccordError(f"min_confidence={min_confidence} must be in [0.5, 1]")
    return [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"],
             "p_chosen": r["p_chosen"]}
            for r in labels if r["p_chosen"] >= min_confidence]


def vet_revisions(score: ScoreOptions, records: Sequence[Mapping[str, Any]], principles: Any,
                  *, min_confidence: float = 0.6, n_principles: int = 4,
                  seed: int = 0) -> list[dict[str, Any]]:
    """Keep an SL-CAI revision only where AI feedback prefers it to the initial response.

    A small critic's revisions can be worse than what they replace (a hallucinated
    critique, a lost fact); asking a feedback model, with the same multiple-choice
    questions as :func:`feedback_labels`, whether the revision beats the initial response
    is CAI's own remedy, and never uses the behaviour meter.

    Args:
        score: the feedback model's option scorer.
        records: :func:`critique_revise` results.
        principles: a spec, a constitution, or principles.
        min_confidence: the probability the revision is better must reach this.
        n_principles: principles per comparison.
        seed: which principles.

    Returns:
        Copies of the records with ``p_revision`` (the feedback model's probability that
        the revision is better) and ``vetted`` (kept); a rejected revision is replaced by
        the initial response in ``revision`` and ``messages`` (so ``sft_rows(...,
        changed_only=True)`` leaves it out).
    """
    if not 0.5 <= min_confidence <= 1.0:
        raise AccordError(f"min_confidence={min_confidence} must be in [0.5, 1]")
    todo = [i for i, r in enumerate(records) if r["revision"] != r["initial"]]
    labels = feedback_labels(score, [{"prompt": records[i]["prompt"],
                                      "responses": [records[i]["revision"],
                                                    records[i]["initial"]]} for i in todo],
                             principles, n_principles=n_principles, seed=seed) if todo else []
    p_revision = dict(zip(todo, (lab["p_first"] for lab in labels), strict=True))
    out = []
    for i, record in enumerate(records):
        p = p_revision.get(i)
        keep = p is None or p >= min_confidence
        text = record["revision"] if keep else record["initial"]
        out.append({**record, "revision": text, "p_revision": p, "vetted": keep,
                    "messages": [*record["messages"][:-1],
                                 {"role": "assistant", "content": text}]})
    return out
