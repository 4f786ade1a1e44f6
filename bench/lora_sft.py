"""Full fine-tuning against LoRA for one SFT stage on a real model (SmolLM2-135M by default).

Both arms run ``accord.train.train_sft`` from the same base on the same conversations for
the same steps, each round in a fresh folder; the figure is seconds per optimizer step from
the trainer's own ``train_runtime`` (model loading and saving excluded). They alternate for
``--rounds`` rounds (bench/_rounds.py). Besides time, it prints what LoRA saves on disk:
the saved folder's size per arm, and the trainable parameter count.

    .venv/bin/python bench/lora_sft.py [--model smollm2] [--steps 3] [--batch-size 4]
        [--max-length 128] [--rounds 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

from _rounds import add_rounds_argument, run_rounds
from accord.model import resolve_model
from accord.train import SFTStageConfig, build_sft_trainer, train_sft

TOPICS = ["rivers", "markets", "bridges", "libraries", "forests", "castles", "tea", "maps"]


def conversations(n: int, seed: int = 0) -> list[dict]:
    r = random.Random(seed)
    rows = []
    for _ in range(n):
        topic = r.choice(TOPICS)
        rows.append({"messages": [
            {"role": "user", "content": f"Give me one practical tip about {topic}."},
            {"role": "assistant", "content": f"A practical tip about {topic}: start small, "
             f"write down what you learn, and ask someone who knows {topic} well."}]})
    return rows


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="write the result as JSON")
    add_rounds_argument(parser)
    args = parser.parse_args()

    base = resolve_model(args.model)
    rows = conversations(args.steps * args.batch_size)
    settings = dict(max_steps=args.steps, batch_size=args.batch_size, learning_rate=1e-4,
                    max_length=args.max_length, logging_steps=1, warmup_steps=0,
                    num_threads=args.threads, device="cpu")
    sizes: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="lora-bench-"))

    def arm(name: str, lora: bool):
        def run(k: int) -> float:
            out = work / f"{name}-{k}"
            result = train_sft(SFTStageConfig(**settings, lora=lora), base, rows, out)
            sizes[name] = folder_mb(Path(result.model_dir))
            shutil.rmtree(out, ignore_errors=True)
            return result.metrics["train_runtime"] / result.steps
        return run

    trainable = {}
    for name, lora in (("full", False), ("lora", True)):
        trainer = build_sft_trainer(SFTStageConfig(**settings, lora=lora), base, rows,
                                    work / f"count-{name}")
        trainable[name] = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
        del trainer
    try:
        result = run_rounds({"full": arm("full", False), "lora": arm("lora", True)},
                            rounds=args.rounds, unit="s/step")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(result.report())
    for name in ("full", "lora"):
        print(f"  {name}: trainable parameters {trainable[name]:,}, saved folder "
              f"{sizes[name]:.1f} MB")
    if args.out:
        args.out.write_text(json.dumps({**result.as_dict(), "trainable": trainable,
                                        "saved_mb": sizes, "settings": settings,
                                        "model": str(base)}, indent=2))


if __name__ == "__main__":
    main()
