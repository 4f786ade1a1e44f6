"""Deliberation analysis at scale: Accord against red-dwarf on the same synthetic votes.

Each measurement runs in its own process (so peak memory is that run's alone), on votes
generated from the same seed: participants belong to latent opinion camps, each votes
on a random subset of statements with camp-dependent agree/disagree/pass odds, over a
simulated week. Timed: the analysis from the vote list to its result, as wall-clock and
as process CPU time (steadier on a shared machine). Data generation is not timed; peak
RSS (MB) includes it. Three arms, alternated for ``--rounds`` rounds (bench/_rounds.py):

- ``red-dwarf``: ``run_pipeline`` (the baseline where a size is compared with red-dwarf);
- ``accord replay (default)``: ``analyze(conv)``, what Accord runs by default: the vote
  history replayed as Polis's server would have seen it, one update per batch of votes,
  then bridging, bulk-voting detection and weighted consensus;
- ``accord single update``: ``analyze(conv, history=False)``: one Polis update on all the
  votes, then the same steps (the baseline where red-dwarf is not run: the replay's
  cost over a single update is then the figure).

    python bench/deliberation_scale.py --sizes quick   # 2k×200, the shared-machine size
    python bench/deliberation_scale.py --sizes small   # 10k×500
    python bench/deliberation_scale.py                 # 10k×500 and 50k×1k vs red-dwarf,
                                                       # then 1M×2k (20M votes) Accord only
    [--rounds 5] [--modes replay,single] [--no-reddwarf]

Requires red-dwarf (a test/bench dependency) for the comparison sizes.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

from _rounds import add_rounds_argument, run_rounds

SIZES = {
    # name: (participants, statements, mean votes per participant, compare with red-dwarf)
    "2k": (2_000, 200, 30, True),
    "10k": (10_000, 500, 50, True),
    "50k": (50_000, 1_000, 50, True),
    "1m": (1_000_000, 2_000, 20, False),
}
PRESETS = {"quick": ["2k"], "small": ["10k"], "compare": ["10k", "50k"],
           "all": ["10k", "50k", "1m"]}


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


def run_accord(n: int, p: int, per: int, history: bool) -> dict[str, float]:
    from accord.deliberate import Conversation, Statement, VoteLog, analyze

    voter, stmt, vote, ts = synthetic_votes(n, p, per)
    conv = Conversation(topic="synthetic",
                        statements={j: Statement(j, f"s{j}", moderated=1) for j in range(p)},
                        votes=VoteLog(voter, stmt, vote, ts))
    del voter, stmt, vote, ts
    start, cpu = time.perf_counter(), time.process_time()
    # No option is analyze's default: the vote history is replayed.
    analysis = analyze(conv, seed=0, **({} if history else {"history": False}))
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


ARMS = {"reddwarf": "red-dwarf", "replay": "accord replay (default)",
        "single": "accord single update"}


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
                    help="quick | small | compare | all, or a comma list of " + ", ".join(SIZES))
    ap.add_argument("--modes", default="replay,single",
                    help="Accord's analyses to time: replay (the default analysis), single")
    ap.add_argument("--no-reddwarf", action="store_true", help="Accord alone")
    ap.add_argument("--json", help="also write every round's figures to this file")
    add_rounds_argument(ap)
    ap.add_argument("--worker", choices=list(ARMS), help=argparse.SUPPRESS)
    ap.add_argument("--size", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        n, p, per, _ = SIZES[args.size]
        if args.worker == "reddwarf":
            print(json.dumps(run_reddwarf(n, p, per)))
        else:
            print(json.dumps(run_accord(n, p, per, history=args.worker == "replay")))
        return
    names = PRESETS.get(args.sizes, args.sizes.split(","))
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if unknown := [m for m in modes if m not in ("replay", "single")]:
        raise SystemExit(f"--modes: unknown {unknown}; use replay and/or single")
    results = {}
    for name in names:
        n, p, per, compare = SIZES[name]
        which = (["reddwarf"] if compare and not args.no_reddwarf else []) + modes
        if len(which) < 2:
            raise SystemExit(f"{name}: nothing to compare; give both --modes or red-dwarf")
        print(f"== {n:,} participants × {p:,} statements; baseline: {ARMS[which[0]]}",
              flush=True)
        extra: dict[str, dict[str, list[float]]] = {w: {"cpu": [], "peak_mb": [], "votes": [],
                                                          "groups": []} for w in which}

        def arm(w: str, _size: str = name, _extra: dict = extra):
            def measure(_round: int) -> float:
                got = _measure(w, _size)
                for key in _extra[w]:
                    _extra[w][key].append(got[key])
                return got["seconds"]
            return measure

        result = run_rounds({ARMS[w]: arm(w) for w in which}, rounds=args.rounds,
                            unit="s", fmt=".2f")
        print(result.report(".2f"))
        for w in which:
            cpu = extra[w]["cpu"]
            print(f"  {ARMS[w]}: CPU median {statistics.median(cpu):.2f} s "
                  f"(min-max {min(cpu):.2f}-{max(cpu):.2f}), peak RSS median "
                  f"{statistics.median(extra[w]['peak_mb']):.0f} MB, "
                  f"{int(extra[w]['votes'][0]):,} votes, groups {sorted(set(extra[w]['groups']))}")
        cpu_base = extra[which[0]]["cpu"]
        for w in which[1:]:
            ratios = [c / b for c, b in zip(extra[w]["cpu"], cpu_base, strict=True)]
            print(f"  CPU ratio {ARMS[w]} / {ARMS[which[0]]}: median "
                  f"{statistics.median(ratios):.3f} (min-max {min(ratios):.3f}-{max(ratios):.3f})")
        results[name] = {"wall": result.as_dict(), "extra": {ARMS[w]: extra[w] for w in which}}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
