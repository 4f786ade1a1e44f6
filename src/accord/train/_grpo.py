"""Online RL: GRPO (or RLOO) on prompts, rewarded by reward models and reward functions.

TRL 1.16 has no PPO trainer; its online trainers are ``GRPOTrainer`` and ``RLOOTrainer``.
Both sample ``num_generations`` completions per prompt, score each with every reward
source, combine the scores with ``reward_weights`` and use the group of completions of a
prompt as its own baseline (no value model):

- ``algorithm="grpo"``: advantage = (reward − group mean) / group std (``scale_rewards``),
  clipped policy-ratio loss aggregated per ``loss_type``; the KL to the reference,
  ``beta × KL``, is a term of the loss.
- ``algorithm="rloo"``: advantage = reward − mean of the *other* completions of the prompt
  (leave-one-out); the KL enters as a penalty on the reward, ``reward − beta × KL``.

Data: prompt rows ``{"prompt": [...messages ending with a user turn]}``; any other columns
are passed to reward functions as keyword arguments (one list per column).

Reward sources (any mix, in order):

- a reward-model folder (``train_reward_model``'s ``model_dir``): TRL loads it as
  ``AutoModelForSequenceClassification`` with its own tokenizer and scores the whole
  conversation, prompt + completion;
- a TRL reward function ``f(prompts, completions, **kw) -> list[float]`` (conversational:
  ``completions[i] == [{"role": "assistant", "content": ...}]``), e.g.
  ``accord.rewards.RuleBasedReward(...)``.

The reference model of the KL term is the model training starts from (the SFT model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from accord.errors import AccordError
from accord.train._common import (
    Rows,
    StageResult,
    TrainSettings,
    check_messages,
    check_model_dir,
    fit_prompts,
    load_rows,
    peft_config,
    run_stage,
    trainable_dir,
    trainer_arguments,
)

RewardSource = str | Path | Callable[..., list[float]]
"""A reward-model folder, or a TRL reward function ``(prompts, completions, **kw)``."""


@dataclass
class GRPOStageConfig(TrainSettings):
    """GRPO/RLOO settings; defaults suit the demo's tiny/small models on CPU."""

    algorithm: Literal["grpo", "rloo"] = "grpo"
    """``grpo`` (group-normalised advantages, KL in the loss) or ``rloo`` (leave-one-out
    baseline, KL in the reward)."""
    max_steps: int = 100
    """Optimizer steps; each samples ``batch_size`` completions first (the slow part on CPU)."""
    batch_size: int = 8
    """Completions per device per step: ``batch_size / num_generations`` prompts."""
    num_generations: int = 4
    """Completions sampled per prompt (the group); must divide ``batch_size`` × processes.
    TRL's 8 doubles the sampling time for a small model's little gain."""
    max_completion_length: int = 32
    """Tokens sampled per completion (TRL's 512 is far beyond the demo's replies)."""
    temperature: float = 1.0
    """Sampling temperature; the group needs diverse completions to compare."""
    top_p: float = 1.0
    """Nucleus sampling mass."""
    learning_rate: float = 3e-4
    """Peak learning rate. TRL's 1e-6 is for billion-parameter models. At 2e-5 (this
    default until session 5) the demo's 1M-parameter policy never left the SFT model in 30
    steps (KL ≈ 4e-4 nats/token) and its reward only wandered with the prompts drawn; 3e-4
    moves it (KL ≈ 0.06–0.18) and the held-out reward rises (bench/RESULTS.md, "GRPO
    learns"); 1e-3 raises the reward by writing gibberish the reward model over-scores."""
    beta: float = 0.2
    """KL coefficient towards the reference (> 0 keeps the policy near the SFT model; TRL's
    GRPO default 0 would drop the reference altogether). A small reward model is easy to
    exploit, so the pull back is stronger than TRL's old 0.04."""
    epsilon: float = 0.2
    """Clipping range of the policy ratio."""
    num_iterations: int = 1
    """Optimisation passes over each batch of samples (μ)."""
    reward_weights: tuple[float, ...] | None = None
    """One weight per reward source, in order; None weighs all 1."""
    loss_type: str = "dapo"
    """GRPO only: ``dapo`` (token-level, no length bias), ``grpo``, ``dr_grpo``, ``bnpo``..."""
    scale_rewards: str = "group"
    """GRPO only: divide advantages by the ``group`` or ``batch`` std, or ``none``."""
    normalize_advantages: bool = False
    """RLOO only: normalise advantages over the batch."""
    logging_steps: int = 1
    """Every step is logged: the reward, KL, length and zero-std curves of the report."""
    eval_steps: int = 10
    """With ``eval_prompts``: steps between two held-out reward measurements (also one
    before the first step; none when ``max_steps`` is below it; 0 turns them off). The
    training reward of a step averages a few prompts and jumps with them; the held-out
    reward is the same prompts every time, so it shows learning."""
    eval_generations: int = 2
    """Completions sampled per held-out prompt at each measurement."""
    max_prompt_tokens: int | None = None
    """Drop prompts longer than this many tokens under the model's chat template (None
    keeps all). Every group's forward passes carry the prompt: the RBR gold set's longest
    multi-turn prompts (~1,850 SmolLM2 tokens) cost more than the whole completion budget,
    so real-model projects cap them (``accord.train.fit_prompts``)."""


