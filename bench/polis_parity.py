"""Parity with Polis across replay cadences, k margins and seeds, red-dwarf beside it.

Polis's own ``group-id`` per participant (participants-votes.csv) is the reference; the
figure is the adjusted Rand index (ARI) over the participants both put in a group. For
every conversation (../shared/data/polis: four with their vote history;
../shared/data/polis-newer-exports: two without, where every schedule is the one snapshot
update) and every update schedule of Accord's grouping:

- ``single``: one update on all votes (``PolisGrouping(history=False)``);
- ``60``, ``120``, ``300`` (seconds; any cadence): the history replayed with an update
  per time bucket, every bucket its own update (no cap on their number);
- ``default``: the schedule ``PolisGrouping()`` uses (its cadence and update cap);

each scored under every k margin (``--margins``; ``PolisParams.k_margin``, 0 = Polis's
plain best silhouette). The chosen k never feeds back into later updates, so one replay
(its silhouettes at every update, its final clustering for every k) scores all margins.

Accord's k-means and PCA are deterministic on these sizes, so the seed also sets the
*phase* of the replay's update grid (seed s shifts every bucket edge by frac(s × 0.618…)
of the cadence; seed 0 is no shift): Polis's math worker polled on a clock nobody
recorded, so a result that holds only at one phase is luck, not parity. red-dwarf 0.4.x
runs on the same latest votes with ``random_state=seed``.

Then the default is chosen leave-one-out: for each conversation, the schedule and margin
with the best mean ARI on the *other* conversations (ties to Polis's plain rule), scored
on the held-out one; the mean of those held-out scores says whether a default generalises.

    python bench/polis_parity.py [--jobs 2] [--seeds 0 1 2] [--cache /tmp/polis_parity]
                                 [--settings single 60 120 300 default]
                                 [--margins 0 0.01 0.02 0.05] [--json out.json]
                                 [--conversations NAME ...] [--no-reddwarf]

Each (conversation, schedule, seed) result is cached under ``--cache`` (JSON), so an
interrupted run resumes; delete the folder to recompute. Results: bench/RESULTS.md,
"Parity across cadences and seeds (issue 15, part B, session 5)".
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing as mp
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from accord.deliberate import VoteLog, read_opendata
from accord.deliberate.math import PolisGrouping, PolisParams, replay

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HISTORY = ["canadian-electoral-reform", "brexit-consensus", "15-per-hour-seattle",
           "scoop-hivemind.ubi"]
NEWER = ["austria-climate.2vkxcncppn.2022-07-07", "austria-climate.7z7ejpbmv5.2022-08-08"]
GOLDEN = (math.sqrt(5) - 1) / 2
UNCAPPED = 10**7


@dataclass(frozen=True)
class Setting:
    """One update schedule for Accord's grouping (the k margin is applied afterwards)."""

    name: str
    interval_s: float | None  # None: one update on all votes
    max_updates: int

    def slug(self) -> str:
        return f"{self.interval_s}__{self.max_updates}"


def setting(spec: str) -> Setting:
    """``single``, ``default`` (today's ``PolisGrouping()`` schedule), a cadence in seconds
    (every bucket its own update), or ``300x60`` (at most 300 updates at 60 s)."""
    if spec == "single":
        return Setting("single", None, 1)
    if spec == "default":
        d = PolisGrouping()
        return Setting(f"default ({d.replay_interval_ms // 1000:g} s, <= {d.max_updates})",
                       d.replay_interval_ms / 1000, d.max_updates)
    cap, _, secs = spec.rpartition("x")
    s = float(secs)
    label = f"{s / 60:g} min" if s >= 120 else f"{s:g} s"
    if cap:
        return Setting(f"{label} <= {cap}", s, int(cap))
    return Setting(label, s, UNCAPPED)


def smoothed_k(trace: list[tuple[list[int], dict[int, float]]], margin: float,
               buffer: int) -> int:
    """The k Polis's k-smoother ends on over a replay's updates, with ``k_margin``.

    The chosen k never feeds back into later updates (every k's clustering is carried
    anyway), so one replay's silhouettes give the outcome under any margin; with the
    replay's own margin this reproduces its k exactly (checked in ``accord_labels``).
    """
    last_k, count, smoothed = None, 0, None
    for pool, sil in trace:
        top = max(sil.get(k, 0.0) for k in pool)
        best = min(k for k in pool if sil.get(k, 0.0) >= top - margin)
        count = count + 1 if best == last_k else 1
        smoothed = best if count >= buffer or smoothed is None else smoothed
        if smoothed not in sil:
            smoothed = best
        last_k = best
    assert smoothed is not None
    return smoothed


def phase_of(seed: int) -> float:
    return (seed * GOLDEN) % 1.0


def folder_of(name: str) -> Path:
    return SHARED / ("polis" if name in HISTORY else "polis-newer-exports") / name


def reference(conv) -> dict[int, int]:
    return {p.id: p.source_group for p in conv.participants.values()
            if p.source_group is not None}


