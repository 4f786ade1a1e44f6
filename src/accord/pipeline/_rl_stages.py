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
                         prompts=(int, 400), eval_prompts=(int, 16), rbr_weight=(float, 1.0),
                         variants=(list[str], ["rm", "rm+rbr"]))


def grpo_prompts(world: Any, n: int | None) -> list[dict]:
    """The world's first ``n`` RL prompts (None: all) as GRPO rows, each with its spec
    response type."""
    return [{"prompt": p["messages"], "response_type": response_type(p)}
            for p in world.prompts["rl"][:n]]


def stage_prompts(ctx: StageContext, n: int, max_tokens: int | None = None) -> list[dict]:
    """The first ``n`` GRPO rows: the project's ``[data] prompts`` when given, else the
    world's RL prompts. With ``max_tokens``, the first ``n`` that fit it under the base
    model's chat template (``accord.train.fit_prompts``)."""
    own = stage_data(ctx).get("prompts")
    if own is not None:
        rows = [{"prompt": r["messages"], "response_type": r["response_type"]}
                for r in own.rows]
    else:
        rows = grpo_prompts(stage_world(ctx), None if max_tokens else n)
    if max_tokens:
        from accord.train import fit_prompts

        rows = fit_prompts(rows, ctx.inputs["pretrain"].figures["model_dir"], max_tokens)
    return rows[:n]


