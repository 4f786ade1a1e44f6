"""The ``cai`` stage: Constitutional AI on top of SFT (docs/cai.md).

The recipe (SL-CAI revisions of the base model's answers, then RL-CAI AI-feedback labels
and DPO) is ``accord.cai.train_cai``; this stage hands it the spec's constitution, the
world's RL prompts, the base and SFT models, the reviewers' comparisons and held-out world
pairs, then registers the two models it trained.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from accord.cai import CAIConfig
from accord.pipeline._config import build_dataclass, section_model
from accord.pipeline._data import split_pairs
from accord.pipeline._runner import Stage, StageContext, StageOutput, models_figure
from accord.pipeline._signal import record_used_prompts, signal
from accord.pipeline._train_stages import (
    as_pair,
    register_trained,
    review_rows,
    stage_data,
    stage_world,
    world_pairs,
)

# The recipe's constants stay out of [cai]: a new key would change every cached stage key.
_NOT_IN_TABLE = ("answer_temperature", "critic_temperature", "top_p", "batch_size",
                 "max_length", "num_threads")


def _cai_section() -> type[BaseModel]:
    return section_model("CAISection", CAIConfig, exclude=_NOT_IN_TABLE, check=True)


CAISection = _cai_section()
"""``[cai]``: the first group of ``accord.cai.CAIConfig``'s fields."""


def run_cai(ctx: StageContext) -> dict[str, Any]:
    from accord.cai import train_cai
    from accord.pipeline._model_stages import quiet_hf_progress
    from accord.spec import load_spec

    quiet_hf_progress()
    config = build_dataclass(CAIConfig, ctx.config)
    sft = ctx.inputs["sft"].figures
    data = stage_data(ctx)
    own_prompts, own_pairs = data.get("prompts"), data.get("preference")
    world = stage_world(ctx) if own_prompts is None or own_pairs is None else None
    # The project's own prompts and held-out pairs ([data]) replace the world's.
    prompts = ([{"messages": r["messages"]} for r in own_prompts.rows] if own_prompts
               else world.prompts["rl"])
    if config.max_prompt_tokens:
        from accord.train import fit_prompts

        prompts = fit_prompts(prompts, ctx.inputs["pretrain"].figures["model_dir"],
                              config.max_prompt_tokens, key="messages")
    if own_pairs is not None:
        _, held = split_pairs([as_pair(r) for r in own_pairs.rows], 0.1, config.seed)
    else:
        _, held = world_pairs(world, None, 0.1, config.seed)
    done = train_cai(config, principles=load_spec(ctx.inputs["spec"].dir / "spec"),
                     prompts=prompts, base_model=ctx.inputs["pretrain"].figures[
                         "model_dir"], policy_model=sft["model_dir"], out_dir=ctx.dir,
                     reviewer_pairs=[as_pair(r) for r in review_rows(ctx, "preference")],
                     truth_pairs=held)
    # The critic is the policy (the SFT model: already the parent) or a model from
    # elsewhere, whose own training signal is unknown.
    critic = signal(external=None if config.critic == "policy" else f"critic {config.critic}")
    sl_name = register_trained(ctx, "sft", done.sl.model_dir, sft["model_version"], done.sl,
                               "-slcai", training_signal=critic)
    models = models_figure("SFT+SL-CAI", sl_name, done.sl.model_dir)
    if done.rl is not None:
        rl_name = register_trained(ctx, "dpo", done.rl.model_dir, sl_name, done.rl, "-rlcai",
                                   training_signal=critic)
        models.update(models_figure("SFT+SL-CAI+RL-CAI", rl_name, done.rl.model_dir))
    figures = {k: v for k, v in done.figures.items() if k != "agreement"}
    used = record_used_prompts(ctx, [p["messages"] for p in
                                     prompts[:config.prompts + config.feedback_prompts]])
    return {**figures, "models": models, "agreement": done.figures["agreement"],
            "prompts_used": used}


def _pct(x: Any) -> str:
    return "—" if x is None else f"{x:.3f}"


def report_cai(out: StageOutput) -> list[Any]:
    from accord.report import paragraph, table

    fig = out.figures
    q = fig["revision_quality"]
    parts: list[Any] = [paragraph(
        f"SL-CAI: {fig['revisions']} answers of the base model critiqued and revised against "
        f"principles of the spec's constitution; {q['changed']:.0%} of revisions differ from "
        "the answer. Unwanted behaviour before and after revision (the world meter's "
        "graders, measured by the demo world's own inventories):"),
        table(["check", "n", "before", "after", "fixed share"],
              [[k, v["n"], v["before"], v["after"], _pct(v.get("fixed_share"))]
               for k, v in q.items() if isinstance(v, dict)]),
        paragraph(f"{fig.get('revisions_trained', fig['revisions'])} revisions trained on "
                  "(vetted by the feedback model where [cai] vet is on)."),
        paragraph(f"RL-CAI: {fig['ai_pairs']} pairs of the SL-CAI model's answers labelled by "
                  f"AI feedback; {fig['ai_pairs_trained']} confident enough to train DPO on.")]
    rows = []
    for name, a in fig["agreement"].items():
        rows.append([{"reviewers": "reviewers' comparisons",
                      "world_truth": "world ground truth (held-out pairs)"}[name],
                     a.get("n"), _pct(a.get("rate")),
                     f"[{_pct(a.get('low'))}, {_pct(a.get('high'))}]"])
    if rows:
        parts += [paragraph("How often the AI-feedback labels agree with human (or true) "
                            "labels on the same pairs:"),
                  table(["labels", "pairs", "agreement", "95% CI"], rows)]
    return parts


def _describe(fig: dict[str, Any]) -> str:
    agree = fig["agreement"].get("reviewers") or fig["agreement"].get("world_truth") or {}
    return (f"{fig['revisions']} revisions, {fig['ai_pairs_trained']} AI-labelled pairs; "
            f"AI/human agreement {_pct(agree.get('rate'))}")


# version 2: training signal in the lineage, prompts_used.json (issue 12)
CAI = Stage("cai", run_cai, CAISection, reads=("spec", "world", "pretrain", "sft", "review"),
            version="2", data=("prompts", "preference"),
            report=report_cai, describe=_describe, title="Constitutional AI")
