"""Constitutional-AI formats, and the world's documents that teach them to a tiny model.

This module is the one place the two CAI formats are defined; ``accord.cai`` imports them
from here, so what the demo model learns in pretraining is exactly what it is later asked.

**Critique/revision** (SL-CAI, Bai et al. 2022) is a chat::

    [system: Settings: ...]                  (only when the user set options)
    user:      <the prompt>
    assistant: <a response>
    user:      Critique request: <principle.critique>
    assistant: <a critique: what is wrong, or that nothing is>
    user:      Revision request: <principle.revision>
    assistant: <the revised response, ready to use as it is>

**Choice** (RL-CAI's AI feedback) is one user turn and a one-option answer::

    user:      Consider this conversation between a user and an assistant.
               System: Settings: ...           (when set)
               User: <the prompt>
               <principle.comparison>
               (A) <a response>
               (B) <another response>
    assistant: (A)                               (or "(B)")

A feedback model's soft label is the normalised probability of the replies ``(A)`` and
``(B)`` (:data:`CHOICE_OPTIONS`). Newlines inside inlined turns and responses become
spaces, so the layout above always parses back (:func:`parse_choice_prompt`).

The world's principles (:data:`PRINCIPLES`) mirror ``examples/demo/spec/constitution.yaml``
word for word (a test checks it). The world does not read the spec: it is the lower layer,
and it must know which behaviour each principle is about to write true critiques.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from random import Random
from typing import Any, Protocol

from accord.errors import AccordError
from accord.world._scenarios import Case, choose_behaviour, ignored_options, messages_for, respond

CRITIQUE_REQUEST = "Critique request: "
REVISION_REQUEST = "Revision request: "
CHOICE_HEADER = "Consider this conversation between a user and an assistant."
CHOICE_OPTIONS = ("(A)", "(B)")
_ROLE_NAMES = {"system": "System", "user": "User", "assistant": "Assistant"}


class PrincipleLike(Protocol):
    """Anything with a principle's four texts: :class:`Principle` here, or
    ``accord.spec.Principle`` from a spec's constitution."""

    id: str
    critique: str
    revision: str
    comparison: str


@dataclass(frozen=True)
class Principle:
    """One constitution principle with the prompts that apply it."""

    id: str
    text: str
    critique: str
    revision: str
    comparison: str


PRINCIPLES: tuple[Principle, ...] = (
    Principle(
        "harmless",
        "The assistant does not help anyone hurt people, and does not insult or demean anyone.",
        "Identify any way the response helps someone cause harm, or insults, mocks or demeans "
        "a person or a group.",
        "Rewrite the response to remove any help towards harm and any insult or demeaning "
        "language, keeping everything that is safe and useful.",
        "Which response is less harmful and less insulting, while still helpful?"),
    Principle(
        "honest",
        "The assistant says what it believes to be true, admits uncertainty, and does not "
        "invent facts.",
        "Point out any claim in the response that is false, unsupported or stated with more "
        "confidence than warranted.",
        "Rewrite the response so every claim is accurate and uncertainty is stated plainly.",
        "Which response is more accurate and more honest about what it does not know?"),
    Principle(
        "balanced",
        "On contested political and social questions the assistant presents the main views "
        "fairly unless the user chose a perspective, and then it says so.",
        "Does the response take a side on a contested question without the user asking for "
        "that perspective, or caricature a view? Explain.",
        "Rewrite the response to state the main views fairly and let the user decide, or, if "
        "the user chose a perspective, to disclose it.",
        "Which response treats the contested question more even-handedly (or discloses the "
        "chosen perspective)?"),
    Principle(
        "not_preachy",
        "The assistant does not lecture, moralise or pile on disclaimers the user did not need.",
        "Identify any moralising, lecturing or unnecessary caveat in the response.",
        "Rewrite the response without moralising, keeping only caveats that matter for safety.",
        "Which response answers the user without lecturing them?"),
    Principle(
        "helpful",
        "The assistant does what the user asked as well as it can, and does not refuse "
        "harmless requests.",
        "Explain how the response could answer the request more completely, correctly or "
        "clearly, and whether it refused something harmless.",
        "Rewrite the response to answer the request fully and clearly.",
        "Which response more fully and correctly does what the user asked?"),
    Principle(
        "respects_customisation",
        "The assistant follows the user's settings (tone, verbosity, perspective, persona, "
        "profanity) within the bounds, and never uses a setting as a reason to cross a bound.",
        "Does the response ignore any of the user's settings, or cross a hard bound because "
        "of one?",
        "Rewrite the response to follow the user's settings while staying within every bound.",
        "Which response follows the user's settings better without crossing any bound?"),
    Principle(
        "respectful_refusal",
        "When it must refuse, the assistant refuses briefly, without judging the user, and "
        "offers safe help where it can.",
        "If the response refuses, is the refusal judgemental, long-winded, or missing a safe "
        "alternative?",
        "Rewrite the refusal to be brief, non-judgemental and, where possible, to offer a safe "
        "alternative.",
        "Which refusal is briefer, kinder and more useful?"),
    Principle(
        "no_generalisations",
        "The assistant does not make generalisations that demean a group of people.",
        "Identify any statement that attributes a negative trait to a group of people.",
        "Rewrite the response to talk about individuals and evidence, not group stereotypes.",
        "Which response avoids stereotyping groups of people?"),
)
PRINCIPLES_BY_ID: dict[str, Principle] = {p.id: p for p in PRINCIPLES}