def ari(ref: dict[int, int], ours: dict[int, int]) -> tuple[float, int]:
    common = sorted(set(ref) & set(ours))
    if len(common) < 2:
        return float("nan"), len(common)
    return (float(adjusted_rand_score([ref[p] for p in common], [ours[p] for p in common])),
            len(common))


def accord_labels(name: str, st: Setting, seed: int) -> dict:
    """Replay one schedule; keep every update's silhouettes and the final labels for
    every k, so any k margin can be scored without replaying again."""
    warnings.filterwarnings("ignore")
    conv = read_opendata(folder_of(name))
    log = conv.votes
    if st.interval_s is not None:
        shift = round(phase_of(seed) * st.interval_s * 1000)
        log = VoteLog(log.voter_ids, log.statement_ids, log.values, log.timestamps_ms + shift)
    params = PolisParams()
    trace: list = []

    def record(state, step) -> None:
        trace.append((list(step.candidates), {int(k): float(v)
                                              for k, v in step.silhouettes.items()}))

    start = time.perf_counter()
    interval = int(st.interval_s * 1000) if st.interval_s is not None else 2**62
    state, step, matrix, n = replay(log, conv.moderated_out(), params=params,
                                    interval_ms=interval, max_updates=st.max_updates,
                                    seed=seed, on_update=record)
    seconds = time.perf_counter() - start
    assert smoothed_k(trace, params.k_margin, params.k_buffer) == step.k or not step.silhouettes
    ids = matrix.participant_ids.tolist()
    rows = np.flatnonzero(step.base_labels >= 0)
    by_k = {}
    for k, groups in state.groups_by_k.items():
        of_base = np.full(len(step.base.ids), -1)
        pos = {b: i for i, b in enumerate(step.base.ids.tolist())}
        for gi, members in enumerate(groups.members):
            for b in members.tolist():
                of_base[pos[b]] = gi
        by_k[int(k)] = {int(ids[r]): int(of_base[step.base_labels[r]]) for r in rows}
    by_k.setdefault(1, {int(ids[r]): 0 for r in rows})
    return {"trace": trace, "by_k": by_k, "updates": n, "seconds": seconds,
            "buffer": params.k_buffer}


def labels_at(out: dict, margin: float) -> dict[int, int]:
    if "labels" in out:  # red-dwarf
        return {int(p): g for p, g in out["labels"].items()}
    by_k = {int(k): v for k, v in out["by_k"].items()}
    k = smoothed_k([(pool, {int(a): b for a, b in sil.items()}) for pool, sil in out["trace"]],
                   margin, out["buffer"]) if out["trace"] else 1
    return {int(p): g for p, g in by_k[k if k in by_k else 1].items()}


def reddwarf_labels(name: str, seed: int) -> dict:
    warnings.filterwarnings("ignore")
    from reddwarf.implementations.polis import run_pipeline

    conv = read_opendata(folder_of(name))
    latest = conv.votes.latest()
    votes = [{"participant_id": p, "statement_id": s, "vote": v, "modified": t}
             for p, s, v, t in zip(latest.voter_ids.tolist(), latest.statement_ids.tolist(),
                                   latest.values.tolist(), latest.timestamps_ms.tolist(),
                                   strict=True)]
    start = time.perf_counter()
    res = run_pipeline(votes=votes, mod_out_statement_ids=sorted(conv.moderated_out()),
                       random_state=seed)
    seconds = time.perf_counter() - start
    col = res.participants_df["cluster_id"].dropna()
    return {"labels": {int(p): int(g) for p, g in col.items()}, "updates": 1,
            "seconds": seconds}


