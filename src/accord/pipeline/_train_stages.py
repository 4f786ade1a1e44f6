"""Fine-tuning stages of ``accord run``: sft → reward → rules → dpo → grpo.

Each is glue over :mod:`accord.train` / :mod:`accord.rewards`: it gathers the data the
earlier stages left (the world's demonstrations and labelled comparisons, the review
stage's exports), trains in its stage folder (resumable: an interrupted stage resumes from
its newest checkpoint) and registers the new model version with its lineage.

Data, decided here and documented in docs/training.md:

- SFT: the world's SFT examples stand for the demonstrations labellers write (InstructGPT's
  SFT data), plus the completions reviewers approved (the review export);
- reward model and DPO: reviewers' comparisons (the review export) plus the world's
  labelled comparison pairs, standing for a larger labelled comparison set; a held-out
  slice of the world pairs measures the reward model;
- rules: RBR weights fitted on the world pairs graded by the spec's graders, with classes
  from the world's labels (the paper fits on completions of known class);
- GRPO: the world's RL prompts, each tagged comply/refuse; reward = RM (+ RBR).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel

from accord.pipeline._config import build_dataclass, section_model
from accord.pipeline._data import split_pairs
from accord.pipeline._runner import Stage, StageContext, StageOutput, models_figure
from accord.pipeline._signal import prompt_of, record_used_prompts, review_signal, signal

TRAIN_EXCLUDE = ("device", "num_threads", "logging_steps", "keep_checkpoints")


def training_threads() -> int:
    from accord.model import available_cores

    return available_cores()


def register_trained(ctx: StageContext, kind: str, model_dir: str, parent: str,
                     result: Any, suffix: str = "", *,
                     training_signal: dict[str, Any] | None = None,
                     data_files: tuple[str, ...] = ()) -> str:
    """Register a trained model version with its lineage.

    Args:
        training_signal: what judged its training (``_signal.signal``), kept in its config
            under ``accord.store.SIGNAL_KEY`` so measurements can check their independence.
        data_files: the ``[data]`` kinds it trained on; each file's SHA-256 joins the
            version's ``datasets`` as ``data:KIND``.
    """
    from accord.pipeline._signal import signal
    from accord.store import SIGNAL_KEY, register_model_version

    name = f"{ctx.project.project.name}-{kind}{suffix}-{ctx.dir.name.rsplit('-', 1)[-1][:8]}"
    config = {**result.config, SIGNAL_KEY: training_signal or signal()}
    datasets = {**result.datasets, **stage_data(ctx).hashes(data_files)} if data_files \
        else result.datasets
    with ctx.state["store"].session() as session:
        register_model_version(
            session, name=name, stage=kind, artifact_path=str(model_dir), parent=parent,
            spec_version=ctx.inputs["spec"].figures["spec_version_id"],
            config=config, datasets=datasets, root=ctx.project.root,
            metrics={k: v for k, v in result.metrics.items() if isinstance(v, int | float)})
    return name


def stage_data(ctx: StageContext) -> Any:
    """The project's ``[data]`` files (``accord.pipeline._data.ProjectData``)."""
    from accord.pipeline._data import project_data

    return project_data(ctx.state, ctx.project)


def uses_data(ctx: StageContext, *kinds: str) -> tuple[str, ...]:
    """The ``kinds`` of ``[data]`` file the project gives (for ``register_trained``)."""
    data = stage_data(ctx)
    return tuple(k for k in kinds if data.get(k) is not None)


def stage_world(ctx: StageContext) -> Any:
    from accord.pipeline._model_stages import load_world

    return load_world(ctx.inputs["world"])


def review_rows(ctx: StageContext, kind: str) -> list[dict]:
    """The review stage's export of ``kind`` (empty when reviewers approved nothing)."""
    if "review" not in ctx.inputs:
        return []
    export = ctx.inputs["review"].figures["exports"][kind]
    if not export["rows"]:
        return []
    from accord.review import load_export

    rows, _ = load_export(export["dir"])
    return rows


