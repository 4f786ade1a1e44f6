"""Accord's training stages: thin, typed layers over TRL.

Each stage takes a model folder (``save_pretrained``) and data in TRL's formats, trains in
its own ``out_dir`` (resumable from checkpoints) and returns a :class:`StageResult` with
the new model folder and its lineage (parent, data hashes, config). See docs/training.md.
"""

from accord.train._cli import train_app
from accord.train._common import (
    Rows,
    StageResult,
    TrainSettings,
    contended_threads,
    fit_prompts,
    hash_rows,
    latest_checkpoint,
    load_rows,
    write_stage_card,
)
from accord.train._dpo import (
    DPOStageConfig,
    build_dpo_trainer,
    completion_logprobs,
    preference_margin,
    split_pair,
    train_dpo,
)
from accord.train._grpo import GRPOStageConfig, RewardSource, build_grpo_trainer, train_grpo
from accord.train._reward import (
    RewardStageConfig,
    build_reward_trainer,
    evaluate_reward_model,
    load_reward_model,
    reward_scores,
    train_reward_model,
)
from accord.train._sft import SFTStageConfig, build_sft_trainer, train_sft

__all__ = [
    "DPOStageConfig",
    "GRPOStageConfig",
    "RewardSource",
    "RewardStageConfig",
    "Rows",
    "SFTStageConfig",
    "StageResult",
    "TrainSettings",
    "build_dpo_trainer",
    "build_grpo_trainer",
    "build_reward_trainer",
    "build_sft_trainer",
    "completion_logprobs",
    "contended_threads",
    "evaluate_reward_model",
    "fit_prompts",
    "hash_rows",
    "latest_checkpoint",
    "load_reward_model",
    "load_rows",
    "preference_margin",
    "reward_scores",
    "split_pair",
    "train_app",
    "train_dpo",
    "train_grpo",
    "train_reward_model",
    "train_sft",
    "write_stage_card",
]