def _task(args: tuple) -> tuple:
    key, path, kind, name, st, seed = args
    if path.exists():
        return key, json.loads(path.read_text())
    out = reddwarf_labels(name, seed) if kind == "reddwarf" else accord_labels(name, st, seed)
    path.write_text(json.dumps(out))
    return key, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", nargs="+", default=["single", "60", "120", "300", "default"])
    ap.add_argument("--margins", nargs="+", type=float, default=[0.0, 0.01, 0.02, 0.05])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--conversations", nargs="+", default=HISTORY + NEWER)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/polis_parity"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--no-reddwarf", action="store_true")
    args = ap.parse_args()
    settings = [setting(s) for s in args.settings]
    if not any(st.interval_s is None for st in settings):
        settings.insert(0, setting("single"))
    names = [n for n in args.conversations if folder_of(n).is_dir()]
    for n in args.conversations:
        if n not in names:
            print(f"{n}: missing ({folder_of(n)}), skipped")
    args.cache.mkdir(parents=True, exist_ok=True)
    tasks = []
    for name, st, seed in itertools.product(names, settings, args.seeds):
        if name not in HISTORY and st.interval_s is not None:
            continue  # no history: every replay is the one snapshot update (= single)
        tasks.append(((name, st.name, seed), args.cache / f"{name}__{st.slug()}__{seed}.json",
                      "accord", name, st, seed))
    if not args.no_reddwarf:
        for name, seed in itertools.product(names, args.seeds):
            tasks.append(((name, "red-dwarf", seed), args.cache / f"{name}__rd__{seed}.json",
                          "reddwarf", name, None, seed))
    # The longest jobs first, so the pool does not end on one straggler.
    tasks.sort(key=lambda t: 0 if t[4] is None or t[4].interval_s is None
               else -t[4].max_updates / t[4].interval_s)
    started = time.perf_counter()
    results: dict[tuple, dict] = {}
    with mp.get_context("spawn").Pool(args.jobs) as pool:
        for i, (key, out) in enumerate(pool.imap_unordered(_task, tasks), 1):
            results[key] = out
            print(f"[{i}/{len(tasks)}] {key[0]} {key[1]} seed {key[2]}: "
                  f"{out['updates']} updates, {out['seconds']:.1f} s", flush=True)
    wall = time.perf_counter() - started
    refs = {n: reference(read_opendata(folder_of(n))) for n in names}
    single = next(st.name for st in settings if st.interval_s is None)

    def labels(name: str, col: tuple[str, float], seed: int) -> dict[int, int]:
        sname, margin = col
        if name not in HISTORY and sname != "red-dwarf":
            sname = single  # no history: a replay is the one snapshot update
        return labels_at(results[(name, sname, seed)], margin)

    cols = [(st.name, m) for st in settings for m in args.margins]
    rd = [] if args.no_reddwarf else [("red-dwarf", 0.0)]
    table = {n: {c: [ari(refs[n], labels(n, c, s))[0] for s in args.seeds] for c in cols + rd}
             for n in names}
    agree = {n: {c: float(np.mean([ari(labels(n, c, a), labels(n, c, b))[0] for a, b in
                                   itertools.combinations(args.seeds, 2)] or [np.nan]))
                 for c in cols + rd} for n in names}

    def mean(n: str, c: tuple) -> float:
        return float(np.mean(table[n][c]))

    def show(title: str, columns: list[tuple], label) -> None:
        width = max(len(label(c)) for c in columns) + 2
        print(f"\n{title}")
        print(f"{'conversation':<40}" + "".join(f"{label(c):>{width}}" for c in columns))
        for n in names:
            print(f"{n:<40}" + "".join(f"{mean(n, c):>{width}.3f}" for c in columns))
        print(f"{'mean':<40}" + "".join(
            f"{np.mean([mean(n, c) for n in names]):>{width}.3f}" for c in columns))

    show(f"ARI with Polis's group-id by update schedule, Polis's k rule (margin 0); mean over "
         f"seeds {args.seeds}", [c for c in cols if c[1] == 0.0] + rd, lambda c: c[0])
    for st in settings:
        show(f"ARI by k margin, schedule {st.name}", [c for c in cols if c[0] == st.name],
             lambda c: f"m {c[1]:g}")
    print("\nPer seed (ARI), and agreement of a setting with itself across seeds "
          "(mean pairwise ARI; 1 = the phase of the update grid does not matter):")
    for n in names:
        for c in cols + rd:
            if n not in HISTORY and c[0] not in (single, "red-dwarf"):
                continue
            print(f"  {n} | {c[0]} m{c[1]:g}: "
                  f"[{', '.join(f'{x:.3f}' for x in table[n][c])}] self {agree[n][c]:.2f}")
    loo = {}
    for held in names:
        others = [n for n in names if n != held]
        # Ties go to the plainer choice: Polis's own k rule, then the cheaper schedule.
        best = max(cols, key=lambda c: (round(np.mean([mean(n, c) for n in others]), 6),
                                        -c[1], c[0] == single))
        loo[held] = (best, mean(held, best))
    print("\nLeave-one-out choice (schedule and k margin picked on the other conversations, "
          "scored on the held-out one):")
    for n, (best, val) in loo.items():
        print(f"  held out {n}: picked {best[0]} m{best[1]:g} -> ARI {val:.3f}")
    loo_mean = float(np.mean([v for _, v in loo.values()]))
    print(f"  held-out mean ARI: {loo_mean:.3f} (goal >= 0.80)")
    overall = max(cols, key=lambda c: (round(np.mean([mean(n, c) for n in names]), 6),
                                       -c[1], c[0] == single))
    print(f"  picked on all: {overall[0]} m{overall[1]:g} "
          f"(mean {np.mean([mean(n, overall) for n in names]):.3f})")
    print(f"\n{len(tasks)} runs, {wall:.0f} s wall with {args.jobs} job(s)")
    if args.json:
        key = lambda c: f"{c[0]} | m{c[1]:g}"  # noqa: E731
        args.json.write_text(json.dumps({
            "seeds": args.seeds, "margins": args.margins,
            "table": {n: {key(c): v for c, v in table[n].items()} for n in names},
            "self_agreement": {n: {key(c): v for c, v in agree[n].items()} for n in names},
            "leave_one_out": {n: {"picked": key(b), "ari": v} for n, (b, v) in loo.items()},
            "leave_one_out_mean": loo_mean, "picked_on_all": key(overall), "wall_s": wall,
            "runs": {f"{k[0]} | {k[1]} | {k[2]}": {"updates": v["updates"],
                                                   "seconds": v["seconds"]}
                     for k, v in results.items()},
        }, indent=1))


if __name__ == "__main__":
    main()