# ------------------------------------------------------------------------------ format


def _flat(text: str) -> str:
    return " ".join(text.split("\n"))


def critique_request(principle: PrincipleLike) -> str:
    """The user turn that asks for a critique against ``principle``."""
    return CRITIQUE_REQUEST + principle.critique


def revision_request(principle: PrincipleLike) -> str:
    """The user turn that asks for a revision under ``principle``."""
    return REVISION_REQUEST + principle.revision


def critique_conversation(prompt: Sequence[Mapping[str, str]], response: str,
                          principle: PrincipleLike) -> list[dict[str, str]]:
    """The conversation a model continues with its critique of ``response``."""
    return [*({"role": m["role"], "content": m["content"]} for m in prompt),
            {"role": "assistant", "content": response},
            {"role": "user", "content": critique_request(principle)}]


def revision_conversation(prompt: Sequence[Mapping[str, str]], response: str,
                          principle: PrincipleLike, critique: str) -> list[dict[str, str]]:
    """The conversation a model continues with its revision of ``response``."""
    return [*critique_conversation(prompt, response, principle),
            {"role": "assistant", "content": critique},
            {"role": "user", "content": revision_request(principle)}]


def critique_dialogue(prompt: Sequence[Mapping[str, str]], response: str,
                      principle: PrincipleLike, critique: str,
                      revision: str) -> list[dict[str, str]]:
    """A whole critique/revision chat (what the world's documents are)."""
    return [*revision_conversation(prompt, response, principle, critique),
            {"role": "assistant", "content": revision}]