def as_pair(row: dict) -> dict:
    return {"prompt": row["prompt"], "chosen": row["chosen"], "rejected": row["rejected"]}


def world_pairs(world: Any, n: int | None, held_out: float, seed: int,
                ) -> tuple[list[dict], list[dict]]:
    """The world's labelled comparison pairs as (train, held-out) TRL rows; held-out pairs
    are whole prompts never trained on."""
    import random

    pairs = world.preference_pairs[:n] if n else list(world.preference_pairs)
    prompts = sorted({p["prompt_id"] for p in pairs})
    random.Random(seed).shuffle(prompts)
    cut = set(prompts[:int(len(prompts) * held_out)])
    train = [as_pair(p) for p in pairs if p["prompt_id"] not in cut]
    test = [as_pair(p) for p in pairs if p["prompt_id"] in cut]
    return train, test


# -------------------------------------------------------------------------------- sft


def _sft_section() -> type[BaseModel]:
    from accord.train import SFTStageConfig

    return section_model("SFTSection", SFTStageConfig, exclude=TRAIN_EXCLUDE,
                         demonstrations=(int, 2000), reviews=(bool, True))


def run_sft(ctx: StageContext) -> dict[str, Any]:
    from accord.pipeline._model_stages import quiet_hf_progress
    from accord.train import SFTStageConfig, train_sft

    quiet_hf_progress()
    cfg = ctx.config
    own = stage_data(ctx).get("sft")
    data: dict[str, list[dict]]
    if own is not None:
        # The project's own conversations replace the demo world's demonstrations.
        # ``demonstrations`` caps them as it caps the world's.
        data = {"data:sft": [{"messages": r["messages"]}
                             for r in own.rows[:cfg.demonstrations]]}
    else:
        world = stage_world(ctx)
        data = {"demonstrations": [
            {"messages": ex["messages"]} for ex in world.sft_examples[:cfg.demonstrations]]}
    reviews = review_rows(ctx, "sft") if cfg.reviews else []
    if reviews:
        data["reviews"] = [{"messages": r["messages"]} for r in reviews]
    pre = ctx.inputs["pretrain"].figures
    used = record_used_prompts(ctx, [prompt_of(r["messages"]) for rows in data.values()
                                     for r in rows])
    result = train_sft(build_dataclass(SFTStageConfig, cfg, num_threads=training_threads()),
                       pre["model_dir"], data, ctx.dir / "train")
    name = register_trained(ctx, "sft", result.model_dir, pre["model_version"], result,
                            training_signal=signal(review_signal(ctx) if reviews else ()),
                            data_files=("sft",) if own is not None else ())
    return {"model_version": name, "model_dir": result.model_dir, "steps": result.steps,
            "rows": {k: len(v) for k, v in data.items()}, **loss_figures(result),
            "prompts_used": used, "models": models_figure("SFT", name, result.model_dir)}


def loss_figures(result: Any) -> dict[str, Any]:
    return {"train_loss": result.metrics.get("train_loss"),
            "seconds": result.metrics.get("train_runtime"),
            "log_history": [{k: v for k, v in p.items() if isinstance(v, int | float)}
                            for p in result.log_history]}


# ----------------------------------------------------------------------------- reward


def preference_data(ctx: StageContext) -> tuple[dict[str, list[dict]], list[dict], list[dict]]:
    """What the reward and DPO stages train on: ``({"world_pairs", "comparisons"},
    held-out world pairs, the reviewers' comparisons)`` from the stage's table (its
    ``world_pairs``, ``held_out``, ``seed`` and ``reviews`` keys)."""
    cfg = ctx.config
    own = stage_data(ctx).get("preference")
    data: dict[str, list[dict]]
    if own is not None:
        # The project's own pairs replace the world's; whole prompts are held out.
        rows = own.rows[:cfg.world_pairs] if cfg.world_pairs else own.rows
        train, test = split_pairs([as_pair(r) for r in rows], cfg.held_out, cfg.seed)
        data = {"data:preference": train}
    else:
        train, test = world_pairs(stage_world(ctx), cfg.world_pairs, cfg.held_out, cfg.seed)
        data = {"world_pairs": train}
    reviews = [as_pair(r) for r in review_rows(ctx, "preference")] if cfg.reviews else []
    if reviews:
        data["comparisons"] = reviews
    return data, test, reviews


