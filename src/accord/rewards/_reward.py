"""The reward used in RL: the reward model's score plus the rule-based reward.

:class:`RuleBasedReward` is a TRL reward function (``GRPOTrainer(reward_funcs=[...])``):
it grades each completion's propositions with the spec's graders and returns the fitted
linear score for the prompt's response type. TRL passes the data set's other columns as
keyword arguments, so a ``response_type`` column picks the type per prompt; without one a
prompt classifier (any callable) decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np

from accord.errors import AccordError
from accord.graders import Exchange
from accord.rewards._fit import RuleWeights
from accord.rewards._propositions import PropositionGrader
from accord.spec import Rules

# Used when a response type has no fitted weights: the rules' class alone decides, best
# class highest, evenly spaced; a completion no class formula fits sits in the middle.
CLASS_REWARD = {"ideal": 1.0, "acceptable": 2 / 3, "unacceptable": 1 / 3, "disallowed": 0.0}
UNCLASSIFIED_REWARD = 0.5

PromptClassifier = Callable[[list[dict[str, str]]], str]


def total_reward(rm_scores: Sequence[float], rbr_scores: Sequence[float],
                 rbr_weight: float = 1.0) -> list[float]:
    """The reward for RL: ``rm + rbr_weight * rbr`` per completion (Mu et al. 2024).

    Args:
        rm_scores: the reward model's scores.
        rbr_scores: the rule-based reward's scores, same length.
        rbr_weight: how much the RBR counts against the reward model.

    Raises:
        AccordError: the lengths differ.
    """
    if len(rm_scores) != len(rbr_scores):
        raise AccordError(f"total_reward: {len(rm_scores)} reward-model scores but "
                          f"{len(rbr_scores)} RBR scores; give one of each per completion")
    rm = np.asarray(rm_scores, dtype=float)
    return [float(v) for v in rm + rbr_weight * np.asarray(rbr_scores, dtype=float)]


def as_messages(value: Any, role: str = "user") -> list[dict[str, str]]:
    """A prompt or completion as a message list: TRL gives plain strings (standard
    format) or lists of ``{"role", "content"}`` dicts (conversational)."""
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    if isinstance(value, Sequence) and all(isinstance(m, Mapping) for m in value):
        return [{"role": str(m.get("role", role)), "content": str(m.get("content", ""))}
                for m in value]
    raise AccordError(f"expected a string or a list of {{'role', 'content'}} messages, got "
                      f"{type(value).__name__}")


def completion_text(value: Any) -> str:
    """The assistant's text in a completion (the last assistant message if several)."""
    messages = as_messages(value, role="assistant")
    replies = [m["content"] for m in messages if m["role"] == "assistant"]
    return replies[-1] if replies else messages[-1]["content"]


class KeywordPromptClassifier:
    """Picks a response type from the last user message by regular expressions.

    Args:
        patterns: ``{response_type: [regex, ...]}``, tried in order; the first type with
            a matching pattern wins.
        default: the type when none matches.
    """

    def __init__(self, patterns: Mapping[str, Sequence[str]], default: str) -> None:
        self.patterns = [(t, [re.compile(p, re.IGNORECASE) for p in ps])
                         for t, ps in patterns.items()]
        self.default = default

    def __call__(self, prompt: list[dict[str, str]]) -> str:
        users = [m["content"] for m in prompt if m["role"] == "user"]
        text = users[-1] if users else ""
        for rtype, compiled in self.patterns:
            if any(c.search(text) for c in compiled):
                return rtype
        return self.default