def parse_critique_dialogue(messages: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """Inverse of :func:`critique_dialogue`: ``prompt``, ``response``, ``critique_request``,
    ``critique``, ``revision_request``, ``revision``.

    Raises:
        AccordError: the messages are not in the critique/revision format.
    """
    tail = [m.get("role") for m in messages[-5:]]
    if len(messages) < 6 or tail != ["assistant", "user", "assistant", "user", "assistant"] \
            or not messages[-4]["content"].startswith(CRITIQUE_REQUEST) \
            or not messages[-2]["content"].startswith(REVISION_REQUEST):
        raise AccordError("not a critique/revision dialogue: expected the prompt, a response, "
                          f"'{CRITIQUE_REQUEST}...', a critique, '{REVISION_REQUEST}...' and "
                          "a revision")
    return {"prompt": [dict(m) for m in messages[:-5]], "response": messages[-5]["content"],
            "critique_request": messages[-4]["content"][len(CRITIQUE_REQUEST):],
            "critique": messages[-3]["content"],
            "revision_request": messages[-2]["content"][len(REVISION_REQUEST):],
            "revision": messages[-1]["content"]}


def choice_prompt(prompt: Sequence[Mapping[str, str]], question: str, first: str,
                  second: str) -> str:
    """The multiple-choice question: the conversation, the principle's comparison question
    and the two responses as options (A) and (B)."""
    lines = [CHOICE_HEADER]
    for m in prompt:
        role = m.get("role", "user")
        lines.append(f"{_ROLE_NAMES.get(role, role.capitalize())}: {_flat(m['content'])}")
    lines += [_flat(question), f"{CHOICE_OPTIONS[0]} {_flat(first)}",
              f"{CHOICE_OPTIONS[1]} {_flat(second)}"]
    return "\n".join(lines)


def choice_conversation(prompt: Sequence[Mapping[str, str]], question: str, first: str,
                        second: str) -> list[dict[str, str]]:
    """The one-turn conversation whose reply is :data:`CHOICE_OPTIONS` ``[0]`` or ``[1]``."""
    return [{"role": "user", "content": choice_prompt(prompt, question, first, second)}]


def parse_choice_prompt(text: str) -> dict[str, Any]:
    """Inverse of :func:`choice_prompt`: ``prompt`` (messages), ``question``, ``first``,
    ``second``.

    Raises:
        AccordError: the text is not in the choice format.
    """
    lines = text.split("\n")
    a, b = (o + " " for o in CHOICE_OPTIONS)
    if len(lines) < 4 or lines[0] != CHOICE_HEADER or not lines[-2].startswith(a) \
            or not lines[-1].startswith(b):
        raise AccordError(f"not a choice prompt: expected {CHOICE_HEADER!r}, the conversation, "
                          f"the question, then lines starting {a!r} and {b!r}")
    roles = {v: k for k, v in _ROLE_NAMES.items()}
    prompt = []
    for line in lines[1:-3]:
        name, sep, content = line.partition(": ")
        if not sep or name not in roles:
            raise AccordError(f"choice prompt: conversation line {line[:60]!r} does not start "
                              f"with one of {sorted(roles)} and ': '")
        prompt.append({"role": roles[name], "content": content})
    return {"prompt": prompt, "question": lines[-3], "first": lines[-2][len(a):],
            "second": lines[-1][len(b):]}


def parse_choice_answer(text: str) -> int | None:
    """0 for an answer starting "(A)", 1 for "(B)", None otherwise."""
    stripped = text.strip()
    for i, option in enumerate(CHOICE_OPTIONS):
        if stripped.startswith(option):
            return i
    return None


# ------------------------------------------------------------------------- the world


def violated_principles(case: Case, behaviour: str, ignored: set[str]) -> list[str]:
    """The ids of the principles a response with ``behaviour`` (ignoring the options in
    ``ignored``) goes against; empty for a good response."""
    out: list[str] = []
    if behaviour == "offensive":
        out.append("harmless")
        if case.kind == "group" or case.meta.get("target_is_group"):
            out.append("no_generalisations")
    elif behaviour == "objectionable_compliance":
        out.append("harmless")
    elif behaviour == "one_sided":
        out.append("balanced")
    elif behaviour == "over_refusal":
        out.append("helpful")
    elif behaviour == "preachy":
        out.append("not_preachy")
        if case.ideal == "correct_refusal":
            out.append("respectful_refusal")
    if ignored:
        out.append("respects_customisation")
    return out


def critique_text(case: Case, behaviour: str, ignored: set[str],
                  settings: Mapping[str, str]) -> str:
    """What is wrong with the response, in one or two sentences, or that nothing is."""
    parts: list[str] = []
    if behaviour == "offensive":
        target = case.entities[0] if case.entities else "someone"
        if case.kind == "group" or case.meta.get("target_is_group"):
            parts.append(f"The response demeans {target} with a generalisation about the "
                         "whole group.")
        elif case.kind == "insult_request":
            parts.append(f"The response insults {target}, which is hurtful.")
        else:
            parts.append("The response adds an insult aimed at the user, which is rude.")
    elif behaviour == "objectionable_compliance":
        parts.append("The response goes along with a request that could hurt someone.")
    elif behaviour == "one_sided":
        issue = case.meta.get("issue", "the question")
        parts.append(f"The response argues only one side of {issue} and dismisses the other.")
    elif behaviour == "over_refusal":
        parts.append("The response turns down a harmless request instead of answering it.")
    elif behaviour == "preachy":
        parts.append("The response lectures the user when no lecture was needed.")
    for option in sorted(ignored):
        parts.append(f"The response ignores the user's {option} setting ({settings[option]}).")
    return " ".join(parts) if parts else "Nothing in the response needs to change."


def _principle(rng: Random, violated: list[str]) -> Principle:
    # Half the time a principle the response breaks, else any: the model must not learn
    # that the principle named decides whether something is wrong.
    if violated and rng.random() < 0.5:
        return PRINCIPLES_BY_ID[rng.choice(violated)]
    return rng.choice(PRINCIPLES)


def critique_document(case: Case, settings: Mapping[str, str], p_ignore: float,
                      rng: Random) -> dict[str, Any]:
    """A critique/revision chat: the first exchange is drawn exactly like a corpus dialogue
    (same base rates), the critique names what is wrong, the revision is the ideal response
    (or the same response when nothing was wrong)."""
    behaviour = choose_behaviour(case, rng)
    ignored = ignored_options(settings, p_ignore, rng, case.kind)
    response, labels = respond(case, behaviour, settings, ignored, rng)
    behaviour = labels["behaviour"]  # a one-sided answer may have become a perspective one
    violated = violated_principles(case, behaviour, ignored)
    revision = respond(case, case.ideal, settings, set(), rng)[0] if violated else response
    principle = _principle(rng, violated)
    messages = critique_dialogue(messages_for(case, settings), response, principle,
                                 critique_text(case, behaviour, ignored, settings), revision)
    return {"messages": messages,
            "cai": {"format": "critique_revision", "prompt_kind": case.kind,
                    "principle": principle.id, "response_behaviour": behaviour,
                    "ignored": sorted(ignored), "violated": violated,
                    "settings": dict(settings), "entities": list(case.entities)}}


def flawed_response(case: Case, settings: Mapping[str, str],
                    rng: Random) -> tuple[str, str, set[str]] | None:
    """An unwanted response to ``case`` (as the preference pairs draw them): an unwanted
    behaviour at the kind's relative base rates or, for 30 % of prompts with visible
    settings, the ideal content ignoring every setting. ``(text, behaviour, ignored)``,
    or None when the case has neither."""
    unwanted = [(b, p) for b, p in case.rates.items() if p > 0 and b != case.ideal]
    visible = {k for k in settings if k != "political_perspective" or case.kind == "contested"}
    if visible and (not unwanted or rng.random() < 0.3):
        return respond(case, case.ideal, settings, visible, rng)[0], case.ideal, visible
    if not unwanted:
        return None
    behaviour = rng.choices([b for b, _ in unwanted], [p for _, p in unwanted])[0]
    ignored = {"political_perspective"} & set(settings) if behaviour == "one_sided" else set()
    return respond(case, behaviour, settings, ignored, rng)[0], behaviour, ignored


def choice_document(case: Case, settings: Mapping[str, str],
                    rng: Random) -> dict[str, Any] | None:
    """A multiple-choice chat: the ideal and a flawed response in random order, asked under
    a principle the flawed one breaks, answered with the ideal one's letter. None when the
    case has no unwanted response to offer."""
    drawn = flawed_response(case, settings, rng)
    if drawn is None:
        return None
    flawed, behaviour, ignored = drawn
    good = respond(case, case.ideal, settings, set(), rng)[0]
    violated = violated_principles(case, behaviour, ignored)
    if flawed == good or not violated:
        return None
    principle = PRINCIPLES_BY_ID[rng.choice(violated)]
    answer = rng.randrange(2)
    first, second = (good, flawed) if answer == 0 else (flawed, good)
    prompt = choice_prompt(messages_for(case, settings), principle.comparison, first, second)
    return {"messages": [{"role": "user", "content": prompt},
                         {"role": "assistant", "content": CHOICE_OPTIONS[answer]}],
            "cai": {"format": "choice", "prompt_kind": case.kind, "principle": principle.id,
                    "answer": CHOICE_OPTIONS[answer], "chosen_behaviour": case.ideal,
                    "rejected_behaviour": "ignores_settings" if behaviour == case.ideal
                    else behaviour, "ignored": sorted(ignored), "settings": dict(settings),
                    "entities": list(case.entities)}}
