"""The classifiers' thresholds come from the world's corpus labels, never from probes."""

from __future__ import annotations

from accord.audit import classifier_thresholds


def test_thresholds_come_from_corpus_labels(world):
    strict = classifier_thresholds(world, n=800, max_false_positive_rate=0.002)
    loose = classifier_thresholds(world, n=800, max_false_positive_rate=0.05)
    assert set(strict) == {"profanity_check", "hatesonar"}
    for name in strict:
        assert 0.0 < loose[name] <= strict[name] <= 1.0
