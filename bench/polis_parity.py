"""Parity with Polis on real conversations: Accord's groups and red-dwarf's, side by side.

For each conversation in ../shared/data/polis, Polis's own ``group-id`` per participant
(participants-votes.csv) is the reference. Printed per conversation:

- the adjusted Rand index (ARI) between each implementation's groups and Polis's, over
  the participants both put in a group; Accord with its default history replay and as
  a single from-scratch update;
- representative-statement overlap: for each Polis group, the Jaccard overlap between
  the representative statements of the best-matching group (by members) and those that
  Polis's repness selection gives for Polis's own grouping of the same votes.

    python bench/polis_parity.py [--data ../shared/data/polis] [--no-reddwarf]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from accord.deliberate import (
    VoteMatrix,
    analyze,
    group_counts,
    read_opendata,
    select_representative,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "polis"
NAMES = ["canadian-electoral-reform", "brexit-consensus", "15-per-hour-seattle",
         "scoop-hivemind.ubi"]


def ari(ref: dict[int, int], ours: dict[int, int]) -> float:
    common = sorted(set(ref) & set(ours))
    return adjusted_rand_score([ref[p] for p in common], [ours[p] for p in common])


def rep_sets(conv, labels: dict[int, int]) -> dict[int, set[int]]:
    """Representative statements per group, by Polis's selection, for a given grouping."""
    m = VoteMatrix.from_log(conv.votes)
    gids = sorted(set(labels.values()))
    index = {g: i for i, g in enumerate(gids)}
    lab = np.array([index[labels[p]] if p in labels else -1
                    for p in m.participant_ids.tolist()])
    st = group_counts(m.votes, lab, len(gids))
    reps = select_representative(st, m.statement_ids, conv.moderated_out())
    return {g: {r.statement_id for r in reps[index[g]]} for g in gids}


def rep_overlap(ref_labels: dict[int, int], ref_reps: dict[int, set[int]],
                labels: dict[int, int], reps: dict[int, set[int]]) -> float:
    """Mean over reference groups of the Jaccard overlap with the best-matching group."""
    scores = []
    for g, ref_set in ref_reps.items():
        members = {p for p, x in ref_labels.items() if x == g}
        best = max(reps, key=lambda h: len(members & {p for p, x in labels.items() if x == h}),
                   default=None)
        got = reps.get(best, set()) if best is not None else set()
        union = ref_set | got
        scores.append(len(ref_set & got) / len(union) if union else 1.0)
    return float(np.mean(scores)) if scores else 0.0


def reddwarf_groups(conv) -> tuple[dict[int, int], dict[int, set[int]]]:
    from reddwarf.implementations.polis import run_pipeline

    latest = conv.votes.latest()
    votes = [{"participant_id": p, "statement_id": s, "vote": v, "modified": t}
             for p, s, v, t in zip(latest.voter_ids.tolist(), latest.statement_ids.tolist(),
                                   latest.values.tolist(), latest.timestamps_ms.tolist(),
                                   strict=True)]
    res = run_pipeline(votes=votes, mod_out_statement_ids=sorted(conv.moderated_out()),
                       random_state=0)
    col = res.participants_df["cluster_id"].dropna()
    labels = {int(p): int(g) for p, g in col.items()}
    reps = {}
    for g, items in (res.repness or {}).items():
        reps[int(g)] = {int(i.get("tid", i.get("statement_id"))) for i in items}
    return labels, reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-reddwarf", action="store_true")
    args = ap.parse_args()
    rows = []
    print(f"{'conversation':<27} {'k P/A/1':>8} {'ARI replay':>10} {'ARI single':>10} "
          f"{'ARI rd':>7} {'rep A':>6} {'rep rd':>6} {'s':>5}")
    for name in NAMES:
        folder = args.data / name
        if not folder.is_dir():
            print(f"{name:<27} (missing: {folder})")
            continue
        conv = read_opendata(folder)
        ref = {p.id: p.source_group for p in conv.participants.values()
               if p.source_group is not None}
        ref_reps = rep_sets(conv, ref)
        start = time.perf_counter()
        replayed = analyze(conv, seed=0, bridging=False)
        seconds = time.perf_counter() - start
        single = analyze(conv, seed=0, bridging=False, history=False)
        ours = replayed.group_of()
        our_reps = {g.id: {r.statement_id for r in g.representative} for g in replayed.groups}
        row = [ari(ref, ours), ari(ref, single.group_of()),
               rep_overlap(ref, ref_reps, ours, our_reps)]
        if args.no_reddwarf:
            rd_ari = rd_rep = float("nan")
        else:
            rd_labels, rd_reps = reddwarf_groups(conv)
            rd_ari, rd_rep = ari(ref, rd_labels), rep_overlap(ref, ref_reps, rd_labels, rd_reps)
        rows.append([row[0], row[1], rd_ari, row[2], rd_rep])
        ks = f"{len(set(ref.values()))}/{len(replayed.groups)}/{len(single.groups)}"
        print(f"{name:<27} {ks:>8} {row[0]:>10.3f} {row[1]:>10.3f} {rd_ari:>7.3f} "
              f"{row[2]:>6.2f} {rd_rep:>6.2f} {seconds:>5.1f}", flush=True)
    if rows:
        m = np.nanmean(np.array(rows), axis=0)
        print(f"{'mean':<27} {'':>8} {m[0]:>10.3f} {m[1]:>10.3f} {m[2]:>7.3f} "
              f"{m[3]:>6.2f} {m[4]:>6.2f}")
    print("k P/A/1: groups found by Polis / Accord (replay) / Accord (single update). "
          "rep: representative-statement overlap with Polis's grouping (Jaccard).")


if __name__ == "__main__":
    main()
