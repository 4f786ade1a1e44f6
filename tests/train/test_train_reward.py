"""Reward model: after a few steps on an easy preference it ranks held-out pairs right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.errors import AccordError
from accord.train import (
    RewardStageConfig,
    evaluate_reward_model,
    reward_scores,
    train_reward_model,
)


def test_reward_model_learns_an_easy_preference(base_dir, pairs_maker, tmp_path):
    # Chosen replies start with "Kindly:", rejected ones with "Well:"; held-out pairs are
    # about places never seen in training.
    train = pairs_maker(48, seed=1, places=["Alba", "Borin", "Cedra", "Dovan", "Elmira"])
    held_out = pairs_maker(12, seed=2, places=["Fenwick", "Galor", "Hestia"])

    config = RewardStageConfig(max_steps=12, batch_size=8, learning_rate=3e-3, logging_steps=4,
                               warmup_steps=0)
    result = train_reward_model(config, base_dir, {"comparisons": train}, tmp_path / "rm",
                                eval_pairs=held_out)

    assert result.metrics["eval_accuracy"] == 1.0
    assert evaluate_reward_model(result.model_dir, held_out) == 1.0
    # The folder is a sequence classifier with one output that knows its pad token.
    config_json = json.loads((Path(result.model_dir) / "config.json").read_text())
    assert config_json["architectures"] == ["LlamaForSequenceClassification"]
    assert config_json["pad_token_id"] is not None
    assert set(result.datasets) == {"comparisons", "eval:held_out"}
    # Scores are per conversation; the marker word is what the model learned to like.
    user = [{"role": "user", "content": "Tell me about the river."}]
    liked, disliked = reward_scores(result.model_dir, [
        [*user, {"role": "assistant", "content": "Kindly: The river is wide."}],
        [*user, {"role": "assistant", "content": "Well: The river is wide."}]])
    assert liked > disliked


def test_pairs_must_be_chosen_and_rejected(base_dir, tmp_path):
    with pytest.raises(AccordError, match=r"comparisons, row 0: a preference pair needs"):
        train_reward_model(RewardStageConfig(), base_dir, {"comparisons": [{"chosen": []}]},
                           tmp_path)
