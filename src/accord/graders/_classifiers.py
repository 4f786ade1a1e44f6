"""Off-the-shelf offline classifiers, each loaded once per process on first use, and the
kinds that wrap them.

``alt-profanity-check`` (a linear SVM on bag-of-words) scores a whole batch in one call,
about 30 µs a text. ``hatesonar`` (an ONNX logistic model) scores one text per call,
about 1 ms a text; its ONNX graph lower-cases text with a ``StringNormalizer`` that needs
the ``en_US.UTF-8`` locale, which slim containers lack, so we build that locale once into
a cache directory and point ``LOCPATH`` at it before the session is created.
``vaderSentiment`` is a rule-based sentiment lexicon.

The meter, the rule-based rewards and the screens all load them from here; which
thresholds and classes each uses is part of each grader's record.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from importlib import metadata
from typing import Any, Literal

from pydantic import Field

from accord._locale import ensure_utf8_locale
from accord.graders._base import Exchange, Grader, GraderRecord, ScoreGrader, Source
from accord.graders._registry import GraderParams, grader_kind

_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}
HATESONAR_CLASSES = ("hate_speech", "offensive_language", "neither")


def _load(name: str) -> Any:
    with _LOCK:
        if name not in _MODELS:
            # Importing each loads its model from disk (seconds): only when first needed.
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


def profanity_probabilities(texts: Sequence[str]) -> list[float]:
    """``alt-profanity-check``'s probability that each text is profane (one batched call).

    Args:
        texts: the texts to score.
    """
    if not texts:
        return []
    return [float(p) for p in _load("profanity").predict_prob(list(texts))]


def hatesonar_scores(texts: Sequence[str]) -> list[dict[str, float]]:
    """``hatesonar``'s class probabilities (``hate_speech``, ``offensive_language``,
    ``neither``) for each text, in the order hatesonar lists them.

    Args:
        texts: the texts to score.

    Raises:
        AccordError: the locale it needs cannot be built
            (see :func:`accord._locale.ensure_utf8_locale`).
    """
    if not texts:
        return []
    sonar = _load("sonar")
    out = []
    for text in texts:
        result = sonar.ping(text)
        out.append({c["class_name"]: float(c["confidence"]) for c in result["classes"]})
    return out


def sentiment_compounds(texts: Sequence[str]) -> list[float]:
    """VADER's compound sentiment (-1 … 1) of each text.

    Args:
        texts: the texts to score.
    """
    if not texts:
        return []
    vader = _load("vader")
    return [float(vader.polarity_scores(t)["compound"]) for t in texts]


@cache
def classifier_source(package: str) -> Source:
    """The installed classifier package and its version, as a grader record source.

    Args:
        package: the distribution name (``alt-profanity-check``, ``hatesonar``,
            ``vaderSentiment``).
    """
    try:
        version = metadata.version(package)
    except metadata.PackageNotFoundError:
        version = "not installed"
    return Source(package, version)


class ProfanityParams(GraderParams):
    """``profanity_classifier``: P(profane) of the response."""

    source: Literal["alt-profanity-check"] = "alt-profanity-check"


@grader_kind("profanity_classifier", ProfanityParams)
def profanity_grader(grader_id: str, params: ProfanityParams, question: str = "") -> Grader:
    """alt-profanity-check's probability that the response is profane.

    Args:
        grader_id: the grader's id.
        params: see :class:`ProfanityParams`.
        question: ignored (the classifier answers one fixed question).
    """

    def score(exchanges: Sequence[Exchange]) -> list[float]:
        return profanity_probabilities([e.response for e in exchanges])

    return ScoreGrader(grader_id, score, GraderRecord(
        "profanity_classifier", params.model_dump(), sources=(classifier_source(params.source),)))


class HateParams(GraderParams):
    """``hate_classifier``: hatesonar's probability mass on the chosen classes."""

    source: Literal["hatesonar"] = "hatesonar"
    classes: list[Literal["hate_speech", "offensive_language", "neither"]] = Field(
        default_factory=lambda: ["hate_speech", "offensive_language"], min_length=1)


@grader_kind("hate_classifier", HateParams)
def hate_grader(grader_id: str, params: HateParams, question: str = "") -> Grader:
    """The sum of hatesonar's confidences for ``classes`` (they sum to 1 over all three).

    Args:
        grader_id: the grader's id.
        params: see :class:`HateParams`.
        question: ignored.
    """
    wanted = set(params.classes)

    def score(exchanges: Sequence[Exchange]) -> list[float]:
        # Summed in hatesonar's own class order, so the float is the same whoever asks.
        return [min(1.0, sum(p for c, p in s.items() if c in wanted))
                for s in hatesonar_scores([e.response for e in exchanges])]

    return ScoreGrader(grader_id, score, GraderRecord(
        "hate_classifier", params.model_dump(), sources=(classifier_source(params.source),)))


class SentimentParams(GraderParams):
    """``sentiment``: VADER's compound score mapped to a probability."""

    source: Literal["vaderSentiment"] = "vaderSentiment"
    # "negative": P = max(0, -compound), so neutral text scores 0 and only clearly
    # negative text passes 0.5; "positive" mirrors it.
    polarity: Literal["negative", "positive"] = "negative"


@grader_kind("sentiment", SentimentParams)
def sentiment_grader(grader_id: str, params: SentimentParams, question: str = "") -> Grader:
    """max(0, ∓compound) of VADER's sentiment for the response.

    Args:
        grader_id: the grader's id.
        params: see :class:`SentimentParams`.
        question: ignored.
    """
    sign = -1.0 if params.polarity == "negative" else 1.0

    def score(exchanges: Sequence[Exchange]) -> list[float]:
        return [max(0.0, sign * c) for c in sentiment_compounds([e.response for e in exchanges])]

    return ScoreGrader(grader_id, score, GraderRecord(
        "sentiment", params.model_dump(), sources=(classifier_source(params.source),)))
