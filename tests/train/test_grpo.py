"""GRPO/RLOO: the mean reward of a toy objective rises; reward models plug in by path;
every step's reward, KL and length are logged, and a held-out reward from step 0."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from accord.errors import AccordError
from accord.train import (
    GRPOStageConfig,
    RewardStageConfig,
    train_grpo,
    train_reward_model,
)

TARGET_IDS = range(4, 54)  # the toy objective: 50 ordinary token ids (0-3 are special)


def target_fraction(prompts, completions, completion_ids, **kwargs) -> list[float]:
    """A TRL reward function: the fraction of a completion's tokens that are targets."""
    return [sum(t in TARGET_IDS for t in ids) / max(1, len(ids)) for ids in completion_ids]


def expected_target_mass(model_dir, prompts) -> float:
    """Mean probability the model puts on target tokens for the first reply token."""
    model = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    mass = 0.0
    for row in prompts:
        text = tokenizer.apply_chat_template(row["prompt"], tokenize=False,
                                             add_generation_prompt=True)
        ids = torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]])
        with torch.inference_mode():
            probs = model(input_ids=ids).logits[0, -1].softmax(-1)
        mass += float(probs[: len(TARGET_IDS)].sum())
    return mass / len(prompts)


@pytest.fixture(scope="module")
def prompts(pairs_maker):
    return [{"prompt": p["prompt"]} for p in pairs_maker(16, seed=5)]


@pytest.fixture(scope="module")
def reward_model_dir(base_dir, pairs_maker, tmp_path_factory):
    config = RewardStageConfig(max_steps=2, batch_size=4, logging_steps=1)
    out = tmp_path_factory.mktemp("rm")
    return train_reward_model(config, base_dir, pairs_maker(8), out).model_dir


def test_grpo_raises_the_reward_with_a_reward_model_in_the_mix(base_dir, prompts,
                                                               reward_model_dir, tmp_path):
    before = expected_target_mass(base_dir, prompts)
    # The reward model's score is part of the reward (weight 0 here, so the toy objective
    # alone decides what is learned); beta > 0 keeps a KL term to the starting model.
    config = GRPOStageConfig(max_steps=8, batch_size=8, num_generations=4,
                             max_completion_length=8, learning_rate=5e-2, logging_steps=1,
                             warmup_steps=0, beta=0.04, reward_weights=(1.0, 0.0))
    result = train_grpo(config, base_dir, prompts, [target_fraction, reward_model_dir],
                        tmp_path / "grpo")

    after = expected_target_mass(result.model_dir, prompts)
    assert after > before + 0.2, (before, after)
    rewards = [h["reward"] for h in result.log_history if "reward" in h]
    assert sum(rewards[-2:]) > sum(rewards[:2])
    logged = set().union(*result.log_history)
    assert "rewards/target_fraction/mean" in logged and "kl" in logged
    assert result.references == {"reference": str(base_dir), "reward_0": "target_fraction",
                                 "reward_1": str(reward_model_dir)}


def test_rloo_is_an_option(base_dir, prompts, tmp_path):
    before = expected_target_mass(base_dir, prompts)
    config = GRPOStageConfig(algorithm="rloo", max_steps=8, batch_size=8, num_generations=4,
                             max_completion_length=8, learning_rate=5e-2, logging_steps=1,
                             warmup_steps=0)
    result = train_grpo(config, base_dir, prompts, [target_fraction], tmp_path / "rloo")
    assert result.stage == "rloo"
    assert expected_target_mass(result.model_dir, prompts) > before + 0.2


def test_every_step_is_logged_and_held_out_prompts_are_scored_from_step_0(base_dir, prompts,
                                                                          tmp_path):
    config = GRPOStageConfig(max_steps=4, batch_size=4, num_generations=2,
                             max_completion_length=6, eval_steps=2, eval_generations=2)
    result = train_grpo(config, base_dir, prompts[:12], [target_fraction], tmp_path / "grpo",
                        eval_prompts=prompts[12:])

    steps = [h for h in result.log_history if "reward" in h]
    assert [h["step"] for h in steps] == [1, 2, 3, 4]
    for point in steps:
        # What the report's curves and the diagnosis read, for every step.
        for key in ("reward_std", "kl", "entropy", "completions/mean_length",
                    "completions/clipped_ratio", "frac_reward_zero_std", "learning_rate"):
            assert isinstance(point[key], float | int), (key, point)
        assert 0.0 <= point["frac_reward_zero_std"] <= 1.0
    held_out = [h for h in result.log_history if "eval_reward" in h]
    assert [h["step"] for h in held_out] == [0, 2, 4]
    for point in held_out:
        assert 0.0 <= point["eval_reward"] <= 1.0  # the toy reward is a fraction
    assert "eval_prompts" in result.datasets


def test_without_held_out_prompts_nothing_is_evaluated(base_dir, prompts, tmp_path):
    config = GRPOStageConfig(max_steps=2, batch_size=4, num_generations=2,
                             max_completion_length=4)
    result = train_grpo(config, base_dir, prompts, [target_fraction], tmp_path / "grpo")
    assert not [h for h in result.log_history if "eval_reward" in h]
    assert [h["step"] for h in result.log_history if "reward" in h] == [1, 2]


@pytest.mark.parametrize(("changes", "message"), [
    ({"beta": 0.0}, "needs beta > 0"),
    ({"batch_size": 6}, "multiple of num_generations"),
    ({"reward_weights": (1.0, 2.0)}, "2 weights for 1 reward sources"),
])
def test_bad_settings_are_refused(base_dir, prompts, tmp_path, changes, message):
    with pytest.raises(AccordError, match=message):
        train_grpo(GRPOStageConfig(**changes), base_dir, prompts, [target_fraction], tmp_path)


def test_prompts_must_end_with_a_user_turn(base_dir, tmp_path):
    rows = [{"prompt": [{"role": "user", "content": "Hi"},
                        {"role": "assistant", "content": "Hello"}]}]
    with pytest.raises(AccordError, match="row 0: the prompt ends with an assistant turn"):
        train_grpo(GRPOStageConfig(), base_dir, rows, [target_fraction], tmp_path)
