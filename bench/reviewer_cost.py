"""What reading real text costs a simulated-reviewer panel (issue 12).

A panel rates items with its own lexicons only (the demo world's reviewers) and with the
real-text graders too (``real_text=True``, for a model that is not the demo world's). The
real-text graders embed every distinct item once per grader (their scores are cached for
the rest of the panel), so the cost grows with distinct items, not with reviewers.
Baseline: the lexicons-only panel; subject: the same panel with real text. The two
alternate for ``--rounds`` rounds (bench/_rounds.py: the order is swapped every round);
every run rates items no run rated before (the scores cache starts cold); prints each
one's median and spread (min-max, IQR) and the per-round ratios with theirs.

    nice -n 10 .venv/bin/python bench/reviewer_cost.py --items 100 --reviewers 30 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import time

from _rounds import add_rounds_argument, run_rounds
from accord.review import CategoryInfo, SimulatedReviewer, make_panel
from accord.world import WorldConfig, build_world

LIKERT = (1, 2, 3, 4, 5)
CATEGORIES = [CategoryInfo("offensive", "violation", "likert", LIKERT),
              CategoryInfo("objectionable", "violation", "binary", ("yes", "no")),
              CategoryInfo("over_refusal", "violation", "binary", ("yes", "no")),
              CategoryInfo("helpful", "quality", "likert", LIKERT)]


def _round(items: list[tuple[list[dict], str]], panel: list, real: bool) -> float:
    reviewers = [SimulatedReviewer(p, seed=0, real_text=real) for p in panel]
    start = time.perf_counter()
    for messages, text in items:
        for r in reviewers:
            r.rate(messages, text, CATEGORIES)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--reviewers", type=int, default=30)
    add_rounds_argument(ap)
    args = ap.parse_args()
    runs = 2 * args.rounds + 1
    world = build_world(WorldConfig(n_dialogues=args.items * runs * 2))
    docs = [d for d in world.pretrain_documents if "messages" in d]
    pool = list({(str(d["messages"][:-1]), d["messages"][-1]["content"]): (
        d["messages"][:-1], d["messages"][-1]["content"]) for d in docs}.values())
    if len(pool) < args.items * runs:
        raise SystemExit(f"only {len(pool)} distinct items; lower --items or --rounds")
    batches = iter(pool[k * args.items:(k + 1) * args.items] for k in range(runs))
    panel = make_panel(args.reviewers, seed=0)
    _round(next(batches)[:2], panel[:1], True)  # load the embedder and heads once
    result = run_rounds(
        {"lexicons only": lambda _k: _round(next(batches), panel, False),
         "with real-text graders": lambda _k: _round(next(batches), panel, True)},
        rounds=args.rounds, unit="s", fmt=".2f")
    print(f"{args.items} items x {len(panel)} reviewers a round:")
    print(result.report(".2f"))
    extra = (statistics.median(result.values["with real-text graders"])
             - statistics.median(result.values["lexicons only"]))
    print(f"added by real text: {extra:.2f} s, {1000 * extra / args.items:.1f} ms per item")


if __name__ == "__main__":
    main()
