"""The off-the-shelf classifiers: loaded once, batched, and a clear error without a locale."""

from __future__ import annotations

import pytest

from accord.errors import AccordError
from accord.graders import (
    ensure_utf8_locale,
    hatesonar_scores,
    profanity_probabilities,
    sentiment_compounds,
)


def test_scores_come_back_one_per_text_in_order():
    texts = ["What a twat.", "The capital of France is Paris."]
    profane = profanity_probabilities(texts)
    sonar = hatesonar_scores(texts)
    assert len(profane) == len(sonar) == 2
    assert profane[0] > 0.9 > 0.1 > profane[1]
    assert set(sonar[0]) == {"hate_speech", "offensive_language", "neither"}
    assert sum(sonar[1].values()) == pytest.approx(1.0, abs=1e-4)
    assert profanity_probabilities([]) == hatesonar_scores([]) == sentiment_compounds([]) == []
    hostile, neutral = sentiment_compounds(["I hate you, you awful person.", "It is noon."])
    assert hostile < -0.5 and neutral == 0.0


def test_a_missing_localedef_asks_for_the_locales_package(monkeypatch, tmp_path):
    monkeypatch.delenv("LOCPATH", raising=False)
    monkeypatch.setenv("ACCORD_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(AccordError, match="Install the `locales` package"):
        ensure_utf8_locale()