def _prompt_rows(data: Rows) -> list[dict[str, Any]]:
    rows = load_rows(data, "prompts")
    if not rows:
        raise AccordError("prompts: no rows; give at least one {'prompt': [...]} row")
    for i, row in enumerate(rows):
        if "prompt" not in row:
            raise AccordError(f"prompts, row {i}: expected {{'prompt': [messages]}}; got keys "
                              f"{sorted(row)}")
        check_messages(row["prompt"], f"prompts, row {i}, 'prompt'")
        if row["prompt"][-1]["role"] == "assistant":
            raise AccordError(f"prompts, row {i}: the prompt ends with an assistant turn; it "
                              "must end with a user (or system) turn for the model to answer")
    return rows


def _source_name(source: RewardSource) -> str:
    if isinstance(source, str | Path):
        return str(source)
    return getattr(source, "__name__", None) or type(source).__name__


def _check_sources(config: GRPOStageConfig, rewards: Sequence[RewardSource]) -> None:
    if not rewards:
        raise AccordError("GRPO needs at least one reward source: a reward-model folder or a "
                          "reward function f(prompts, completions, **kw) -> list[float]")
    if config.reward_weights is not None and len(config.reward_weights) != len(rewards):
        raise AccordError(f"reward_weights has {len(config.reward_weights)} weights for "
                          f"{len(rewards)} reward sources; give one weight per source")
    for source in rewards:
        if isinstance(source, str | Path):
            check_model_dir(source, "reward model")
        elif not callable(source):
            raise AccordError(f"reward source {source!r}: expected a reward-model folder or a "
                              "callable")
    if config.algorithm not in ("grpo", "rloo"):
        raise AccordError(f"algorithm={config.algorithm!r}: use 'grpo' or 'rloo'")
    if config.beta <= 0:
        raise AccordError(f"beta={config.beta}: the KL term to the reference needs beta > 0")
    if config.batch_size % config.num_generations:
        raise AccordError(f"batch_size={config.batch_size} must be a multiple of "
                          f"num_generations={config.num_generations} (whole groups per step)")


def _eval_arguments(config: GRPOStageConfig, eval_rows: list[dict[str, Any]] | None
                    ) -> dict[str, Any]:
    # A run shorter than one interval (a smoke test) is not measured: its per-step logs
    # are its curves, and a measurement would cost more than its training.
    if not eval_rows or config.eval_steps <= 0 or 0 < config.max_steps < config.eval_steps:
        return {}
    # Whole groups per eval batch; generating 16 prompts at once costs little more than 4.
    batch = config.eval_generations * min(len(eval_rows), 16)
    return {"eval_strategy": "steps", "eval_steps": config.eval_steps, "eval_on_start": True,
            "num_generations_eval": config.eval_generations,
            "per_device_eval_batch_size": batch}


