"""The ``cai`` stage: Constitutional AI on top of SFT (docs/cai.md).

SL-CAI: the base model answers the world's RL prompts; the critic (by default the policy
being trained, which learned the critique/revision format from the demo world) critiques
each answer against a principle drawn from the spec's constitution and revises it; the
revisions are SFT data for the SFT model ("SFT + SL-CAI"). RL-CAI: the SL-CAI model samples
two answers per prompt, the feedback model labels which is better under sampled principles
(normalised option probabilities, both option orders), and DPO on those AI labels gives
"SFT + SL-CAI + RL-CAI". How often the AI labels agree with the reviewers' labels on the
reviewers' own pairs, and with the world's ground truth on held-out world pairs, is
reported.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accord.pipeline._runner import Stage, StageContext, StageOutput
from accord.pipeline._train_stages import (
    as_pair,
    register_trained,
    review_rows,
    stage_world,
    training_threads,
    world_pairs,
)


class CAISection(BaseModel):
    """``[cai]``: Constitutional AI (docs/cai.md)."""

    model_config = ConfigDict(extra="forbid")
    critic: str = "policy"
    """Who critiques, revises and gives feedback: ``policy`` (the SFT model), a local HF
    folder or ``.gguf`` file, or ``smollm2`` (SmolLM2-135M-Instruct, offline)."""
    prompts: int = Field(150, ge=1)
    """World RL prompts answered, critiqued and revised (SL-CAI)."""
    rounds: int = Field(1, ge=1)
    feedback_prompts: int = Field(150, ge=1)
    """Prompts whose two sampled answers get AI-feedback labels (RL-CAI)."""
    n_principles: int = Field(2, ge=1)
    agreement_pairs: int = Field(150, ge=0)
    """Held-out world pairs (ground truth) labelled to measure the feedback model."""
    min_confidence: float = Field(0.6, ge=0.5, le=1.0)
    """AI labels below this confidence are not trained on (nor revisions, when vetted)."""
    vet: bool = True
    """Keep a revision only where the feedback model prefers it to the initial answer
    (a small critic's revisions can lose facts; docs/cai.md)."""
    sft_steps: int = Field(60, ge=1)
    dpo_steps: int = Field(60, ge=1)
    learning_rate: float = 1e-4
    max_new_tokens: int = Field(48, ge=1)
    seed: int = 0


def _critic(ctx: StageContext, policy_dir: str) -> Any:
    from accord.cai import LocalModel
    from accord.model import SamplingConfig

    cfg = ctx.config
    sampling = SamplingConfig(temperature=0.7, top_p=1.0, max_new_tokens=cfg.max_new_tokens,
                              seed=cfg.seed)
    source = policy_dir if cfg.critic == "policy" else cfg.critic
    return LocalModel(source, sampling=sampling, batch_size=32)


def run_cai(ctx: StageContext) -> dict[str, Any]:
    from accord.cai import (
        LocalModel,
        critique_revise,
        feedback_labels,
        label_agreement,
        preference_rows,
        revision_quality,
        sft_rows,
        vet_revisions,
    )
    from accord.errors import AccordError
    from accord.model import SamplingConfig
    from accord.pipeline._model_stages import quiet_hf_progress
    from accord.spec import load_spec
    from accord.train import DPOStageConfig, SFTStageConfig, train_dpo, train_sft

    quiet_hf_progress()
    cfg = ctx.config
    world = stage_world(ctx)
    spec = load_spec(ctx.inputs["spec"].dir / "spec")
    sft = ctx.inputs["sft"].figures
    base = ctx.inputs["pretrain"].figures
    threads = training_threads()
    answer = SamplingConfig(temperature=0.9, top_p=1.0, max_new_tokens=cfg.max_new_tokens,
                            seed=cfg.seed)
    critic = _critic(ctx, sft["model_dir"])

    # SL-CAI: the base model's answers, critiqued and revised.
    prompts = world.prompts["rl"][:cfg.prompts]
    initial = LocalModel(base["model_dir"], sampling=answer, batch_size=32).generate(
        [p["messages"] for p in prompts])
    records = critique_revise(critic.generate, prompts, spec, rounds=cfg.rounds,
                              seed=cfg.seed, responses=initial)
    quality = revision_quality(records)
    if cfg.vet:
        records = vet_revisions(critic.score, records, spec, min_confidence=cfg.min_confidence,
                                n_principles=cfg.n_principles, seed=cfg.seed)
    rows = sft_rows(records, changed_only=cfg.vet)
    if not rows:
        raise AccordError(f"[cai] no revision of {len(records)} passed vetting (min_confidence "
                          f"{cfg.min_confidence}); lower it, or set vet = false")
    (ctx.dir / "revisions.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    sl = train_sft(SFTStageConfig(max_steps=cfg.sft_steps, learning_rate=cfg.learning_rate,
                                  max_length=192, seed=cfg.seed, num_threads=threads),
                   sft["model_dir"], {"revisions": rows}, ctx.dir / "sl_cai")
    sl_name = register_trained(ctx, "sft", sl.model_dir, sft["model_version"], sl, "-slcai")

    # RL-CAI: AI feedback on pairs of the SL-CAI model's own answers, then DPO.
    fb_prompts = world.prompts["rl"][cfg.prompts:cfg.prompts + cfg.feedback_prompts]
    sampler = LocalModel(sl.model_dir, sampling=answer, batch_size=32)
    convs = [p["messages"] for p in fb_prompts]
    first, second = sampler.generate(convs), sampler.generate(convs)
    pairs = [{"prompt": c, "responses": [a, b]}
             for c, a, b in zip(convs, first, second, strict=True) if a.strip() != b.strip()]
    labels = feedback_labels(critic.score, pairs, spec, n_principles=cfg.n_principles,
                             seed=cfg.seed)
    ai_rows = preference_rows(labels, min_confidence=cfg.min_confidence)
    (ctx.dir / "ai_feedback.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in labels), encoding="utf-8")
    models = {"SFT+SL-CAI": {"model_version": sl_name, "model_dir": sl.model_dir}}
    figures: dict[str, Any] = {"revision_quality": quality, "revisions": len(records),
                               "revisions_trained": len(rows),
                               "vetted_quality": revision_quality(records) if cfg.vet else None,
                               "ai_pairs": len(labels), "ai_pairs_trained": len(ai_rows)}
    if ai_rows:
        rl = train_dpo(DPOStageConfig(max_steps=cfg.dpo_steps, max_length=192, seed=cfg.seed,
                                      num_threads=threads),
                       sl.model_dir, {"ai_feedback": [as_pair(r) for r in ai_rows]},
                       ctx.dir / "rl_cai")
        rl_name = register_trained(ctx, "dpo", rl.model_dir, sl_name, rl, "-rlcai")
        models["SFT+SL-CAI+RL-CAI"] = {"model_version": rl_name, "model_dir": rl.model_dir}

    # How far the feedback model can be trusted: reviewers' pairs and world ground truth.
    reviewer_pairs = [as_pair(r) for r in review_rows(ctx, "preference")]
    agreement: dict[str, Any] = {}
    if reviewer_pairs:
        ai = feedback_labels(critic.score, reviewer_pairs, spec, n_principles=cfg.n_principles,
                             seed=cfg.seed)
        agreement["reviewers"] = label_agreement(ai, reviewer_pairs).to_dict()
    _, held = world_pairs(world, None, 0.1, cfg.seed)
    if cfg.agreement_pairs and held:
        truth = held[:cfg.agreement_pairs]
        ai = feedback_labels(critic.score, truth, spec, n_principles=cfg.n_principles,
                             seed=cfg.seed)
        agreement["world_truth"] = label_agreement(ai, truth).to_dict()
    figures.update({"models": models, "agreement": agreement})
    return figures


def _pct(x: Any) -> str:
    return "—" if x is None else f"{x:.3f}"


def report_cai(out: StageOutput) -> list[Any]:
    from accord.report import paragraph, table

    fig = out.figures
    q = fig["revision_quality"]
    parts: list[Any] = [paragraph(
        f"SL-CAI: {fig['revisions']} answers of the base model critiqued and revised against "
        f"principles of the spec's constitution; {q['changed']:.0%} of revisions differ from "
        "the answer. Unwanted behaviour before and after revision (the meter's graders):"),
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


CAI = Stage("cai", run_cai, CAISection, reads=("spec", "world", "pretrain", "sft", "review"),
            report=report_cai, describe=_describe, title="Constitutional AI")