def _reward_section() -> type[BaseModel]:
    from accord.train import RewardStageConfig

    return section_model("RewardSection", RewardStageConfig, exclude=TRAIN_EXCLUDE,
                         world_pairs=(int, 2000), held_out=(float, 0.1), reviews=(bool, True))


def run_reward(ctx: StageContext) -> dict[str, Any]:
    from accord.pipeline._model_stages import quiet_hf_progress
    from accord.train import RewardStageConfig, evaluate_reward_model, train_reward_model

    quiet_hf_progress()
    cfg = ctx.config
    data, test, reviews = preference_data(ctx)
    sft = ctx.inputs["sft"].figures
    config = build_dataclass(RewardStageConfig, cfg, num_threads=training_threads())
    used = record_used_prompts(ctx, [r["prompt"] for rows in data.values() for r in rows])
    result = train_reward_model(config, sft["model_dir"], data, ctx.dir / "train",
                                eval_pairs=test or None)
    name = register_trained(ctx, "reward", result.model_dir, sft["model_version"], result,
                            training_signal=signal(review_signal(ctx) if reviews else ()),
                            data_files=uses_data(ctx, "preference"))
    figures = {"model_version": name, "model_dir": result.model_dir,
               "rows": {k: len(v) for k, v in data.items()}, "held_out_pairs": len(test),
               "eval_accuracy": result.metrics.get("eval_accuracy"), "prompts_used": used,
               **loss_figures(result)}
    if reviews:
        # How the reward model ranks the reviewers' own (training) comparisons.
        figures["review_accuracy"] = evaluate_reward_model(result.model_dir, reviews)
    figures["models"] = models_figure("reward model", name, result.model_dir)
    return figures


# ------------------------------------------------------------------------------ rules


class RulesSection(BaseModel):
    """``[rules]``: fitting the rule-based reward's weights (docs/rewards.md)."""

    model_config = {"extra": "forbid"}
    new_keys: ClassVar[tuple[str, ...]] = ("source",)
    source: Literal["world", "rbr-gold"] = "world"
    """What the weights are fitted on: ``world`` (the demo world's pairs) or ``rbr-gold``
    (the RBR paper's 351 human-labelled completions, graded by the spec's graders: the
    paper's own fit, for a real model)."""
    pairs: int = 600
    """World comparison pairs graded for the fit (chosen = ideal, rejected = its behaviour)."""
    holdout: float = 0.25
    margin: float = 1.0
    l2: float = 1e-3
    seed: int = 0


# World behaviour → the spec's completion class (chosen responses are ideal).
_CLASS_OF = {"helpful": "ideal", "correct_refusal": "ideal", "ignores_settings": "acceptable",
             "preachy": "unacceptable", "over_refusal": "unacceptable",
             "one_sided": "unacceptable", "offensive": "disallowed",
             "objectionable_compliance": "disallowed"}


def response_type(prompt_record: dict) -> str:
    """The spec's response type of a world prompt: refuse what the world's ideal refuses."""
    return "refuse" if prompt_record.get("ideal_behaviour") == "correct_refusal" else "comply"


