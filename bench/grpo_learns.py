"""Does GRPO learn on the demo? The old defaults against the new, over seeds (issue 13).

Reads a finished demo run's SFT model, reward model, rule weights, spec and world (the
stage folders under ``--stages``; nothing is modified), then for each seed × variant ×
setting trains the demo's GRPO (30 steps, 8 completions of 32 tokens per step, the
world's first 240 RL prompts) and measures the final policy:

- the training reward's first and last quarter of steps, and the last quarter's KL;
- the reward model's mean score of the final policy on 200 held-out RL prompts (600-799,
  never trained on) × 4 seeded samples at temperature 1, against the SFT model's, with the
  standard error. The reward model is the one GRPO optimises, so this says whether the
  policy learnt what it was rewarded for, not whether it behaves better: that is the
  ablation's job, with graders independent of the training signal.

Settings: ``old`` = learning rate 2e-5, beta 0.04 (the defaults before session 5);
``new`` = ``GRPOStageConfig``'s defaults.

Usage::

    python bench/grpo_learns.py --stages examples/demo/.accord/stages --seeds 0 1 2 \\
        --out /tmp/grpo_learns.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

SETTINGS = {"old": {"learning_rate": 2e-5, "beta": 0.04}, "new": {}}
DEMO = {"max_steps": 30, "batch_size": 8, "num_generations": 4, "max_completion_length": 32,
        "num_threads": 1}


def stage_dir(stages: Path, name: str) -> Path:
    found = sorted(p for p in stages.glob(f"{name}-*") if (p / "done.json").exists())
    if not found:
        raise SystemExit(f"no finished {name} stage under {stages}")
    return found[-1]


def figures(stages: Path, name: str) -> dict:
    return json.loads((stage_dir(stages, name) / "done.json").read_text())["figures"]


def rl_rows(stages: Path) -> list[dict]:
    path = stage_dir(stages, "world") / "world" / "prompts_rl.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [{"prompt": r["messages"], "response_type": "refuse"
             if r.get("ideal_behaviour") == "correct_refusal" else "comply"} for r in rows]


def held_out_reward(model_dir: str, rm_dir: str, prompts: list[dict]) -> dict:
    """Mean reward-model score of 4 seeded samples per held-out prompt."""
    from accord.model import SamplingConfig, load_backend
    from accord.train import reward_scores

    backend = load_backend(model_dir, batch_size=32)
    conversations = [p["prompt"] for p in prompts for _ in range(4)]
    sampling = SamplingConfig(temperature=1.0, top_p=1.0, max_new_tokens=32, seed=1234)
    replies = backend.generate(conversations, sampling,
                               seeds=list(range(len(conversations))))
    scores = reward_scores(rm_dir, [[*c, {"role": "assistant", "content": r}]
                                    for c, r in zip(conversations, replies, strict=True)])
    return {"mean": statistics.fmean(scores),
            "se": statistics.stdev(scores) / len(scores) ** 0.5, "n": len(scores)}


def quarter(values: list[float], last: bool) -> float:
    n = max(1, round(len(values) / 4))
    return statistics.fmean(values[-n:] if last else values[:n])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--stages", type=Path, default=Path("examples/demo/.accord/stages"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["rm", "rm+rbr"])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS))
    parser.add_argument("--work", type=Path, default=Path("/tmp/grpo_learns"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/grpo_learns.json"))
    args = parser.parse_args()

    from accord.rewards import RuleBasedReward, RuleWeights
    from accord.spec import load_spec
    from accord.train import GRPOStageConfig, train_grpo

    sft_dir = figures(args.stages, "sft")["model_dir"]
    rm_dir = figures(args.stages, "reward")["model_dir"]
    rows = rl_rows(args.stages)
    train_rows, held_out = rows[:240], rows[600:800]
    results = json.loads(args.out.read_text()) if args.out.exists() else {"runs": {}}
    if "sft" not in results:
        results["sft"] = held_out_reward(sft_dir, rm_dir, held_out)
    for seed in args.seeds:
        for variant in args.variants:
            for setting in args.settings:
                tag = f"{setting}-{variant}-s{seed}"
                if tag in results["runs"]:
                    continue
                sources: list = [rm_dir]
                weights: tuple[float, ...] = (1.0,)
                if variant == "rm+rbr":
                    rules = load_spec(stage_dir(args.stages, "spec") / "spec").rules
                    weights_file = figures(args.stages, "rules")["weights"]
                    sources.append(RuleBasedReward(rules, RuleWeights.load(weights_file),
                                                   skip_kinds=("llm_judge",)))
                    weights = (1.0, 1.0)
                config = GRPOStageConfig(**DEMO, **SETTINGS[setting], seed=seed,
                                         reward_weights=weights, eval_steps=0)
                started = time.perf_counter()
                result = train_grpo(config, sft_dir, train_rows, sources, args.work / tag)
                seconds = time.perf_counter() - started
                steps = [h for h in result.log_history if "reward" in h]
                rewards = [h["reward"] for h in steps]
                kls = [h["kl"] for h in steps]
                results["runs"][tag] = {
                    "train_reward_first_quarter": quarter(rewards, last=False),
                    "train_reward_last_quarter": quarter(rewards, last=True),
                    "kl_last_quarter": quarter(kls, last=True),
                    "held_out": held_out_reward(result.model_dir, rm_dir, held_out),
                    "seconds": seconds, "load": os.getloadavg()[0],
                    "config": {**DEMO, **SETTINGS[setting]}}
                args.out.write_text(json.dumps(results, indent=1))
                r = results["runs"][tag]
                print(f"{tag}: train {r['train_reward_first_quarter']:.2f} → "
                      f"{r['train_reward_last_quarter']:.2f}, KL {r['kl_last_quarter']:.2g}, "
                      f"held-out {r['held_out']['mean']:.3f} ± {r['held_out']['se']:.3f} "
                      f"(SFT {results['sft']['mean']:.3f}), {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
