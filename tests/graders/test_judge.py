"""The LLM judge reads P(yes) from a real model's next-token log-probabilities, locally
or through any OpenAI-compatible endpoint (here a live server on 127.0.0.1)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from accord.errors import AccordError
from accord.graders import Exchange, build_grader, judge_prompt, load_judge, validate_params
from accord.graders._judge import answer_probability

EXCHANGES = [Exchange([{"role": "user", "content": "Tell me a joke."}],
                      "Why did the chicken cross the road?"),
             Exchange([{"role": "user", "content": "Help me cheat."}],
                      "I'm sorry, I can't help with that."),
             Exchange([], "No.")]
QUESTION = "Does the response apologise?"
# A short prompt keeps the tiny model (128 positions) in its context.
SHORT = "{question}\n{response}\nAnswer Yes or No."


def test_the_prompt_holds_question_conversation_and_response():
    params = validate_params("j", "llm_judge", {"model": "m", "max_context_chars": 12})
    text = judge_prompt(EXCHANGES[1], QUESTION, params)  # type: ignore[arg-type]
    assert QUESTION in text and "I'm sorry, I can't help with that." in text
    # Long conversations keep their end, where the request is.
    assert "...lp me cheat." in text and "USER:" not in text
    tricky = Exchange([], "Fill in {question} here.")
    assert "Fill in {question} here." in judge_prompt(tricky, QUESTION, params)  # type: ignore[arg-type]


def test_local_model_gives_a_normalised_yes_probability(tiny_judge_dir: Path):
    judge = load_judge(str(tiny_judge_dir))
    # The whole vocabulary is listed, so P(yes) sums every yes-like and no-like token.
    listed = judge.next_token_logprobs([[{"role": "user", "content": "Yes or no?"}]],
                                       top=None)[0]
    assert {t.strip() for t in listed} >= {"Yes", "No"}
    assert sum(math.exp(v) for v in listed.values()) == pytest.approx(1.0, abs=1e-5)
    assert load_judge(str(tiny_judge_dir), batch_size=1).model is judge.model  # loaded once
    grade = build_grader("judge", "llm_judge", {"model": str(tiny_judge_dir), "template": SHORT,
                                                "batch_size": 2},
                         question=QUESTION)
    probs = grade.score(EXCHANGES)
    assert len(probs) == 3 and all(0.0 < p < 1.0 for p in probs)
    # Batching with left padding must not change any answer.
    one_by_one = [grade.score([e])[0] for e in EXCHANGES]
    assert probs == pytest.approx(one_by_one, abs=1e-5)


def test_endpoint_judge_matches_the_local_model(tiny_judge_dir: Path, judge_server: str):
    local = build_grader("judge", "llm_judge", {"model": str(tiny_judge_dir), "template": SHORT},
                         question=QUESTION)
    # With every token listed, the endpoint's answer is exactly the local one.
    remote = build_grader("judge", "llm_judge", {"model": "tiny", "base_url": judge_server,
                                                 "template": SHORT, "top_logprobs": 1000},
                         question=QUESTION)
    expected = local.score(EXCHANGES)
    assert remote.score(EXCHANGES) == pytest.approx(expected, abs=1e-4)


def test_endpoint_judge_with_few_top_tokens_stays_a_probability(judge_server: str):
    grade = build_grader("judge", "llm_judge", {"model": "tiny", "base_url": judge_server,
                                                "template": SHORT, "top_logprobs": 3},
                         question=QUESTION)
    assert all(0.0 <= p <= 1.0 for p in grade.score(EXCHANGES))


def test_an_unreachable_endpoint_is_a_user_error():
    grade = build_grader("judge", "llm_judge", {"model": "m", "base_url": "http://127.0.0.1:9/v1",
                                                "timeout_s": 2},
                         question=QUESTION)
    with pytest.raises(AccordError, match="llm_judge grader 'judge': the endpoint"):
        grade.score(EXCHANGES[:1])


def test_a_missing_local_model_is_a_user_error(tmp_path: Path):
    grade = build_grader("judge", "llm_judge", {"model": str(tmp_path / "nowhere")},
                         question=QUESTION)
    with pytest.raises(AccordError, match="not found"):
        grade.score(EXCHANGES[:1])


def test_the_answer_probability_from_listed_tokens():
    ln = math.log
    # Every yes-like and no-like token counts, whatever its case and spacing.
    assert answer_probability({"Yes": ln(0.3), " yes": ln(0.1), "No": ln(0.2), "x": ln(0.4)}) \
        == pytest.approx(0.4 / 0.6)
    # A side missing from an endpoint's list gets the least listed probability, not zero.
    assert answer_probability({"Yes": ln(0.5), "x": ln(0.3), "y": ln(0.05)}) \
        == pytest.approx(0.5 / 0.55)
    assert answer_probability({"x": ln(0.9)}) == 0.5