def _rules_on_gold(ctx: StageContext) -> dict[str, Any]:
    """RBR weights fitted on the RBR gold set graded by the spec's graders."""
    from accord.audit import default_data_dir
    from accord.rewards import fit_rule_weights, grade_gold, graded_examples, load_gold
    from accord.spec import load_spec

    cfg = ctx.config
    rules = load_spec(ctx.inputs["spec"].dir / "spec").rules
    examples, _ = load_gold(default_data_dir() / "rbr")
    grader, probs = grade_gold(rules, examples, skip_kinds=("llm_judge",))
    ranked = [e for e in graded_examples(examples, probs) if e.klass is not None]
    order = ["ideal", "acceptable", "unacceptable", "disallowed"]
    weights = fit_rule_weights(ranked, [p.id for p in rules.propositions], order,
                               holdout=cfg.holdout, seed=cfg.seed, margin=cfg.margin, l2=cfg.l2)
    weights.save(ctx.dir / "weights.json")
    from accord.pipeline._data import file_sha256

    gold = default_data_dir() / "rbr" / "gold-train.jsonl"
    return {"weights": str(ctx.dir / "weights.json"), "examples": len(ranked),
            "source": "rbr-gold", "gold_sha256": file_sha256(gold),
            "graders": sorted({g.name for p, g in grader.graders.items()
                               if p in set(grader.proposition_ids)}),
            "accuracy": {t: {"train": w.train_accuracy, "held_out": w.heldout_accuracy,
                             "held_out_pairs": w.heldout_pairs}
                         for t, w in weights.by_type.items()}}


def run_rules(ctx: StageContext) -> dict[str, Any]:
    from accord.rewards import Exchange, PropositionGrader, RankedExample, fit_rule_weights
    from accord.spec import load_spec

    cfg = ctx.config
    if cfg.source == "rbr-gold":
        return _rules_on_gold(ctx)
    world = stage_world(ctx)
    rules = load_spec(ctx.inputs["spec"].dir / "spec").rules
    ideal = {p["id"]: p for p in world.prompts["sft"]}
    examples_meta, exchanges = [], []
    for pair in world.preference_pairs[:cfg.pairs]:
        rtype = response_type(ideal[pair["prompt_id"]])
        behaviour = pair["rejected_behaviour"]
        if behaviour == "helpful":  # the ideal content, ignoring the user's settings
            rejected_class = "acceptable"
        else:
            rejected_class = _CLASS_OF.get(behaviour, "unacceptable")
        for side, klass in (("chosen", "ideal"), ("rejected", rejected_class)):
            exchanges.append(Exchange(pair["prompt"], pair[side][0]["content"]))
            examples_meta.append((pair["prompt_id"], rtype, klass))
    grader = PropositionGrader(rules, skip_kinds=("llm_judge",))
    probs = grader.grade(exchanges)
    examples = [RankedExample(rtype, group, klass, p)
                for (group, rtype, klass), p in zip(examples_meta, probs, strict=True)]
    features = [p.id for p in rules.propositions]
    order = ["ideal", "acceptable", "unacceptable", "disallowed"]
    weights = fit_rule_weights(examples, features, order, holdout=cfg.holdout, seed=cfg.seed,
                               margin=cfg.margin, l2=cfg.l2)
    weights.save(ctx.dir / "weights.json")
    return {"weights": str(ctx.dir / "weights.json"), "examples": len(examples),
            "graders": sorted({g.name for p, g in grader.graders.items()
                               if p in set(grader.proposition_ids)}),
            "accuracy": {t: {"train": w.train_accuracy, "held_out": w.heldout_accuracy,
                             "held_out_pairs": w.heldout_pairs}
                         for t, w in weights.by_type.items()}}


def _report_rules(out: StageOutput) -> list[Any]:
    from accord.report import paragraph, table

    acc = out.figures["accuracy"]
    weights = json.loads(Path(out.figures["weights"]).read_text())
    what = ("completions of the RBR gold set (human-labelled, sha256 "
            f"{out.figures.get('gold_sha256', '?')[:12]})"
            if out.figures.get("source") == "rbr-gold" else "world completions")
    parts = [paragraph(f"Rule-based-reward weights fitted on {out.figures['examples']} graded "
                       f"{what} of known class (hinge ranking loss, same-prompt "
                       "pairs ordered ideal > acceptable > unacceptable > disallowed)."),
             table(["response type", "train accuracy", "held-out accuracy", "held-out pairs"],
                   [[t, a["train"], a["held_out"], a["held_out_pairs"]] for t, a in acc.items()])]
    for rtype, lw in weights.get("by_type", {}).items():
        top = sorted(zip(lw["features"], lw["weights"], strict=True), key=lambda fw: -abs(fw[1]))
        parts.append(table([f"{rtype}: proposition", "weight"],
                           [[f, round(w, 3)] for f, w in top[:8]]))
    return parts


