"""``fit_prompts``: prompts measured as the model sees them (chat template included) and
dropped, not cut, when over the limit; GRPO trains only on those that fit."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from accord.errors import AccordError
from accord.train import GRPOStageConfig, fit_prompts, hash_rows, train_grpo


def _rendered_length(tokenizer, messages) -> int:
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


@pytest.fixture(scope="module")
def rows():
    words = ["the", "reviewer", "asked", "the", "assistant", "a", "question", "about",
             "the", "weather"]
    return [{"prompt": [{"role": "user", "content": " ".join(words[: 2 + i])}], "i": i}
            for i in range(len(words) - 1)]


def test_keeps_exactly_the_rows_that_fit_in_order(base_dir, rows):
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    lengths = [_rendered_length(tokenizer, r["prompt"]) for r in rows]
    assert len(set(lengths)) > 2  # the rows really differ in length
    limit = sorted(lengths)[len(lengths) // 2]
    kept = fit_prompts(rows, base_dir, limit)
    assert [r["i"] for r in kept] == [r["i"] for r, n in zip(rows, lengths, strict=True)
                                      if n <= limit]
    assert 0 < len(kept) < len(rows)
    # Kept rows are whole: nothing is cut.
    assert all(k == r for k in kept for r in rows if r["i"] == k["i"])


def test_no_limit_keeps_everything_and_bad_limits_say_what_to_do(base_dir, rows):
    assert fit_prompts(rows, base_dir, None) == rows
    with pytest.raises(AccordError, match="positive token count"):
        fit_prompts(rows, base_dir, -3)
    with pytest.raises(AccordError, match="none of the 9 prompts fits; raise the limit"):
        fit_prompts(rows, base_dir, 1)


def test_grpo_trains_only_on_prompts_that_fit(base_dir, rows, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    limit = _rendered_length(tokenizer, rows[3]["prompt"])

    def length_reward(prompts, completions, completion_ids, **kwargs):
        return [float(len(ids)) for ids in completion_ids]

    config = GRPOStageConfig(max_steps=1, batch_size=4, num_generations=2,
                             max_completion_length=4, max_prompt_tokens=limit, eval_steps=0)
    result = train_grpo(config, base_dir, [{"prompt": r["prompt"]} for r in rows],
                        [length_reward], tmp_path / "grpo")
    given = [{"prompt": r["prompt"]} for r in rows]
    expected = fit_prompts(given, base_dir, limit)
    assert len(expected) == 4  # rows 0-3: the limit is row 3's length
    # The lineage hashes what was trained on: the fitting rows, not the ones given.
    assert result.datasets["prompts"] == hash_rows(expected) != hash_rows(given)
