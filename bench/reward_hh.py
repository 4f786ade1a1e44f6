"""The reward-model stage on real human preferences: Anthropic's HH-RLHF (harmless-base).

Reads ``shared/data/hh-rlhf/harmless-base-test-part1.jsonl.gz`` (the repository root's
sibling ``shared/``; 1,800 pairs of whole dialogues ``"\\n\\nHuman: ... \\n\\nAssistant: ..."``),
parses them into TRL conversational pairs (shared prompt + the two final replies), splits
them into train and held-out sets, trains a fresh byte-level BPE tokenizer on the training
text and a tiny Llama from scratch, optionally pretrains it briefly on the training
dialogues (a language model first, as in practice), then trains the reward model with
``accord.train.train_reward_model`` and prints held-out pairwise accuracy (chance 0.5)
next to two baselines measured on the same held-out pairs: "prefer the shorter reply"
and the untrained reward head.

A quality benchmark, not a timing one: it runs ``--rounds`` rounds (default 5), each a
fresh model trained with seed ``--seed`` + k (the train/held-out split stays fixed by
``--seed``), and prints each round's accuracy beside its own untrained head, then the
median and spread (min-max, IQR) of the accuracy and of its gain over the untrained head
and over "shorter reply" (bench/_rounds.py's ``spread``). Times are printed per round as
durations; they are not compared with anything.

    .venv/bin/python bench/reward_hh.py --threads 1          # tiny, ~2 min a round on a core
    .venv/bin/python bench/reward_hh.py --size small --lr 1e-4 --steps 300 --rounds 5
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import tempfile
import time
from pathlib import Path

import torch

from _rounds import add_rounds_argument, spread
from accord.audit import hh_suite_split
from accord.model import (
    PretrainConfig,
    build_model,
    count_parameters,
    pretrain,
    render_chat,
    train_tokenizer,
)
from accord.train import RewardStageConfig, evaluate_reward_model, train_reward_model

DATA = (Path(__file__).resolve().parents[2] / "shared" / "data" / "hh-rlhf"
        / "harmless-base-test-part1.jsonl.gz")
TURN = re.compile(r"\n\n(Human|Assistant): ")


def parse_dialogue(text: str) -> list[dict[str, str]] | None:
    """``"\\n\\nHuman: a\\n\\nAssistant: b..."`` as messages; None if it does not alternate."""
    parts = TURN.split(text)
    if parts[0].strip():
        return None
    messages = []
    for speaker, content in zip(parts[1::2], parts[2::2], strict=True):
        role = "user" if speaker == "Human" else "assistant"
        if messages and messages[-1]["role"] == role:
            return None
        messages.append({"role": role, "content": content.strip()})
    if len(messages) < 2 or messages[0]["role"] != "user" or messages[-1]["role"] != "assistant":
        return None
    return messages


def load_pairs(path: Path = DATA) -> list[dict]:
    """HH rows as ``{"prompt", "chosen", "rejected"}`` pairs differing in the last reply,
    without the rows whose prompts the ``offensive`` suite measures (issue 12: a reward
    model trained on them would be graded on its own training prompts)."""
    pairs = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        suite, rows = hh_suite_split(json.loads(line) for line in fh)
    print(f"HH harmless-base: {len(suite)} rows held out for the offensive suite")
    for row in rows:
        chosen, rejected = parse_dialogue(row["chosen"]), parse_dialogue(row["rejected"])
        if (chosen is None or rejected is None or chosen[:-1] != rejected[:-1]
                or chosen[-1] == rejected[-1]):
            continue
        pairs.append({"prompt": chosen[:-1], "chosen": chosen[-1:], "rejected": rejected[-1:]})
    return pairs


def shorter_reply_accuracy(pairs: list[dict]) -> float:
    """Baseline: prefer the shorter final reply (harmless replies are often brief)."""
    right = 0.0
    for p in pairs:
        c, r = len(p["chosen"][0]["content"]), len(p["rejected"][0]["content"])
        right += 1.0 if c < r else 0.5 if c == r else 0.0
    return right / len(pairs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="tiny", choices=["tiny", "small"])
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--pretrain-steps", type=int, default=300,
                    help="language-model steps on the training dialogues first (0 = none)")
    ap.add_argument("--steps", type=int, default=400, help="reward-model steps")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0,
                    help="seeds the split; round k trains with seed + k")
    add_rounds_argument(ap)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    pairs = load_pairs()
    random.Random(args.seed).shuffle(pairs)
    n_test = int(len(pairs) * args.test_fraction)
    test, train = pairs[:n_test], pairs[n_test:]
    print(f"HH harmless-base: {len(pairs)} usable pairs -> {len(train)} train, "
          f"{len(test)} held out")

    shorter = shorter_reply_accuracy(test)
    rows = []
    for k in range(args.rounds):
        row = one_round(args, train, test, args.seed + k)
        rows.append(row)
        print(f"round {k + 1}/{args.rounds} (seed {args.seed + k}): held-out accuracy "
              f"{row['accuracy']:.3f}, untrained head {row['untrained']:.3f}, train subset "
              f"{row['train_accuracy']:.3f}; {row['seconds']:.0f} s "
              f"({row['lm_seconds']:.0f} s tokenizer + LM pretraining)", flush=True)
    print(f"\n{args.rounds} rounds (seeds {args.seed}..{args.seed + args.rounds - 1}), "
          f"{len(test)} held-out pairs:")
    print(f"  held-out accuracy:   {spread([r['accuracy'] for r in rows]).text()}")
    print(f"  untrained head:      {spread([r['untrained'] for r in rows]).text()}")
    print(f"  gain over untrained: "
          f"{spread([r['accuracy'] - r['untrained'] for r in rows]).text('+.3f')}")
    print(f"  train subset:        {spread([r['train_accuracy'] for r in rows]).text()}")
    print(f"baselines on the same pairs: chance 0.500, shorter reply {shorter:.3f} "
          "(both fixed)")
    acc = spread([r["accuracy"] for r in rows])
    print(f"median ratio to chance: {acc.median / 0.5:.3f}; to shorter-reply: "
          f"{acc.median / shorter:.3f}")


def one_round(args: argparse.Namespace, train: list[dict], test: list[dict],
              seed: int) -> dict[str, float]:
    """Tokenizer, model, optional LM pretraining and reward training with ``seed``."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        texts = [m["content"] for p in train for k in ("prompt", "chosen", "rejected")
                 for m in p[k]]
        tokenizer = train_tokenizer(texts, vocab_size=args.vocab, out_dir=run / "tok")
        model = build_model(args.size, tokenizer, seed=seed)
        print(f"model: {args.size}, {count_parameters(model):,} parameters, vocab "
              f"{len(tokenizer)}")
        if args.pretrain_steps > 0:
            docs = [render_chat(tokenizer, [*p["prompt"], *p["chosen"]]) for p in train]
            docs += [render_chat(tokenizer, [*p["prompt"], *p["rejected"]]) for p in train]
            lm = pretrain(PretrainConfig(steps=args.pretrain_steps, seq_len=args.max_length,
                                         seed=seed, num_threads=args.threads),
                          tokenizer, model, docs, run / "lm")
            base = Path(lm.model_dir)
        else:
            base = run / "base"
            model.save_pretrained(base)
            tokenizer.save_pretrained(base)
        lm_time = time.monotonic() - start

        untrained = evaluate_reward_model(base, test, max_length=args.max_length)
        config = RewardStageConfig(max_steps=args.steps, batch_size=args.batch_size,
                                   learning_rate=args.lr, max_length=args.max_length,
                                   logging_steps=25, seed=seed,
                                   num_threads=args.threads)
        result = train_reward_model(config, base, {"hh_train": train}, run / "rm",
                                    eval_pairs=test)
        train_acc = evaluate_reward_model(result.model_dir, train[:len(test)],
                                          max_length=args.max_length)
    return {"accuracy": result.metrics["eval_accuracy"], "untrained": untrained,
            "train_accuracy": train_acc, "seconds": time.monotonic() - start,
            "lm_seconds": lm_time}


if __name__ == "__main__":
    main()
