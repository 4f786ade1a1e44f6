"""The whole Constitutional-AI recipe on one policy: SL-CAI, then RL-CAI (docs/cai.md).

SL-CAI: the base model answers prompts; the critic critiques each answer against a
principle drawn from the constitution and revises it; the (optionally vetted) revisions
are SFT data for the policy ("SFT + SL-CAI"). RL-CAI: the SL-CAI model samples two
answers per prompt, the critic labels which is better under sampled principles, and DPO
on the confident labels gives "SFT + SL-CAI + RL-CAI". How often the critic's labels
agree with given labelled pairs (reviewers', the world's ground truth) is measured too.

Every length, batch size and temperature the recipe uses is a field of :class:`CAIConfig`;
its defaults are what ``accord run``'s ``cai`` stage has always used.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.cai._agreement import label_agreement
from accord.cai._model import CaiModel
from accord.cai._quality import revision_quality
from accord.cai._rl import feedback_labels, preference_rows, vet_revisions
from accord.cai._sl import critique_revise, sft_rows
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord.model import Backend, SamplingConfig


@dataclass(frozen=True)
class CAIConfig:
    """How :func:`train_cai` runs; ``accord run`` reads the first group from ``[cai]``."""

    critic: str = "policy"
    """Who critiques, revises and gives feedback: ``policy`` (the model being trained),
    a local HF folder or ``.gguf`` file, or ``smollm2`` (SmolLM2-135M-Instruct, offline)."""
    prompts: int = 150
    """Prompts answered, critiqued and revised (SL-CAI): the first this-many."""
    rounds: int = 1
    """Critique/revision rounds per answer."""
    feedback_prompts: int = 150
    """Prompts whose two sampled answers get AI-feedback labels (RL-CAI): the next
    this-many after the SL-CAI prompts, so RL-CAI never sees a prompt SL-CAI trained on."""
    n_principles: int = 2
    """Principles sampled per AI-feedback label (their votes are averaged)."""
    agreement_pairs: int = 150
    """Ground-truth pairs labelled to measure the feedback model (0 skips it)."""
    reviewer_pairs: int = 0
    """At most this many reviewers' pairs labelled to measure the feedback model against
    people (0: all of them; a smoke run caps it, each pair costs four judgements)."""
    min_confidence: float = 0.6
    """AI labels below this confidence are not trained on (nor revisions, when vetted)."""
    vet: bool = True
    """Keep a revision only where the feedback model prefers it to the initial answer
    (a small critic's revisions can lose facts; docs/cai.md)."""
    sft_steps: int = 60
    """Optimizer steps of SL-CAI's SFT on the revisions."""
    dpo_steps: int = 60
    """Optimizer steps of RL-CAI's DPO on the AI labels."""
    learning_rate: float = 1e-4
    """SL-CAI's SFT learning rate (DPO keeps ``accord.train.DPOStageConfig``'s)."""
    max_new_tokens: int = 48
    """Reply length cap for answers, critiques and revisions."""
    max_prompt_tokens: int | None = None
    """``accord run`` only: prompts longer than this many tokens under the model's chat
    template are skipped (``accord.train.fit_prompts``; None keeps all). Each answer is
    critiqued, revised and judged with its whole conversation in front of it."""
    seed: int = 0
    """Seeds sampling, principle draws and training."""

    # Not in [cai] (changing them changes what the stage has always produced):
    answer_temperature: float = 0.9
    """Temperature of the answers SL-CAI revises and RL-CAI compares: the meter's
    (``[eval]``), so the answers are what users would see."""
    critic_temperature: float = 0.7
    """Temperature of critiques and revisions: a little sharper than the answers."""
    top_p: float = 1.0
    """Nucleus mass for every sampled reply (1 = off)."""
    batch_size: int = 32
    """Conversations per forward pass (never changes a result)."""
    max_length: int = 192
    """Token cap of a training row for SL-CAI's SFT and RL-CAI's DPO."""
    num_threads: int | None = None
    """CPU threads for training; None: every available core
    (``accord.model.available_cores()``)."""

    def __post_init__(self) -> None:
        problems = [f"{name}={getattr(self, name)} must be >= 1"
                    for name in ("prompts", "rounds", "feedback_prompts", "n_principles",
                                 "sft_steps", "dpo_steps", "max_new_tokens", "batch_size",
                                 "max_length")
                    if getattr(self, name) < 1]
        if self.max_prompt_tokens is not None and self.max_prompt_tokens < 1:
            problems.append(f"max_prompt_tokens={self.max_prompt_tokens} must be >= 1 "
                            "(or left out)")
        for name in ("agreement_pairs", "reviewer_pairs"):
            if getattr(self, name) < 0:
                problems.append(f"{name}={getattr(self, name)} must be >= 0")
        if not 0.5 <= self.min_confidence <= 1.0:
            problems.append(f"min_confidence={self.min_confidence} must be in [0.5, 1]")
        if problems:
            raise AccordError("invalid CAIConfig: " + "; ".join(problems))


@dataclass
class CAIResult:
    """What :func:`train_cai` made.

    Attributes:
        sl: the SL-CAI training result (``accord.train`` ``StageResult``: ``model_dir``,
            ``config``, ``datasets``, ``metrics``...).
        rl: the RL-CAI (DPO) training result; None when no AI label was confident enough.
        figures: ``revision_quality`` (before/after, the meter's graders), ``revisions``,
            ``revisions_trained``, ``vetted_quality`` (None unless vetted), ``ai_pairs``,
            ``ai_pairs_trained``, and ``agreement`` (``reviewers`` / ``world_truth`` →
            ``LabelAgreement.to_dict()``, for the pair sets given).
    """

    sl: Any
    rl: Any | None
    figures: dict[str, Any] = field(default_factory=dict)


def _pair(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"prompt": row["prompt"], "chosen": row["chosen"], "rejected": row["rejected"]}


def _write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")


def _local(source: str | Path, sampling: SamplingConfig, batch_size: int) -> CaiModel:
    from accord.model import LocalBackend

    return CaiModel(LocalBackend(source, batch_size=batch_size, what="CAI model"), sampling)


def train_cai(config: CAIConfig, *, principles: Any, prompts: Sequence[Any],
              base_model: str | Path, policy_model: str | Path, out_dir: str | Path,
              reviewer_pairs: Sequence[Mapping[str, Any]] = (),
              truth_pairs: Sequence[Mapping[str, Any]] = (),
              critic: Backend | None = None) -> CAIResult:
    """SL-CAI then RL-CAI on ``policy_model``; see the module docstring.

    Args:
        config: the recipe's knobs (:class:`CAIConfig`).
        principles: a spec, a constitution or principles (see ``as_principles``).
        prompts: prompt records with ``messages`` (e.g. the world's ``rl`` prompts): the
            first ``config.prompts`` for SL-CAI, the next ``config.feedback_prompts`` for
            RL-CAI.
        base_model: the model whose answers SL-CAI revises (a model folder).
        policy_model: the model trained (SL-CAI starts from it; the SFT model), and the
            critic when ``config.critic`` is ``policy``.
        out_dir: writes ``revisions.jsonl``, ``ai_feedback.jsonl`` and the training
            folders ``sl_cai/`` and ``rl_cai/`` (each resumes from its checkpoints).
        reviewer_pairs: labelled ``prompt``/``chosen``/``rejected`` pairs (the reviewers')
            the critic's labels are compared with; empty skips it.
        truth_pairs: pairs of known order (the world's held-out pairs); the first
            ``config.agreement_pairs`` are compared with the critic's labels.
        critic: an ``accord.model`` backend (e.g. an ``OpenAIBackend`` endpoint) to
            critique, revise and label instead of ``config.critic``; it samples as the
            local critic would (``critic_temperature``; see ``CaiModel`` for the seed of
            each call).

    Returns:
        The two training results and the figures.

    Raises:
        AccordError: no revision passed vetting, or a model cannot be loaded.
    """
    from accord.model import SamplingConfig, available_cores
    from accord.train import DPOStageConfig, SFTStageConfig, train_dpo, train_sft

    out = Path(out_dir)
    threads = config.num_threads or available_cores()
    answer = SamplingConfig(temperature=config.answer_temperature, top_p=config.top_p,
                            max_new_tokens=config.max_new_tokens, seed=config.seed)
    critique = dataclasses.replace(answer, temperature=config.critic_temperature)
    judge = (_local(policy_model if config.critic == "policy" else config.critic, critique,
                    config.batch_size) if critic is None else CaiModel(critic, critique))

    # SL-CAI: the base model's answers, critiqued and revised.
    sl_prompts = list(prompts[:config.prompts])
    initial = _local(base_model, answer, config.batch_size).generate(
        [p["messages"] for p in sl_prompts])
    records = critique_revise(judge.generate, sl_prompts, principles, rounds=config.rounds,
                              seed=config.seed, responses=initial)
    quality = revision_quality(records)
    if config.vet:
        records = vet_revisions(judge.score, records, principles,
                                min_confidence=config.min_confidence,
                                n_principles=config.n_principles, seed=config.seed)
    rows = sft_rows(records, changed_only=config.vet)
    if not rows:
        raise AccordError(f"[cai] no revision of {len(records)} passed vetting (min_confidence "
                          f"{config.min_confidence}); lower it, or set vet = false")
    _write_jsonl(out / "revisions.jsonl", records)
    sl = train_sft(SFTStageConfig(max_steps=config.sft_steps, learning_rate=config.learning_rate,
                                  max_length=config.max_length, seed=config.seed,
                                  num_threads=threads),
                   str(policy_model), {"revisions": rows}, out / "sl_cai")

    # RL-CAI: AI feedback on pairs of the SL-CAI model's own answers, then DPO.
    fb_prompts = prompts[config.prompts:config.prompts + config.feedback_prompts]
    sampler = _local(sl.model_dir, answer, config.batch_size)
    convs = [p["messages"] for p in fb_prompts]
    first, second = sampler.generate(convs), sampler.generate(convs)
    pairs = [{"prompt": c, "responses": [a, b]}
             for c, a, b in zip(convs, first, second, strict=True) if a.strip() != b.strip()]
    labels = feedback_labels(judge.score, pairs, principles, n_principles=config.n_principles,
                             seed=config.seed)
    ai_rows = preference_rows(labels, min_confidence=config.min_confidence)
    _write_jsonl(out / "ai_feedback.jsonl", labels)
    figures: dict[str, Any] = {"revision_quality": quality, "revisions": len(records),
                               "revisions_trained": len(rows),
                               "vetted_quality": revision_quality(records) if config.vet
                               else None,
                               "ai_pairs": len(labels), "ai_pairs_trained": len(ai_rows)}
    rl = None
    if ai_rows:
        rl = train_dpo(DPOStageConfig(max_steps=config.dpo_steps, max_length=config.max_length,
                                      seed=config.seed, num_threads=threads),
                       sl.model_dir, {"ai_feedback": [_pair(r) for r in ai_rows]},
                       out / "rl_cai")

    # How far the feedback model can be trusted: given labelled pairs and ground truth.
    agreement: dict[str, Any] = {}
    reviewers = [_pair(r) for r in reviewer_pairs]
    if config.reviewer_pairs:
        reviewers = reviewers[:config.reviewer_pairs]
    if reviewers:
        ai = feedback_labels(judge.score, reviewers, principles,
                             n_principles=config.n_principles, seed=config.seed)
        agreement["reviewers"] = label_agreement(ai, reviewers).to_dict()
    if config.agreement_pairs and truth_pairs:
        truth = list(truth_pairs[:config.agreement_pairs])
        ai = feedback_labels(judge.score, truth, principles, n_principles=config.n_principles,
                             seed=config.seed)
        agreement["world_truth"] = label_agreement(ai, truth).to_dict()
    figures["agreement"] = agreement
    return CAIResult(sl, rl, figures)
