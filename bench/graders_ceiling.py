"""How fast could MiniLM-L6 grade on these cores at best? The arithmetic ceiling of the
graders' encoder, against the shipped graders' measured speed (issue 12's ≥ 200 texts/s).

Each text the graders read costs MiniLM-L6's matrix products: per layer, the Q, K, V and
output projections (4 · d²), the feed-forward pair (2 · d · 4d) per token, and the
attention products (2 · n² · d) per sequence of n tokens; d = 384, 6 layers; 2 flops per
multiply-add. Softmax, layer norms and GELU are left out, so the count is a floor on the
work and the ceiling below is generous. The shipped heads cut texts at 128 tokens
(``refusal``, ``offensive``) or 256 (``harmful_content``): a text longer than 128 tokens
pays a 128-token pass and a 256-token pass, a shorter one pays one
(``accord.graders._embed``). Token counts come from the model's own tokenizer.

Two arms, alternating, ≥ 5 rounds (``bench/_rounds.py``):
- **ceiling**: the best float32 flop rate of numpy's BLAS on the same threads, over the
  encoder's own product shapes (2 048 tokens × 384 against 384 × 1 536, 1 536 × 384 and
  384 × 384, as one forward batch multiplies them) and one large product (2 048 × 2 048
  against 2 048 × 1 536, BLAS's best case), divided by the mean flops per text: about the
  most texts per second a float32 implementation of this encoder could reach here;
- **graders**: the shipped ``refusal``, ``offensive`` and ``harmful_content`` on fresh
  texts each round (as ``bench/graders_speed.py``'s subject).

The ratio graders / ceiling is the share of the machine's arithmetic the shipped path
already uses. A goal above the ceiling cannot be met by tuning this encoder: it needs
fewer flops per text (a smaller encoder, fewer tokens, or no encoder).

    OMP_NUM_THREADS=2 taskset -c 0,1 .venv/bin/python bench/graders_ceiling.py
        [--corpus xstest|tweets] [--n 128] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from _rounds import add_rounds_argument, run_rounds
from accord.graders import as_exchanges, data_dir, get_grader, load_head, token_counts
from graders_speed import SUBJECT, _texts

D, FF, LAYERS = 384, 1536, 6
GOAL = 200.0


def flops(tokens: int) -> float:
    """MiniLM-L6's matrix-product flops for one sequence of ``tokens`` tokens."""
    per_token = 2 * LAYERS * (4 * D * D + 2 * D * FF)
    return per_token * tokens + 2 * LAYERS * 2 * tokens * tokens * D


def text_flops(counts: list[int], cuts: list[int]) -> list[float]:
    """Flops per text when heads at ``cuts`` read it: one pass per distinct cut the text
    reaches (a text no longer than a shorter cut is read once for both)."""
    out = []
    for n in counts:
        reads = sorted({min(n, c) for c in cuts})
        out.append(sum(flops(r) for r in reads))
    return out


def gemm_rate(rounds_inner: int = 5) -> float:
    """Best float32 flop rate (flops/s): the larger of the encoder's three product shapes
    run in turn and one large square-ish product (BLAS's best case), each the fastest of
    ``rounds_inner`` tries."""
    rng = np.random.default_rng(0)
    x = rng.random((2048, D), dtype=np.float32)
    h = rng.random((2048, FF), dtype=np.float32)
    encoder = [(x, rng.random((D, FF), dtype=np.float32)),
               (h, rng.random((FF, D), dtype=np.float32)),
               (x, rng.random((D, D), dtype=np.float32))]
    square = [(rng.random((2048, 2048), dtype=np.float32),
               rng.random((2048, FF), dtype=np.float32))]
    rates = []
    for shapes in (encoder, square):
        work = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b in shapes)
        best = float("inf")
        for _ in range(rounds_inner):
            started = time.perf_counter()
            for a, b in shapes:
                a @ b
            best = min(best, time.perf_counter() - started)
        rates.append(work / best)
    return max(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("xstest", "tweets"), default="xstest")
    parser.add_argument("--n", type=int, default=128, help="texts per graders round")
    parser.add_argument("--data", type=Path, default=None)
    add_rounds_argument(parser)
    args = parser.parse_args()
    texts = _texts(data_dir(args.data), args.corpus)
    if len(texts) < args.n * (args.rounds + 1):
        raise SystemExit(f"need {args.n * (args.rounds + 1)} distinct texts, have {len(texts)}")
    cuts = sorted({load_head(name).max_tokens for name in SUBJECT})
    counts = token_counts(texts, max(cuts))
    per_text = statistics.fmean(text_flops(counts, cuts))
    graders = [get_grader(name) for name in SUBJECT]
    warm = as_exchanges(texts[:8])
    for g in graders:
        g.score(warm)
    gemm_rate(2)

    def ceiling(_round: int) -> float:
        return gemm_rate() / per_text

    def shipped(k: int) -> float:
        chunk = as_exchanges(texts[args.n * (k + 1):args.n * (k + 2)])
        started = time.perf_counter()
        for g in graders:
            g.score(chunk)
        return args.n / (time.perf_counter() - started)

    result = run_rounds({"ceiling": ceiling, "graders": shipped}, rounds=args.rounds,
                        unit=" texts/s", higher_is_better=True, fmt=".1f")
    print(result.report(fmt=".1f"))
    top = result.spread("ceiling").median
    out = {"corpus": args.corpus, "texts": len(texts), "cuts": cuts,
           "median_tokens": statistics.median(counts),
           "gflop_per_text": per_text / 1e9,
           "gemm_gflop_per_s": top * per_text / 1e9,
           "ceiling_texts_per_s": top,
           "goal_texts_per_s": GOAL,
           "flops_cut_needed_for_goal": GOAL / top,
           **result.as_dict()}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