class RuleBasedReward:
    """A TRL-compatible reward function scoring completions by the spec's rules.

    Args:
        rules: the spec's rules.
        weights: fitted weights (``accord rewards fit``); a response type without
            weights is scored by its rules' class (:data:`CLASS_REWARD`).
        prompt_classifier: gives a prompt's response type when the batch has no
            ``response_type_key`` column.
        response_type_key: the keyword-argument column naming each prompt's type.
        default_response_type: the type when neither column nor classifier gives one.
        skip_kinds: grader kinds not to run (their propositions count as 0).
        grader: an already built :class:`PropositionGrader` to share (else one is built).

    Raises:
        GraderError: a grader in the spec cannot be built.
        AccordError: the weights name none of the spec's propositions.
    """

    def __init__(self, rules: Rules, weights: RuleWeights | None = None,
                 prompt_classifier: PromptClassifier | None = None,
                 response_type_key: str = "response_type",
                 default_response_type: str | None = None, skip_kinds: Collection[str] = (),
                 grader: PropositionGrader | None = None) -> None:
        self.rules = rules
        self.weights = weights
        self.prompt_classifier = prompt_classifier
        self.response_type_key = response_type_key
        self.default_response_type = default_response_type
        self.grader = grader or PropositionGrader(rules, skip_kinds)
        known = {p.id for p in rules.propositions}
        for rtype, lw in (weights.by_type.items() if weights else ()):
            if lw.features and not known & set(lw.features):
                # e.g. weights fitted with --gold-labels: they would score everything 0.
                raise AccordError(f"rule weights for {rtype!r} use none of the spec's "
                                  f"propositions (they weigh {', '.join(lw.features[:4])}, "
                                  "...); fit them on this spec's graders")
        # TRL names a reward function's log column by its __name__.
        self.__name__ = "rule_based_reward"
        self._types = {r.id for r in rules.response_types}

    def response_types(self, prompts: Sequence[Any], **kwargs: Any) -> list[str]:
        """Each prompt's response type: the column, else the classifier, else the default.

        Raises:
            AccordError: none of them gives one, or it is not a type in the spec.
        """
        column = kwargs.get(self.response_type_key)
        out = []
        for i, prompt in enumerate(prompts):
            rtype = column[i] if column is not None else None
            if rtype is None and self.prompt_classifier is not None:
                rtype = self.prompt_classifier(as_messages(prompt))
            rtype = rtype or self.default_response_type
            if rtype is None:
                raise AccordError(f"prompt {i}: no response type; add a "
                                  f"{self.response_type_key!r} column, a prompt classifier "
                                  "or a default_response_type")
            if rtype not in self._types:
                raise AccordError(f"prompt {i}: unknown response type {rtype!r}; the spec "
                                  f"has {', '.join(sorted(self._types))}")
            out.append(str(rtype))
        return out

    def grade(self, prompts: Sequence[Any], completions: Sequence[Any],
              **kwargs: Any) -> list[dict[str, Any]]:
        """Everything behind the scores: per completion its response type, proposition
        probabilities, class and RBR score.

        Args:
            prompts: strings or message lists.
            completions: strings or message lists (the last assistant message is graded).
            **kwargs: other data-set columns (``response_type``).
        """
        if len(prompts) != len(completions):
            raise AccordError(f"{len(prompts)} prompts but {len(completions)} completions")
        types = self.response_types(prompts, **kwargs)
        exchanges = [Exchange(as_messages(p), completion_text(c))
                     for p, c in zip(prompts, completions, strict=True)]
        probs = self.grader.grade(exchanges)
        out = []
        for rtype, p in zip(types, probs, strict=True):
            klass = self.grader.classify(rtype, p)
            if self.weights is not None and rtype in self.weights.by_type:
                score = self.weights.score(rtype, p)
            else:
                score = CLASS_REWARD.get(klass or "", UNCLASSIFIED_REWARD)
            out.append({"response_type": rtype, "propositions": p, "class": klass,
                        "score": score})
        return out

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],
                 **kwargs: Any) -> list[float]:
        """The RBR score of each completion (TRL's reward-function signature).

        Args:
            prompts: strings or message lists.
            completions: strings or message lists.
            **kwargs: other data-set columns; ``response_type`` is read if present.
        """
        return [float(row["score"]) for row in self.grade(prompts, completions, **kwargs)]

