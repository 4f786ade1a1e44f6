"""Preference stages of ``accord run``: DPO on comparisons, and GRPO whose reward is the
reward model's score, alone or plus the rule-based reward (the ablation compares both)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from accord.pipeline._config import build_dataclass, section_model
from accord.pipeline._runner import Stage, StageContext, models_figure
from accord.pipeline._signal import rbr_signal, record_used_prompts, review_signal, signal
from accord.pipeline._train_stages import (
    TRAIN_EXCLUDE,
    describe_trained,
    loss_figures,
    preference_data,
    register_trained,
    response_type,
    stage_data,
    stage_world,
    training_threads,
    uses_data,
)

# ------------------------------------------------------------------------------- dpo


def _dpo_section() -> type[BaseModel]:
    from accord.train import DPOStageConfig

    return section_model("DPOSection", DPOStageConfig, exclude=TRAIN_EXCLUDE,
                         world_pairs=(int, 2000), held_out=(float, 0.1), reviews=(bool, True))


def run_dpo(ctx: StageContext) -> dict[str, Any]:
    from accord.pipeline._model_stages import quiet_hf_progress
    from accord.train import DPOStageConfig, preference_margin, train_dpo

    quiet_hf_progress()
    cfg = ctx.config
    data, test, reviews = preference_data(ctx)
    sft = ctx.inputs["sft"].figures
    used = record_used_prompts(ctx, [r["prompt"] for rows in data.values() for r in rows])
    result = train_dpo(build_dataclass(DPOStageConfig, cfg, num_threads=training_threads()),
                       sft["model_dir"], data, ctx.dir / "train")
    name = register_trained(ctx, "dpo", result.model_dir, sft["model_version"], result,
                            training_signal=signal(review_signal(ctx) if reviews else ()),
                            data_files=uses_data(ctx, "preference"))
    figures = {"model_version": name, "model_dir": result.model_dir,
               "rows": {k: len(v) for k, v in data.items()}, "prompts_used": used,
               **loss_figures(result)}
    if test:
        # Held-out chosen-over-rejected log-probability margin, relative to the SFT model.
        figures["held_out_margin"] = preference_margin(result.model_dir, test[:200],
                                                       ref_model_dir=sft["model_dir"])
    figures["models"] = models_figure("SFT+DPO", name, result.model_dir)
    return figures


# ------------------------------------------------------------------------------ grpo


def _grpo_section() -> type[BaseModel]:
    from accord.train import GRPOStageConfig

    return section_model("GRPOSection", GRPOStageConfig,
                         exclude=(*TRAIN_EXCLUDE, "reward_weights"),
                         prompts=(int, 400), rbr_weight=(float, 1.0),
                         variants=(list[str], ["rm", "rm+rbr"]))


def grpo_prompts(world: Any, n: int) -> list[dict]:
    """The world's RL prompts as GRPO rows, each with its spec response type."""
    return [{"prompt": p["messages"], "response_type": response_type(p)}
            for p in world.prompts["rl"][:n]]


def stage_prompts(ctx: StageContext, n: int) -> list[dict]:
    """GRPO rows: the project's ``[data] prompts`` when given, else the world's RL prompts."""
    own = stage_data(ctx).get("prompts")
    if own is not None:
        return [{"prompt": r["messages"], "response_type": r["response_type"]}
                for r in own.rows[:n]]
    return grpo_prompts(stage_world(ctx), n)


GRPO_LABELS = {"rm": "SFT+GRPO (RM only)", "rm+rbr": "SFT+GRPO (RM+RBR)"}
"""The ablation's row label of each GRPO variant."""


def run_grpo(ctx: StageContext) -> dict[str, Any]:
    """One GRPO run per variant from the SFT model: ``rm`` (reward model only) and
    ``rm+rbr`` (reward model + ``rbr_weight`` × the rule-based reward)."""
    from accord.errors import AccordError
    from accord.pipeline._model_stages import quiet_hf_progress
    from accord.rewards import RuleBasedReward, RuleWeights
    from accord.spec import load_spec
    from accord.train import GRPOStageConfig, train_grpo

    quiet_hf_progress()
    cfg = ctx.config
    unknown = sorted(set(cfg.variants) - {"rm", "rm+rbr"})
    if unknown or not cfg.variants:
        raise AccordError(f"[grpo] variants = {cfg.variants}: allowed are 'rm' and 'rm+rbr'")
    rows = stage_prompts(ctx, cfg.prompts)
    sft = ctx.inputs["sft"].figures
    rm_dir = ctx.inputs["reward"].figures["model_dir"]
    # The reward model's own signal (reviewers' comparisons) is inherited through it.
    rm_version = ctx.inputs["reward"].figures["model_version"]
    figures: dict[str, Any] = {"prompts": len(rows), "variants": {},
                               "prompts_used": record_used_prompts(ctx, [r["prompt"]
                                                                         for r in rows])}
    for variant in cfg.variants:
        sources: list[Any] = [rm_dir]
        weights: tuple[float, ...] = (1.0,)
        graders: list[dict[str, Any]] = []
        if variant == "rm+rbr":
            rules = load_spec(ctx.inputs["spec"].dir / "spec").rules
            rbr = RuleBasedReward(rules, RuleWeights.load(ctx.inputs["rules"].figures["weights"]),
                                  skip_kinds=("llm_judge",))
            sources.append(rbr)
            weights = (1.0, cfg.rbr_weight)
            graders = rbr_signal(rbr)
        stage_cfg = build_dataclass(GRPOStageConfig, cfg, num_threads=training_threads(),
                                    reward_weights=weights)
        result = train_grpo(stage_cfg, sft["model_dir"], rows, sources,
                            ctx.dir / variant.replace("+", "_"))
        suffix = "-rm" if variant == "rm" else "-rbr"
        name = register_trained(ctx, "grpo", result.model_dir, sft["model_version"], result, suffix,
                                training_signal=signal(graders, models=[rm_version]),
                                data_files=uses_data(ctx, "prompts"))
        rewards = [p["reward"] for p in result.log_history if "reward" in p]
        figures["variants"][variant] = {
            "model_version": name, "model_dir": result.model_dir, "steps": result.steps,
            "reward_first": rewards[0] if rewards else None,
            "reward_last": rewards[-1] if rewards else None, **loss_figures(result)}
    figures["models"] = {}
    for variant, f in figures["variants"].items():
        figures["models"].update(models_figure(GRPO_LABELS[variant], f["model_version"],
                                               f["model_dir"]))
    return figures


def _describe_grpo(fig: dict[str, Any]) -> str:
    return "; ".join(f"{v}: reward {f['reward_first']:.2f} → {f['reward_last']:.2f}"
                     for v, f in fig["variants"].items() if f["reward_first"] is not None)


# version 2: training signal in the lineage, prompts_used.json (issue 12)
DPO = Stage("dpo", run_dpo, _dpo_section(), reads=("spec", "world", "sft", "review"),
            version="2", data=("preference",), describe=describe_trained, title="DPO")
GRPO = Stage("grpo", run_grpo, _grpo_section(), version="2", data=("prompts",),
             reads=("spec", "world", "sft", "reward", "rules"), describe=_describe_grpo,
             title="GRPO (reward model, and reward model + rules)")
