"""Deliberation analysis at scale: Accord against red-dwarf on the same synthetic votes.

Each measurement runs in its own process (so peak memory is that run's alone), on votes
generated from the same seed: participants belong to latent opinion camps, each votes
on a random subset of statements with camp-dependent agree/disagree/pass odds, over a
simulated week. Timed: the analysis from the vote list to its result (Accord:
``analyze(..., history=False)``, i.e. one Polis update plus bridging, bulk-voting
detection and weighted consensus; red-dwarf: ``run_pipeline``), as wall-clock and as
process CPU time (steadier on a shared machine). Data generation is not timed; peak RSS
(MB) includes it.

    python bench/deliberation_scale.py                 # 10k×500 and 50k×1k vs red-dwarf,
                                                       # then 1M×2k (20M votes) Accord only
    python bench/deliberation_scale.py --sizes small   # 10k×500 only, quick

Requires red-dwarf (a test/bench dependency) for the comparison sizes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

SIZES = {
    # name: (participants, statements, mean votes per participant, compare with red-dwarf)
    "10k": (10_000, 500, 50, True),
    "50k": (50_000, 1_000, 50, True),
    "1m": (1_000_000, 2_000, 20, False),
}
PRESETS = {"small": ["10k"], "compare": ["10k", "50k"], "all": ["10k", "50k", "1m"]}


def synthetic_votes(n: int, p: int, per: int, seed: int = 0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(voter ids, statement ids, votes, timestamps ms): one vote per (voter, statement)."""
    rng = np.random.default_rng(seed)
    camps = 3
    camp = rng.integers(0, camps, n)
    p_agree = rng.uniform(0.05, 0.95, (camps, p))
    counts = np.clip(rng.poisson(per, n), 1, p)
    voter = np.repeat(np.arange(n, dtype=np.int64), counts)
    # Distinct statements per participant without sorting: walk the statements from a
    # random start with a random stride coprime to p.
    coprime = np.flatnonzero(np.gcd(np.arange(p), p) == 1)
    start, stride = rng.integers(0, p, n), rng.choice(coprime, n)
    j = np.arange(len(voter)) - np.repeat(np.cumsum(counts) - counts, counts)
    stmt = (start[voter] + j * stride[voter]) % p
    u = rng.random(len(voter))
    pa = p_agree[camp[voter], stmt]
    vote = np.where(u < 0.15, 0, np.where(u < 0.15 + 0.85 * pa, 1, -1)).astype(np.int8)
    ts = (rng.random(len(voter)) * 7 * 86_400_000).astype(np.int64)
    return voter, stmt, vote, ts


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_accord(n: int, p: int, per: int) -> dict[str, float]:
    from accord.deliberate import Conversation, Statement, VoteLog, analyze

    voter, stmt, vote, ts = synthetic_votes(n, p, per)
    conv = Conversation(topic="synthetic",
                        statements={j: Statement(j, f"s{j}", moderated=1) for j in range(p)},
                        votes=VoteLog(voter, stmt, vote, ts))
    del voter, stmt, vote, ts
    start, cpu = time.perf_counter(), time.process_time()
    analysis = analyze(conv, seed=0, history=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), "votes": len(conv.votes),
            "groups": len(analysis.groups)}


def run_reddwarf(n: int, p: int, per: int) -> dict[str, float]:
    from reddwarf.implementations.polis import run_pipeline

    voter, stmt, vote, ts = synthetic_votes(n, p, per)
    votes = [{"participant_id": a, "statement_id": b, "vote": c, "modified": d}
             for a, b, c, d in zip(voter.tolist(), stmt.tolist(), vote.tolist(), ts.tolist(),
                                   strict=True)]
    del voter, stmt, vote, ts
    start, cpu = time.perf_counter(), time.process_time()
    result = run_pipeline(votes=votes, random_state=0)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    groups = len(set(result.participants_df["cluster_id"].dropna().tolist()))
    return {"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), "votes": len(votes),
            "groups": groups}


def _measure(which: str, size: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--worker", which, "--size", size],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{which} at {size} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="all",
                    help="small | compare | all, or a comma list of " + ", ".join(SIZES))
    ap.add_argument("--no-reddwarf", action="store_true", help="Accord alone")
    ap.add_argument("--worker", choices=["accord", "reddwarf"], help=argparse.SUPPRESS)
    ap.add_argument("--size", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        n, p, per, _ = SIZES[args.size]
        run = run_accord if args.worker == "accord" else run_reddwarf
        print(json.dumps(run(n, p, per)))
        return
    names = PRESETS.get(args.sizes, args.sizes.split(","))
    print(f"{'size':>15} {'votes':>11} {'accord s':>9} {'cpu s':>7} {'MB':>6} "
          f"{'red-dwarf s':>12} {'cpu s':>7} {'MB':>6} {'speed-up':>9} {'cpu ratio':>9}")
    for name in names:
        n, p, per, compare = SIZES[name]
        acc = _measure("accord", name)
        line = (f"{n:>9,}×{p:<5,} {int(acc['votes']):>11,} {acc['seconds']:>9.2f} "
                f"{acc['cpu']:>7.2f} {acc['peak_mb']:>6.0f}")
        if compare and not args.no_reddwarf:
            rd = _measure("reddwarf", name)
            line += (f" {rd['seconds']:>12.2f} {rd['cpu']:>7.2f} {rd['peak_mb']:>6.0f} "
                     f"{rd['seconds'] / acc['seconds']:>8.1f}× "
                     f"{rd['cpu'] / acc['cpu']:>8.1f}×")
        print(line, flush=True)


if __name__ == "__main__":
    main()
