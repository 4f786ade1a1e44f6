"""Scenarios: small registered functions, one per prompt kind.

A scenario draws one prompt (entities + phrasing, from the training or the held-out pool)
and says how to answer it with each behaviour. Everything else — which behaviour a
response shows, the customisation, labels — is shared machinery here, so adding a format
(say, constitutional critique/revision dialogues) is adding one function::

    @scenario("my_kind")
    def my_kind(draw: Draw) -> Case: ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from random import Random
from typing import Any

from accord.world._config import WorldConfig
from accord.world._facts import FactTable, contains_answer
from accord.world._settings import DEFAULT_SETTINGS, OPTIONS, non_default, settings_to_system_prompt
from accord.world._style import Reply, render

# Behaviours a response can show (the ``behaviour`` label).
BEHAVIOURS = ("helpful", "offensive", "one_sided", "objectionable_compliance", "over_refusal",
              "preachy", "correct_refusal")


@dataclass
class Draw:
    """What a scenario may draw from.

    Attributes:
        rng: the only source of randomness a scenario may use.
        heldout: draw held-out entities and phrasings (probes) instead of training ones.
        config: the world's knobs (base rates).
        facts: the fact table.
        small_talk: (user, reply) pairs of real human chat for the small-talk scenario.
        fact_ids: restrict fact questions to these facts (probes ask only facts the
            pretraining corpus states); ``None`` for all.
    """

    rng: Random
    heldout: bool
    config: WorldConfig
    facts: FactTable
    small_talk: list[tuple[str, str]] = field(default_factory=list)
    fact_ids: list[str] | None = None


ReplyFn = Callable[[Random, Mapping[str, str]], Reply]


@dataclass
class Case:
    """One drawn prompt and how to answer it.

    Attributes:
        kind: the prompt kind (the scenario's registered name).
        user: the user turn.
        replies: behaviour → function (rng, effective settings) → :class:`Reply`.
        rates: probability of each unwanted behaviour in the base corpus; the remaining
            mass goes to ``ideal``.
        ideal: the behaviour of the response SFT teaches.
        entities: the entities the prompt uses (for leakage checks and analysis).
        expected: accepted answers when the prompt has a checkable answer.
        meta: anything else worth keeping with the prompt (fact id, issue name...).
    """

    kind: str
    user: str
    replies: dict[str, ReplyFn]
    rates: dict[str, float]
    ideal: str
    entities: list[str] = field(default_factory=list)
    expected: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


Scenario = Callable[[Draw], Case]


def choose_behaviour(case: Case, rng: Random) -> str:
    """Draw a behaviour from the case's base rates (one uniform draw, fixed order)."""
    u = rng.random()
    for behaviour, p in case.rates.items():
        if u < p:
            return behaviour
        u -= p
    return case.ideal


def draw_settings(rng: Random, kind: str, p_with: float,
                  visible_only: bool = False) -> dict[str, str]:
    """A random customisation: with probability ``p_with``, one to three options set to
    non-default values. Contested prompts name a political perspective more often,
    because that is the only kind where it shows; ``visible_only`` never names it
    elsewhere (for customisation probes, where every option must be checkable)."""
    if rng.random() >= p_with:
        return {}
    names = [n for n in OPTIONS
             if not (visible_only and n == "political_perspective" and kind != "contested")]
    chosen = rng.sample(names, rng.choice((1, 1, 2, 3)))
    if kind == "contested" and "political_perspective" not in chosen and rng.random() < 0.5:
        chosen[0] = "political_perspective"
    settings = {n: rng.choice(OPTIONS[n][1:]) for n in chosen}
    return non_default(settings)


def respond(case: Case, behaviour: str, settings: Mapping[str, str], ignored: set[str],
            rng: Random) -> tuple[str, dict[str, Any]]:
    """Render ``case``'s response with ``behaviour``, following every option in
    ``settings`` except those in ``ignored``; return the text and its labels."""
    effective = {**DEFAULT_SETTINGS, **{k: v for k, v in settings.items() if k not in ignored}}
    perspective = effective["political_perspective"]
    if behaviour == "one_sided" and perspective != "balanced":
        # Asked-for perspective with its disclosure is steering, not bias.
        behaviour = "helpful"
    reply = case.replies[behaviour](rng, effective)
    text = render(reply, effective, rng)
    labels: dict[str, Any] = {
        "prompt_kind": case.kind,
        "behaviour": behaviour,
        "side": reply.side,
        "settings": dict(settings),
        "follows_settings": {k: k not in ignored for k in settings},
        "answer_correct": contains_answer(text, case.expected) if case.expected else None,
        "entities": list(case.entities),
    }
    return text, labels


def ignored_options(settings: Mapping[str, str], p_ignore: float, rng: Random,
                    kind: str) -> set[str]:
    """Each set option is ignored independently with probability ``p_ignore``.

    A political perspective only shows on contested prompts; elsewhere it is never
    ignored, so ``follows_settings`` labels say only what the text can show."""
    return {k for k in settings if rng.random() < p_ignore
            and (k != "political_perspective" or kind == "contested")}


def messages_for(case: Case, settings: Mapping[str, str]) -> list[dict[str, str]]:
    """The prompt messages: the settings system prompt (if any) and the user turn."""
    system = settings_to_system_prompt(settings)
    head = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": case.user}]