def build_grpo_trainer(config: GRPOStageConfig, model_dir: str | Path, prompts: Rows,
                       rewards: Sequence[RewardSource], out_dir: str | Path,
                       eval_prompts: Rows | None = None) -> Any:
    """The configured ``trl.GRPOTrainer`` or ``trl.RLOOTrainer`` (untrained).

    Args:
        config: the stage settings.
        model_dir: the policy's starting model (and the KL reference).
        prompts: training prompt rows or a JSONL path.
        rewards: reward-model folders and/or reward functions.
        out_dir: the stage folder.
        eval_prompts: held-out prompt rows scored every ``config.eval_steps`` steps.
    """
    from datasets import Dataset
    from transformers import AutoTokenizer

    _check_sources(config, rewards)
    model_dir = trainable_dir(model_dir)
    rows = _prompt_rows(prompts)
    eval_rows = _prompt_rows(eval_prompts) if eval_prompts is not None else None
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    common = {
        **trainer_arguments(config, Path(out_dir)),
        **_eval_arguments(config, eval_rows),
        "num_generations": config.num_generations,
        "max_completion_length": config.max_completion_length,
        "temperature": config.temperature, "top_p": config.top_p, "beta": config.beta,
        "epsilon": config.epsilon, "num_iterations": config.num_iterations,
        "reward_weights": list(config.reward_weights) if config.reward_weights else None,
    }
    # A LoRA reward model is scored through its merged copy (TRL loads reward models by path).
    sources = [str(trainable_dir(s, "reward model")) if isinstance(s, str | Path) else s
               for s in rewards]
    datasets = {"train_dataset": Dataset.from_list(rows),
                "eval_dataset": Dataset.from_list(eval_rows) if eval_rows else None}
    if config.algorithm == "rloo":
        from trl import RLOOConfig, RLOOTrainer

        args = RLOOConfig(**common, normalize_advantages=config.normalize_advantages)
        return RLOOTrainer(model=str(model_dir), reward_funcs=sources, args=args, **datasets,
                           processing_class=tokenizer, peft_config=peft_config(config))
    from trl import GRPOConfig, GRPOTrainer

    args = GRPOConfig(**common, loss_type=config.loss_type, scale_rewards=config.scale_rewards)
    return GRPOTrainer(model=str(model_dir), reward_funcs=sources, args=args, **datasets,
                       processing_class=tokenizer, peft_config=peft_config(config))


def train_grpo(config: GRPOStageConfig, model_dir: str | Path, prompts: Rows,
               rewards: Sequence[RewardSource], out_dir: str | Path,
               eval_prompts: Rows | None = None) -> StageResult:
    """Online RL from ``model_dir`` on ``prompts``; the policy lands in ``out_dir/model``.

    Args:
        config: the stage settings (``algorithm`` picks GRPO or RLOO).
        model_dir: the causal LM to start from (the SFT or DPO model); also the frozen
            reference of the KL term.
        prompts: ``{"prompt": [...]}`` rows or a JSONL path.
        rewards: reward-model folders and/or reward functions, summed with
            ``config.reward_weights``: e.g. ``[reward_result.model_dir, RuleBasedReward(...)]``.
        out_dir: the stage folder (resumable; a finished stage returns its result).
        eval_prompts: held-out prompt rows (none of ``prompts``): their mean reward is
            logged as ``eval_reward`` before the first step and every ``config.eval_steps``.

    Returns:
        The :class:`StageResult`; ``log_history`` has the mean ``reward`` per logged step,
        and ``references`` the reference and each reward source by path or name.
    """
    _check_sources(config, rewards)
    # An adapter folder's tokenizer is its merged copy's (which TRL trains from anyway).
    tokenizer_dir = trainable_dir(model_dir) if config.max_prompt_tokens else model_dir
    rows = fit_prompts(_prompt_rows(prompts), tokenizer_dir, config.max_prompt_tokens)
    data = {"prompts": rows}
    if eval_prompts is not None:
        data["eval_prompts"] = fit_prompts(_prompt_rows(eval_prompts), tokenizer_dir,
                                           config.max_prompt_tokens)
    references = {"reference": str(model_dir)}
    references.update({f"reward_{i}": _source_name(s) for i, s in enumerate(rewards)})
    return run_stage(config.algorithm, config, out_dir, model_dir, data,
                     lambda out: build_grpo_trainer(config, model_dir, rows, rewards, out,
                                                    data.get("eval_prompts")),
                     references=references)
