"""Off-the-shelf offline classifiers, loaded once per process on first use.

``alt-profanity-check`` (a linear SVM on bag-of-words) scores a whole batch in one call,
about 30 µs a text. ``hatesonar`` (an ONNX logistic model) scores one text per call,
about 1 ms a text; its ONNX graph lower-cases text with a ``StringNormalizer`` that needs
the ``en_US.UTF-8`` locale, which slim containers lack, so we build that locale once into
a cache directory and point ``LOCPATH`` at it before the session is created.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accord.errors import AccordError

_LOCK = threading.Lock()
_profanity: Any = None
_sonar: Any = None
LOCALE = "en_US.UTF-8"


def cache_dir() -> Path:
    """Where built artefacts go: ``$ACCORD_CACHE`` or ``~/.cache/accord``."""
    root = os.environ.get("ACCORD_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "accord"


def ensure_locale() -> Path:
    """Build the ``en_US.UTF-8`` locale into ``<cache>/locale`` (once) and set ``LOCPATH``.

    Returns:
        The locale directory now named by ``LOCPATH``.

    Raises:
        AccordError: ``localedef`` or the locale sources are missing (install the
            ``locales`` package), or the cache directory is not writable.
    """
    current = os.environ.get("LOCPATH")
    if current and (Path(current) / LOCALE).is_dir():
        return Path(current)
    target = cache_dir() / "locale"
    if not (target / LOCALE).is_dir():
        localedef = shutil.which("localedef")
        if localedef is None:
            raise AccordError(
                "hatesonar needs the en_US.UTF-8 locale and `localedef` is not on PATH to "
                "build it. Install the `locales` package (apt-get install locales) and run "
                "again.")
        try:
            target.mkdir(parents=True, exist_ok=True)
            # Build beside the target and move it into place, so parallel test workers
            # never see a half-written locale.
            with tempfile.TemporaryDirectory(dir=target) as tmp:
                built = Path(tmp) / LOCALE
                # localedef exits 1 on harmless warnings; the built directory is what counts.
                proc = subprocess.run([localedef, "-i", "en_US", "-f", "UTF-8", str(built)],
                                      capture_output=True, text=True, check=False)
                if not built.is_dir():
                    raise AccordError(
                        f"building the {LOCALE} locale failed (localedef exit "
                        f"{proc.returncode}: {proc.stderr.strip()[:300]}). Install the "
                        "`locales` package (it provides the en_US source) and run again.")
                with contextlib.suppress(OSError):  # another process got there first
                    built.rename(target / LOCALE)
        except OSError as exc:
            raise AccordError(f"cannot write the {LOCALE} locale under {target}: {exc}; "
                              "set ACCORD_CACHE to a writable directory") from exc
    os.environ["LOCPATH"] = str(target)
    return target


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
        AccordError: the locale it needs cannot be built (see :func:`ensure_locale`).
    """
    global _sonar
    if not texts:
        return []
    with _LOCK:
        if _sonar is None:
            ensure_locale()
            from hatesonar import Sonar

            _sonar = Sonar()
    out = []
    for text in texts:
        result = _sonar.ping(text)
        out.append({c["class_name"]: float(c["confidence"]) for c in result["classes"]})
    return out
