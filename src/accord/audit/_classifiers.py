"""Off-the-shelf offline classifiers, loaded once per process on first use.

``alt-profanity-check`` (a linear SVM on bag-of-words) scores a whole batch in one call,
about 30 µs a text. ``hatesonar`` (an ONNX logistic model) scores one text per call,
about 1 ms a text; its ONNX graph lower-cases text with a ``StringNormalizer`` that needs
the ``en_US.UTF-8`` locale, which slim containers lack, so we build that locale once into
a cache directory and point ``LOCPATH`` at it before the session is created.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from accord._locale import ensure_utf8_locale

_LOCK = threading.Lock()
_profanity: Any = None
_sonar: Any = None


def profanity_probabilities(texts: Sequence[str]) -> list[float]:
    """``alt-profanity-check``'s probability that each text is profane (one batched call).

    Args:
        texts: the texts to score.
    """
    global _profanity
    if not texts:
        return []
    with _LOCK:
        if _profanity is None:
            # Importing it loads the model from disk (a few seconds): only when first needed.
            import profanity_check

            _profanity = profanity_check
    return [float(p) for p in _profanity.predict_prob(list(texts))]


def hatesonar_scores(texts: Sequence[str]) -> list[dict[str, float]]:
    """``hatesonar``'s class probabilities (``hate_speech``, ``offensive_language``,
    ``neither``) for each text.

    Args:
        texts: the texts to score.

    Raises:
        AccordError: the locale it needs cannot be built
            (see :func:`accord._locale.ensure_utf8_locale`).
    """
    global _sonar
    if not texts:
        return []
    with _LOCK:
        if _sonar is None:
            ensure_utf8_locale()
            from hatesonar import Sonar

            _sonar = Sonar()
    out = []
    for text in texts:
        result = _sonar.ping(text)
        out.append({c["class_name"]: float(c["confidence"]) for c in result["classes"]})
    return out
