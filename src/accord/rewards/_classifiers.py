"""Graders backed by off-the-shelf offline classifiers, each loaded once on first use.

``alt-profanity-check`` (a linear SVM on bag-of-words) scores a batch in one call.
``hatesonar`` (an ONNX model) scores one text per call; its graph lower-cases text with a
``StringNormalizer`` that needs the ``en_US.UTF-8`` locale, which slim containers lack, so
we build the locale once into a cache folder and point ``LOCPATH`` at it before the first
``Sonar()``. ``vaderSentiment`` is a rule-based sentiment lexicon.

This is training-side code: the behaviour meter (``accord.audit``) keeps its own copies so
that audits never depend on the reward's graders.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from accord._locale import ensure_utf8_locale
from accord.rewards._registry import Exchange, Grader, GraderParams, grader_kind

_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}
HATESONAR_CLASSES = ("hate_speech", "offensive_language", "neither")


def _load(name: str) -> Any:
    with _LOCK:
        if name not in _MODELS:
            if name == "profanity":
                import profanity_check

                _MODELS[name] = profanity_check
            elif name == "sonar":
                ensure_utf8_locale()
                from hatesonar import Sonar

                _MODELS[name] = Sonar()
            else:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                _MODELS[name] = SentimentIntensityAnalyzer()
        return _MODELS[name]


class ProfanityParams(GraderParams):
    """``profanity_classifier``: P(profane) of the response."""

    source: Literal["alt-profanity-check"] = "alt-profanity-check"


@grader_kind("profanity_classifier", ProfanityParams)
def profanity_grader(grader_id: str, params: ProfanityParams) -> Grader:
    """alt-profanity-check's probability that the response is profane.

    Args:
        grader_id: the grader's id.
        params: see :class:`ProfanityParams`.
    """

    def grade(exchanges: Sequence[Exchange], question: str) -> list[float]:
        if not exchanges:
            return []
        probs = _load("profanity").predict_prob([e.response for e in exchanges])
        return [float(p) for p in probs]

    return grade


class HateParams(GraderParams):
    """``hate_classifier``: hatesonar's probability mass on the chosen classes."""

    source: Literal["hatesonar"] = "hatesonar"
    classes: list[Literal["hate_speech", "offensive_language", "neither"]] = Field(
        default_factory=lambda: ["hate_speech", "offensive_language"], min_length=1)


@grader_kind("hate_classifier", HateParams)
def hate_grader(grader_id: str, params: HateParams) -> Grader:
    """The sum of hatesonar's confidences for ``classes`` (they sum to 1 over all three).

    Args:
        grader_id: the grader's id.
        params: see :class:`HateParams`.
    """
    wanted = set(params.classes)

    def grade(exchanges: Sequence[Exchange], question: str) -> list[float]:
        if not exchanges:
            return []
        sonar = _load("sonar")
        out = []
        for e in exchanges:
            classes = sonar.ping(e.response)["classes"]
            out.append(min(1.0, sum(float(c["confidence"]) for c in classes
                                    if c["class_name"] in wanted)))
        return out

    return grade


class SentimentParams(GraderParams):
    """``sentiment``: VADER's compound score mapped to a probability."""

    source: Literal["vaderSentiment"] = "vaderSentiment"
    # "negative": P = max(0, -compound), so neutral text scores 0 and only clearly
    # negative text passes 0.5; "positive" mirrors it.
    polarity: Literal["negative", "positive"] = "negative"


@grader_kind("sentiment", SentimentParams)
def sentiment_grader(grader_id: str, params: SentimentParams) -> Grader:
    """max(0, ∓compound) of VADER's sentiment for the response.

    Args:
        grader_id: the grader's id.
        params: see :class:`SentimentParams`.
    """
    sign = -1.0 if params.polarity == "negative" else 1.0

    def grade(exchanges: Sequence[Exchange], question: str) -> list[float]:
        if not exchanges:
            return []
        vader = _load("vader")
        return [max(0.0, sign * float(vader.polarity_scores(e.response)["compound"]))
                for e in exchanges]

    return grade
