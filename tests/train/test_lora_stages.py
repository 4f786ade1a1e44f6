"""LoRA in every stage (real TRL steps on the tiny model), a stage starting from an adapter,
the ``lora`` and ``report_to`` fields' checks, and the model card each stage writes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from accord.errors import AccordError
from accord.model import (
    LocalBackend,
    SamplingConfig,
    is_adapter_dir,
    read_lineage,
    weights_sha256,
)
from accord.train import (
    DPOStageConfig,
    GRPOStageConfig,
    RewardStageConfig,
    SFTStageConfig,
    evaluate_reward_model,
    preference_margin,
    reward_scores,
    train_dpo,
    train_grpo,
    train_reward_model,
    train_sft,
    write_stage_card,
)
from accord.train._common import LORA_DEFAULTS, trainer_arguments

QUICK = dict(batch_size=8, learning_rate=1e-2, logging_steps=1, warmup_steps=0)


@pytest.fixture(scope="module")
def sft_adapter(base_dir, chats, tmp_path_factory):
    rows = [{"messages": c} for c in chats[:32]]
    return train_sft(SFTStageConfig(**QUICK, max_steps=4, lora=True), base_dir, rows,
                     tmp_path_factory.mktemp("sft"))


def test_lora_reward_model_learns_and_scores_through_its_merged_copy(sft_adapter,
                                                                     pairs_maker, tmp_path):
    train = pairs_maker(48, seed=1, places=["Alba", "Borin", "Cedra", "Dovan", "Elmira"])
    held_out = pairs_maker(12, seed=2, places=["Fenwick", "Galor", "Hestia"])
    config = RewardStageConfig(**QUICK, max_steps=12, lora={"r": 8})
    result = train_reward_model(config, sft_adapter.model_dir, train, tmp_path / "rm",
                                eval_pairs=held_out)
    assert is_adapter_dir(result.model_dir)
    lineage = read_lineage(result.model_dir)
    assert lineage["task"] == "SEQ_CLS"
    # Its base is the SFT adapter itself (merged in memory or on disk when loaded).
    assert lineage["base_model"]["path"] == str(Path(sft_adapter.model_dir).resolve())
    assert result.metrics["eval_accuracy"] == 1.0
    assert evaluate_reward_model(result.model_dir, held_out) == 1.0
    user = [{"role": "user", "content": "Tell me about the river."}]
    liked, disliked = reward_scores(result.model_dir, [
        [*user, {"role": "assistant", "content": "Kindly: The river is wide."}],
        [*user, {"role": "assistant", "content": "Well: The river is wide."}]])
    assert liked > disliked


def test_lora_dpo_from_an_sft_adapter_moves_the_margin_and_loads_as_a_chain(
        sft_adapter, pairs_maker, tmp_path):
    pairs = pairs_maker(32, seed=3)
    result = train_dpo(DPOStageConfig(**QUICK, max_steps=8, lora=True), sft_adapter.model_dir,
                       pairs, tmp_path / "dpo")
    assert is_adapter_dir(result.model_dir)
    # DPO's adapter sits on the SFT adapter: loading walks the chain, merging each level.
    assert read_lineage(result.model_dir)["base_model"]["sha256"] == \
        weights_sha256(sft_adapter.model_dir)
    assert preference_margin(result.model_dir, pairs, ref_model_dir=sft_adapter.model_dir) > 0
    backend = LocalBackend(result.model_dir)
    reply = backend.generate([pairs[0]["prompt"]], SamplingConfig(max_new_tokens=6,
                                                                 temperature=0.0))
    assert isinstance(reply[0], str)


def test_lora_grpo_trains_an_adapter(sft_adapter, pairs_maker, tmp_path):
    prompts = [{"prompt": p["prompt"]} for p in pairs_maker(8, seed=5)]

    def longer(prompts, completions, **kwargs) -> list[float]:
        return [len(c[0]["content"]) / 50 for c in completions]

    config = GRPOStageConfig(**{**QUICK, "learning_rate": 1e-3}, max_steps=2,
                             num_generations=4, max_completion_length=8, lora=True)
    result = train_grpo(config, sft_adapter.model_dir, prompts, [longer], tmp_path / "grpo")
    assert is_adapter_dir(result.model_dir) and result.steps == 2
    assert any("reward" in h for h in result.log_history)


def test_every_stage_writes_a_model_card_with_its_lineage(sft_adapter, base_dir):
    card = (Path(sft_adapter.model_dir) / "README.md").read_text()
    front = card.split("---\n")[1]
    assert f'base_model: "{Path(base_dir).resolve()}"' in front
    assert "library_name: peft" in front and '- "sft"' in front and '- "train"' in front
    assert sft_adapter.datasets["train"] in card and weights_sha256(base_dir) in card
    assert '"learning_rate": 0.01' in card and "Spec version: not recorded" in card
    # Once the spec version and the meter's figures are known, the pipeline rewrites it.
    write_stage_card(sft_adapter, spec_version="v2", figures={"refusal": {
        "rate": 0.25, "low": 0.2, "high": 0.31, "n": 250}})
    card = (Path(sft_adapter.model_dir) / "README.md").read_text()
    assert "Spec version: `v2`" in card and "| refusal | 0.250 (95 % interval 0.200–0.310)" \
        in card and sft_adapter.datasets["train"] in card


def test_lora_field_is_normalised_and_checked():
    assert SFTStageConfig(lora=True).lora == LORA_DEFAULTS
    assert SFTStageConfig(lora=False).lora is None
    partial = DPOStageConfig(lora={"r": 4, "target_modules": ("q_proj", "v_proj")}).lora
    assert partial == {**LORA_DEFAULTS, "r": 4, "target_modules": ["q_proj", "v_proj"]}
    with pytest.raises(AccordError, match=r"lora: unknown key\(s\) rank; allowed: r, alpha"):
        SFTStageConfig(lora={"rank": 4})
    with pytest.raises(AccordError, match=r"lora.r=0: the rank must be an integer >= 1"):
        GRPOStageConfig(lora={"r": 0})
    with pytest.raises(AccordError, match=r"lora.dropout=1.5"):
        RewardStageConfig(lora={"dropout": 1.5})


def test_report_to_is_none_by_default_and_names_a_missing_package(tmp_path):
    assert trainer_arguments(SFTStageConfig(), tmp_path)["report_to"] == []
    with pytest.raises(AccordError, match=r"report_to='mlflow': use one of none, tensorboard"):
        SFTStageConfig(report_to="mlflow")
    for name in ("tensorboard", "trackio", "wandb"):
        config = SFTStageConfig(report_to=name)
        if importlib.util.find_spec(name) is None:
            with pytest.raises(AccordError, match=rf"needs the {name} package.*pip install "
                                                  rf"{name}"):
                trainer_arguments(config, tmp_path)
        else:
            assert trainer_arguments(config, tmp_path)["report_to"] == [name]


def test_report_to_may_change_when_a_stage_resumes(sft_adapter, base_dir, chats):
    out = Path(sft_adapter.model_dir).parent
    stored = json.loads((out / "stage.json").read_text())
    rows = [{"messages": c} for c in chats[:32]]
    # The finished stage is returned as it was, whatever report_to now says.
    config = SFTStageConfig(**QUICK, max_steps=4, lora=True)
    config.report_to = "wandb"  # not validated again here: only where logs go differs
    again = train_sft(config, base_dir, rows, out)
    assert again.model_dir == sft_adapter.model_dir and stored["config"]["report_to"] == "none"
