"""The whole CAI recipe (``train_cai``): its configuration and a tiny run end to end."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from accord.cai import CAIConfig, train_cai
from accord.errors import AccordError
from accord.model import LocalBackend, SamplingConfig, load_model
from accord.world import PRINCIPLES, World

TINY = CAIConfig(prompts=3, feedback_prompts=3, agreement_pairs=4, reviewer_pairs=2,
                 sft_steps=1, dpo_steps=1,
                 max_new_tokens=6, min_confidence=0.5, vet=False, batch_size=4,
                 num_threads=1)


def _pairs(world: World, n: int) -> list[dict]:
    return [{"prompt": p["prompt"], "chosen": p["chosen"], "rejected": p["rejected"]}
            for p in world.preference_pairs[:n]]


def test_defaults_are_what_accord_run_has_always_used() -> None:
    config = CAIConfig()
    assert (config.answer_temperature, config.critic_temperature, config.top_p) == (0.9, 0.7,
                                                                                     1.0)
    assert (config.batch_size, config.max_length, config.max_new_tokens) == (32, 192, 48)
    assert (config.prompts, config.feedback_prompts, config.sft_steps, config.dpo_steps) == (
        150, 150, 60, 60)
    assert config.critic == "policy" and config.vet and config.min_confidence == 0.6


def test_bad_values_are_rejected_with_their_names() -> None:
    with pytest.raises(AccordError, match=r"prompts=0 must be >= 1.*min_confidence=0.3"):
        CAIConfig(prompts=0, min_confidence=0.3)
    with pytest.raises(AccordError, match="agreement_pairs=-1"):
        CAIConfig(agreement_pairs=-1)
    with pytest.raises(AccordError, match="reviewer_pairs=-1"):
        CAIConfig(reviewer_pairs=-1)
    with pytest.raises(AccordError, match=r"max_prompt_tokens=0 must be >= 1 \(or left out\)"):
        CAIConfig(max_prompt_tokens=0)


def test_tiny_run_trains_both_models_and_measures_the_critic(
        cai_world: World, cai_model_dir: Path, tmp_path: Path) -> None:
    prompts = cai_world.prompts["sft"]
    done = train_cai(TINY, principles=PRINCIPLES, prompts=prompts,
                     base_model=cai_model_dir, policy_model=cai_model_dir, out_dir=tmp_path,
                     reviewer_pairs=_pairs(cai_world, 3), truth_pairs=_pairs(cai_world, 50))
    records = [json.loads(line) for line in
               (tmp_path / "revisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["prompt"] for r in records] == [p["messages"] for p in prompts[:3]]
    # The answers revised are the base model's, sampled at the answer temperature.
    answers = LocalBackend(cai_model_dir).generate(
        [p["messages"] for p in prompts[:3]],
        SamplingConfig(temperature=0.9, top_p=1.0, max_new_tokens=6, seed=0))
    assert [r["initial"] for r in records] == answers

    fig = done.figures
    assert fig["revisions"] == fig["revisions_trained"] == 3  # vet off: every revision
    assert fig["vetted_quality"] is None and "unwanted" in fig["revision_quality"]
    assert fig["ai_pairs"] <= 3
    labels = (tmp_path / "ai_feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(labels) == fig["ai_pairs"]
    assert fig["agreement"]["world_truth"]["n"] == 4  # the first agreement_pairs only
    assert fig["agreement"]["reviewers"]["n"] == 2  # 3 given, reviewer_pairs caps them
    load_model(done.sl.model_dir)
    assert Path(done.sl.model_dir).is_relative_to(tmp_path / "sl_cai")
    if fig["ai_pairs_trained"]:
        assert done.rl is not None and Path(done.rl.model_dir).is_relative_to(
            tmp_path / "rl_cai")
    else:
        assert done.rl is None


def test_no_revision_passing_vetting_stops_before_training(
        cai_world: World, cai_model_dir: Path, tmp_path: Path) -> None:
    strict = dataclasses.replace(TINY, vet=True, min_confidence=1.0)
    with pytest.raises(AccordError, match="passed vetting"):
        train_cai(strict, principles=PRINCIPLES, prompts=cai_world.prompts["sft"],
                  base_model=cai_model_dir, policy_model=cai_model_dir, out_dir=tmp_path)
    assert not (tmp_path / "sl_cai").exists()