def split_held_out(pool: list[dict], n: int, held_out: int
                   ) -> tuple[list[dict], list[dict] | None]:
    """Training rows and held-out rows from the first ``n + held_out`` prompts.

    Held out: prompts after the training ones, scored the same way at every measurement.
    When the pool is short (e.g. few prompts fit ``max_prompt_tokens``), training leaves
    at least ``min(held_out, len(pool) // 4)`` rows for measuring: a run whose learning
    cannot be measured is worth less than a dozen more training prompts. None when nothing
    is held out.
    """
    reserve = min(held_out, len(pool) // 4) if held_out > 0 else 0
    train = min(n, len(pool) - reserve)
    return pool[:train], (pool[train:train + held_out] if held_out > 0 else []) or None


CURVE_KEYS = {"reward": "reward", "reward_std": "reward_std", "kl": "kl",
              "entropy": "entropy", "length": "completions/mean_length",
              "clipped": "completions/clipped_ratio", "zero_std": "frac_reward_zero_std"}
"""Per-step curve name → the TRL log key it is read from."""


def grpo_curves(log_history: list[dict[str, Any]]) -> dict[str, list[list[float]]]:
    """The per-step training curves and the held-out reward of a GRPO log history.

    Args:
        log_history: the trainer's logged points (``StageResult.log_history``).

    Returns:
        curve name → ``[[step, value], ...]`` for each of :data:`CURVE_KEYS` and
        ``eval_reward`` / ``eval_kl`` (the held-out measurements, from step 0).
    """
    curves: dict[str, list[list[float]]] = {}
    for point in log_history:
        step = point.get("step")
        if step is None:
            continue
        keys = {**CURVE_KEYS, "eval_reward": "eval_reward", "eval_kl": "eval_kl"}
        for name, key in keys.items():
            if isinstance(point.get(key), int | float) and (name.startswith("eval_")
                                                            or "eval_reward" not in point):
                curves.setdefault(name, []).append([float(step), float(point[key])])
    return curves


def _span_mean(points: list[list[float]], part: float, last: bool) -> float | None:
    """Mean of the first (or last) ``part`` of a curve's points: one step's reward averages
    a couple of prompts, so a single point says little."""
    if not points:
        return None
    n = max(1, round(len(points) * part))
    chosen = points[-n:] if last else points[:n]
    return sum(p[1] for p in chosen) / len(chosen)


def curve_figures(curves: dict[str, list[list[float]]]) -> dict[str, float | None]:
    """Start and end of the reward curves: the training reward's first and last quarter,
    the held-out reward's first and last measurement, and the last KL."""
    held_out = curves.get("eval_reward") or []
    kl = curves.get("kl") or []
    return {"reward_start": _span_mean(curves.get("reward") or [], 0.25, last=False),
            "reward_end": _span_mean(curves.get("reward") or [], 0.25, last=True),
            "eval_reward_start": held_out[0][1] if held_out else None,
            "eval_reward_end": held_out[-1][1] if held_out else None,
            "kl_end": _span_mean(kl, 0.25, last=True)}


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
    rows, held_out = split_held_out(
        stage_prompts(ctx, cfg.prompts + cfg.eval_prompts, max_tokens=cfg.max_prompt_tokens),
        cfg.prompts, cfg.eval_prompts)
    sft = ctx.inputs["sft"].figures
    rm_dir = ctx.inputs["reward"].figures["model_dir"]
    # The reward model's own signal (reviewers' comparisons) is inherited through it.
    rm_version = ctx.inputs["reward"].figures["model_version"]
    figures: dict[str, Any] = {"prompts": len(rows), "variants": {},
                               "eval_prompts": len(held_out or []),
                               # Held-out prompts only measure; no gradient comes from them.
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
                            ctx.dir / variant.replace("+", "_"), eval_prompts=held_out)
        suffix = "-rm" if variant == "rm" else "-rbr"
        name = register_trained(ctx, "grpo", result.model_dir, sft["model_version"], result, suffix,
                                training_signal=signal(graders, models=[rm_version]),
                                data_files=uses_data(ctx, "prompts"))
        rewards = [p["reward"] for p in result.log_history if "reward" in p]
        curves = grpo_curves(result.log_history)
        figures["variants"][variant] = {
            "model_version": name, "model_dir": result.model_dir, "steps": result.steps,
            "reward_first": rewards[0] if rewards else None,
            "reward_last": rewards[-1] if rewards else None, **curve_figures(curves),
            "curves": curves, **loss_figures(result)}
    figures["models"] = {}
    for variant, f in figures["variants"].items():
        figures["models"].update(models_figure(GRPO_LABELS[variant], f["model_version"],
                                               f["model_dir"]))
    return figures


def _describe_grpo(fig: dict[str, Any]) -> str:
    parts = []
    for v, f in fig["variants"].items():
        if f.get("eval_reward_start") is not None:
            parts.append(f"{v}: held-out reward {f['eval_reward_start']:.2f} → "
                         f"{f['eval_reward_end']:.2f}")
        elif f.get("reward_first") is not None:
            parts.append(f"{v}: reward {f['reward_first']:.2f} → {f['reward_last']:.2f}")
    return "; ".join(parts)


_PANELS = (("reward (training, 5-step mean)", "reward"), ("held-out reward", "eval_reward"),
           ("KL to the SFT model", "kl"), ("completion length (tokens)", "length"),
           ("groups with no reward spread", "zero_std"), ("truncated completions", "clipped"))


def _smooth(points: list[list[float]], window: int = 5) -> list[tuple[float, float]]:
    """Trailing mean over ``window`` points: a step's reward averages two prompts."""
    out = []
    for i, (step, _) in enumerate(points):
        chunk = points[max(0, i - window + 1):i + 1]
        out.append((step, sum(p[1] for p in chunk) / len(chunk)))
    return out


def report_grpo(out: Any) -> list[Any]:
    """The GRPO section: start/end figures per variant and the reward and KL curves."""
    from accord.report import panels, paragraph, table

    variants = out.figures.get("variants") or {}

    def fmt(value: Any) -> str:
        return "—" if value is None else f"{value:.3g}"

    rows = [[v, f.get("steps"), fmt(f.get("reward_start")), fmt(f.get("reward_end")),
             fmt(f.get("eval_reward_start")), fmt(f.get("eval_reward_end")),
             fmt(f.get("kl_end")), fmt(f.get("seconds"))] for v, f in variants.items()]
    parts: list[Any] = [
        paragraph(f"{out.figures.get('prompts')} training prompts; the held-out reward is the "
                  f"mean reward on {out.figures.get('eval_prompts', 0)} prompts the policy "
                  "never trains on, measured before the first step and every few steps "
                  "(the training reward of one step averages only a couple of prompts). A "
                  "reward that rises while the KL stays small is learning; a reward that "
                  "rises with a KL far above 1 is the policy finding the reward model's "
                  "blind spots."),
        table(["variant", "steps", "training reward, first ¼", "last ¼",
               "held-out reward, start", "end", "KL, last ¼", "seconds"], rows)]
    charts: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for title, key in _PANELS:
        charts[title] = {}
        for v, f in variants.items():
            points = (f.get("curves") or {}).get(key) or []
            charts[title][v] = _smooth(points) if key == "reward" else [tuple(p)
                                                                        for p in points]
    parts.append(panels(charts, xlabel="step",
                        alt="Six small line charts against GRPO step, one line per variant ("
                            + ", ".join(variants) + "): training reward, held-out reward, KL "
                            "to the SFT model, completion length, share of groups with no "
                            "reward spread, and share of truncated completions.",
                        caption="GRPO per step (figures in the table above and in done.json: "
                                "curves)."))
    return [p for p in parts if p]


# version 2: training signal in the lineage, prompts_used.json (issue 12)
DPO = Stage("dpo", run_dpo, _dpo_section(), reads=("spec", "world", "sft", "review"),
            version="2", data=("preference",), describe=describe_trained, title="DPO")
# version 3: every step logged, held-out reward, curves and the report section (issue 13)
GRPO = Stage("grpo", run_grpo, _grpo_section(), version="3", data=("prompts",),
             reads=("spec", "world", "pretrain", "sft", "reward", "rules"),
             describe=_describe_grpo,
             report=report_grpo, title="GRPO (reward model, and reward model + rules)")
