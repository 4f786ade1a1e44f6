"""How fast do the real-text graders score? Texts per second on the CPU, alternating with a
baseline (alt-profanity-check, a bag-of-words SVM) on the same texts, ≥ 5 rounds each.

Texts (``--corpus``): XSTest completions (real model answers, 3 models; long: median ~90
words, many past the 256-token cut) or the hate-speech tweets (short), read in place from
``../shared/data`` (or ``--data``). Each round scores ``--n`` texts not seen before in this
process (the embedder caches texts it has seen, so every round uses fresh ones: a
timing of cache hits would flatter it). The subject scores the texts with ``refusal``,
``offensive`` and ``harmful_content`` (one embedding pass shared by the three, as a meter
or a screen would); the baseline with alt-profanity-check alone.

    OMP_NUM_THREADS=2 taskset -c 0,1 .venv/bin/python bench/graders_speed.py [--n 256]
        [--rounds 5] [--threads 2] [--corpus xstest|tweets]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import time
from pathlib import Path

from accord.graders import as_exchanges, data_dir, get_grader, profanity_probabilities

XSTEST = ("xstest/completions_llama2new_labelled.csv",
          "xstest/completions_llama2orig_labelled.csv",
          "xstest/completions_mistralinstruct_labelled.csv")
SUBJECT = ("refusal", "offensive", "harmful_content")


def _texts(root: Path, corpus: str) -> list[str]:
    texts: list[str] = []
    if corpus == "tweets":
        with (root / "hate-speech/labeled_dev.csv").open(newline="", encoding="utf-8") as f:
            texts = [r["tweet"] for r in csv.DictReader(f)]
        # The training sample's tweets may already be cached by an earlier run in this
        # process; the bench starts fresh, so any order is unseen here.
        return list(dict.fromkeys(texts))
    for rel in XSTEST:
        with (root / rel).open(newline="", encoding="utf-8") as f:
            texts += [r["completion"].strip() for r in csv.DictReader(f)]
    return list(dict.fromkeys(texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="texts per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--corpus", choices=("xstest", "tweets"), default="xstest",
                        help="long chat answers (XSTest completions) or short texts "
                        "(tweets)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    texts = _texts(data_dir(args.data), args.corpus)
    if len(texts) < args.n * (args.rounds + 1):
        raise SystemExit(f"need {args.n * (args.rounds + 1)} distinct texts, have {len(texts)}")
    graders = [get_grader(n) for n in SUBJECT]
    # Warm-up: load the model and the classifier (not timed).
    warm = as_exchanges(texts[:8])
    for g in graders:
        g.score(warm)
    profanity_probabilities(texts[:8])
    subject, baseline = [], []
    for k in range(args.rounds):
        chunk = texts[args.n * (k + 1):args.n * (k + 2)]
        t = time.perf_counter()
        profanity_probabilities(chunk)
        baseline.append(len(chunk) / (time.perf_counter() - t))
        ex = as_exchanges(chunk)
        t = time.perf_counter()
        for g in graders:
            g.score(ex)
        subject.append(len(chunk) / (time.perf_counter() - t))
        print(f"round {k + 1}: graders {subject[-1]:.0f} texts/s, alt-profanity-check "
              f"{baseline[-1]:.0f} texts/s", flush=True)
    words = statistics.median(len(t.split()) for t in texts)
    out = {"corpus": args.corpus, "n_per_round": args.n, "rounds": args.rounds,
           "threads": args.threads,
           "cpus_allowed": len(os.sched_getaffinity(0)), "median_words": words,
           "graders": list(SUBJECT),
           "subject_texts_per_s": {"median": statistics.median(subject),
                                   "min": min(subject), "max": max(subject)},
           "baseline_texts_per_s": {"median": statistics.median(baseline),
                                    "min": min(baseline), "max": max(baseline)}}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