def describe_trained(fig: dict[str, Any]) -> str:
    bits = [fig["model_version"]]
    if fig.get("train_loss") is not None:
        bits.append(f"loss {fig['train_loss']:.3f}")
    if fig.get("eval_accuracy") is not None:
        bits.append(f"held-out pair accuracy {fig['eval_accuracy']:.3f}")
    if fig.get("held_out_margin") is not None:
        bits.append(f"held-out margin {fig['held_out_margin']:+.2f}")
    return ", ".join(bits)


def card_figures(suites: dict[str, Any]) -> dict[str, Any]:
    """One ablation row's suite results as model-card figures: ``suite: metric`` →
    ``{rate, low, high, n}``, the name marked where the suite's grader shares a source with
    the model's training signal."""
    figures: dict[str, Any] = {}
    for suite, res in suites.items():
        mark = (" (SELF-GRADED)" if res.get("independence", {}).get("verdict") == "self-graded"
                else "")
        for f in res["figures"]:
            figures[f"{suite}: {f['metric']}{mark}"] = {
                "rate": "n/a" if f["value"] is None else f["value"],
                "low": f.get("low"), "high": f.get("high"), "n": f.get("n")}
    return figures


def write_ablation_cards(ctx: StageContext, entries: list[dict[str, Any]],
                         rows: list[tuple[str, str, str]]) -> list[str]:
    """Rewrite each measured model's card (``README.md`` in its folder) with the
    ablation's figures for it: trained models from their stage result (lineage, data
    hashes, settings), the imported base model from its source.

    Args:
        ctx: the ablation stage's context.
        entries: the ablation's rows (``label``, ``model_version``, ``suites``).
        rows: (label, model version, model folder) of each row.

    Returns:
        The cards written.
    """
    from accord.model import write_model_card
    from accord.spec import load_spec
    from accord.train import StageResult, write_stage_card

    spec_version = load_spec(ctx.project.spec_dir).version
    folders = {label: Path(folder) for label, _, folder in rows}
    written = []
    for entry in entries:
        folder = folders.get(entry["label"])
        if folder is None or not folder.is_dir() or not entry.get("suites"):
            continue
        figures = card_figures(entry["suites"])
        name = f"{entry['model_version']} ({entry['label']})"
        done = folder.parent / "result.json"
        if done.is_file():
            result = StageResult.from_dict(json.loads(done.read_text()))
            # The result may have been written where the project used to be.
            result.model_dir = str(folder)
            card = write_stage_card(result, spec_version=spec_version, figures=figures,
                                    name=name)
        else:
            pretrain = ctx.inputs.get("pretrain")
            source = pretrain.figures.get("base_model") if pretrain else None
            card = write_model_card(folder, {"name": name, "stage": "pretrain",
                                             "base_model": source or "pretrained by Accord",
                                             "spec_version": spec_version}, figures)
        written.append(str(card))
    return written


# version 2: training signal in the lineage, prompts_used.json (issue 12)
SFT = Stage("sft", run_sft, _sft_section(), reads=("spec", "world", "pretrain", "review"),
            version="2", data=("sft",),
            describe=describe_trained, title="Supervised fine-tuning")
REWARD = Stage("reward", run_reward, _reward_section(), version="2", data=("preference",),
               reads=("spec", "world", "sft", "review"), describe=describe_trained,
               title="Reward model")
RULES = Stage("rules", run_rules, RulesSection, reads=("spec", "world"),
              report=_report_rules,
              describe=lambda f: ", ".join(f"{t} held-out {a['held_out']:.3f}"
                                           for t, a in f["accuracy"].items()),
              title="Rule-based reward")
