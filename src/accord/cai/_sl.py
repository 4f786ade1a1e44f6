"""SL-CAI: the model answers, critiques its answer against a sampled principle and revises
it, ``rounds`` times; the final revisions become SFT data (Bai et al. 2022, §3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from random import Random
from typing import Any

from accord.cai._common import Generate, as_principles, check_replies, prompt_messages
from accord.errors import AccordError
from accord.progress import task
from accord.world import critique_conversation, revision_conversation

# Prompt-record fields copied onto each result, so results can be joined back.
_PASSTHROUGH = ("id", "prompt_id", "kind", "settings", "expected", "ideal_behaviour")


def critique_revise(generate: Generate, prompts: Sequence[Any], principles: Any, *,
                    rounds: int = 1, seed: int = 0,
                    responses: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Critique and revise a model's responses against the constitution.

    Each round shows the model the prompt and the current response, asks for a critique
    against a principle drawn at random (per prompt and round, from ``seed``), then for a
    revision; the revision is the next round's response. Every round starts from a fresh
    conversation (prompt, response, requests) in the format of
    ``accord.world.critique_dialogue``, so contexts stay short for small models.

    Args:
        generate: conversations → replies (e.g. ``LocalModel(...).generate``).
        prompts: message lists ending with the user turn, or records with ``messages``
            (world prompts) or ``prompt``.
        principles: a spec, a constitution, or principles (see ``as_principles``).
        rounds: critique/revision rounds (>= 1).
        seed: which principles are drawn.
        responses: the initial responses, one per prompt (e.g. stored policy
            completions); None asks ``generate`` for them.

    Returns:
        One record per prompt: ``messages`` (the prompt and the final revision as the
        assistant turn: a TRL conversational SFT row), ``prompt``, ``initial``,
        ``revision``, ``rounds`` (``principle``, ``critique``, ``revision`` per round;
        ``kept`` is True where the model's revision was empty and the previous response
        was kept), ``principles`` (ids in order), and the prompt record's ``id``,
        ``prompt_id``, ``kind``, ``settings``, ``expected``, ``ideal_behaviour`` when it
        had them.

    Raises:
        AccordError: bad prompts, principles, ``rounds`` or ``responses``, or a model
            that does not return one string per conversation.
    """
    if rounds < 1:
        raise AccordError(f"critique_revise: rounds={rounds} must be >= 1")
    pool = as_principles(principles)
    convs = [prompt_messages(p, f"prompt {i}") for i, p in enumerate(prompts)]
    if responses is not None and len(responses) != len(convs):
        raise AccordError(f"critique_revise: {len(responses)} responses for {len(convs)} "
                          "prompts; give one per prompt")
    rngs = [Random(f"accord.cai.critique:{seed}:{i}") for i in range(len(convs))]
    history: list[list[dict[str, Any]]] = [[] for _ in convs]
    with task("cai critique/revision", total=2 * rounds + (responses is None)) as progress:
        if responses is None:
            current = check_replies(generate(convs), len(convs), "initial responses")
            progress.advance()
        else:
            current = check_replies(list(responses), len(convs), "responses")
        initial = list(current)
        for r in range(rounds):
            drawn = [rng.choice(pool) for rng in rngs]
            critiques = check_replies(
                generate([critique_conversation(c, x, p)
                          for c, x, p in zip(convs, current, drawn, strict=True)]),
                len(convs), f"round {r + 1} critiques")
            progress.advance()
            revisions = check_replies(
                generate([revision_conversation(c, x, p, k)
                          for c, x, p, k in zip(convs, current, drawn, critiques, strict=True)]),
                len(convs), f"round {r + 1} revisions")
            progress.advance()
            for i, (p, k, v) in enumerate(zip(drawn, critiques, revisions, strict=True)):
                kept = not v.strip()
                current[i] = current[i] if kept else v.strip()
                history[i].append({"round": r + 1, "principle": p.id, "critique": k,
                                   "revision": current[i], "kept": kept})
    records = []
    for i, (conv, prompt) in enumerate(zip(convs, prompts, strict=True)):
        record: dict[str, Any] = {
            "messages": [*conv, {"role": "assistant", "content": current[i]}],
            "prompt": conv, "initial": initial[i], "revision": current[i],
            "rounds": history[i], "principles": [h["principle"] for h in history[i]]}
        if isinstance(prompt, Mapping):
            record.update({k: prompt[k] for k in _PASSTHROUGH if k in prompt})
        records.append(record)
    return records


def sft_rows(records: Sequence[dict[str, Any]], *, changed_only: bool = False) -> list[dict]:
    """``{"messages": [...]}`` rows for ``accord.train.train_sft`` from
    :func:`critique_revise` records; ``changed_only`` keeps those whose revision differs
    from the initial response."""
    return [{"messages": r["messages"]} for r in records
            if not changed_only or r["revision"] != r["initial"]]
