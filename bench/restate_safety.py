"""Restate the demo ablation's safety figures with independent measures (issue 12).

The demo's ablation table (bench/RESULTS.md) was measured by the world meter, whose graders
read the world's own phrase tables. This script takes a *finished* demo (its store, world
and model folders; nothing is trained) and puts, beside each world-meter figure, the same
behaviour judged by the real-text graders of ``accord.graders`` (embedding heads trained
and checked on public human labels, docs/graders.md) on the same replies:

- held-out probes: the replies the ablation stored (``probe`` split) are re-graded;
- in-distribution probes: the stored models are sampled again exactly as the ablation did
  (same probes, sampling and seed), once on the old in-distribution set and once on the set
  without every prompt a training or review stage used (issue 12), and both are graded by
  the world meter and the real-text graders.

Pairs: offensive (``world:offensive`` / ``offensive``) on insult requests and group
questions; objectionable compliance (``world:objectionable_compliance`` /
``harmful_compliance``) on objectionable requests; over-refusal (``world:refusal`` /
``refusal``) on facts, sums and benign borderline requests; safe-behaviour F1 from the last
two. One-sided and preachy have no real-text grader and are not restated.

    nice -n 10 .venv/bin/python bench/restate_safety.py \\
        --demo /work/baseline/examples/demo --out bench/restate_safety.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from accord.audit import (
    conversation_key,
    evaluate,
    in_distribution_probes,
    measure,
    wilson,
)
from accord.graders import as_exchanges, get_grader
from accord.model import LocalBackend, SamplingConfig
from accord.world import World

# world-meter metric → (its probe sets, the real-text grader judging the same behaviour)
PAIRS = {
    "offensive": (("insult_requests", "groups"), "offensive"),
    "objectionable_compliance": (("objectionable",), "harmful_compliance"),
    "over_refusal": (("facts", "arithmetic", "benign_borderline"), "refusal"),
}


def _available() -> set[str]:
    """The real-text graders whose heads are built (a missing one is reported, not faked)."""
    from accord.errors import AccordError

    names = set()
    for _, name in PAIRS.values():
        try:
            get_grader(name)
            names.add(name)
        except AccordError as exc:
            print(f"not restated with {name}: {exc}")
    return names


AVAILABLE: set[str] = set()


def _stage_dir(demo: Path, stage: str) -> Path:
    found = sorted((demo / ".accord" / "stages").glob(f"{stage}-*"))
    if not found:
        raise SystemExit(f"{demo}: no finished {stage} stage")
    return found[-1]


def _stored_replies(db: Path, version: str, n: int) -> dict[str, str]:
    """The last ``n`` probe replies stored for ``version`` (the ablation's, which ran after
    the eval stage's), by conversation key."""
    con = sqlite3.connect(db)
    rows = con.execute(
        "select p.messages, c.text from completions c join prompts p on p.id = c.prompt_id "
        "join model_versions m on m.id = c.model_version_id where m.name = ? and "
        "p.split = 'probe' order by c.id desc limit ?", (version, n)).fetchall()
    con.close()
    return {conversation_key(json.loads(m)): t for m, t in rows}


def _used_prompts(world: World, demo_toml: dict[str, Any]) -> set[str]:
    """Every prompt the demo's training and review stages used, from its settings (the
    baseline run predates ``prompts_used.json``): SFT demonstrations, the world's
    preference pairs (reward, DPO), the review prompts, GRPO's and CAI's rl prompts."""
    review = demo_toml.get("review", {}).get("run", {})
    n_review = max(review.get("rating_prompts", 100), review.get("comparison_prompts", 150))
    sft = demo_toml.get("sft", {}).get("demonstrations", 2000)
    grpo = demo_toml.get("grpo", {}).get("prompts", 400)
    cai = demo_toml.get("cai", {})
    n_cai = cai.get("prompts", 150) + cai.get("feedback_prompts", 150)
    used = [ex["messages"][:-1] for ex in world.sft_examples[:sft]]
    used += [p["prompt"] for p in world.preference_pairs]
    used += [p["messages"] for p in world.prompts["review"][:n_review]]
    used += [p["messages"] for p in world.prompts["rl"][:max(grpo, n_cai)]]
    return {conversation_key(m) for m in used}


def _real_rates(probes: dict[str, list[dict]], replies: dict[str, str]) -> dict[str, Any]:
    """Each pair's real-text rate over the replies to its probe sets."""
    out: dict[str, Any] = {}
    for metric, (sets, grader_name) in PAIRS.items():
        if grader_name not in AVAILABLE:
            continue
        records = [r for s in sets for r in probes.get(s, [])]
        records = [r for r in records if conversation_key(r["messages"]) in replies]
        if not records:
            continue
        texts = [replies[conversation_key(r["messages"])] for r in records]
        said = get_grader(grader_name).label(as_exchanges(texts, records))
        k, n = sum(said), len(said)
        low, high = wilson(k, n)
        out[metric] = {"rate": k / n, "low": low, "high": high, "n": n, "grader": grader_name}
    return out


def _world_rates(world: World, probes: dict[str, list[dict]], replies: dict[str, str],
                 ) -> dict[str, Any]:
    """The world meter's rates on the same replies (measure() over a lookup)."""
    def lookup(conversations: list[list[dict]]) -> list[str]:
        return [replies.get(conversation_key(c), "") for c in conversations]

    kept = {s: [r for r in records if conversation_key(r["messages"]) in replies]
            for s, records in probes.items()}
    result = measure(lookup, world, probes={s: v for s, v in kept.items() if v})
    return {r.metric: {"rate": r.rate, "low": r.low, "high": r.high, "n": r.n}
            for r in result.rows if r.metric in PAIRS}


def _f1(rows: dict[str, Any]) -> float | None:
    if "objectionable_compliance" not in rows or "over_refusal" not in rows:
        return None
    a = 1 - rows["objectionable_compliance"]["rate"]
    b = 1 - rows["over_refusal"]["rate"]
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def main() -> None:
    import tomllib

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", type=Path, default=Path("/work/baseline/examples/demo"))
    ap.add_argument("--out", type=Path, default=Path("bench/restate_safety.json"))
    ap.add_argument("--skip-in-distribution", action="store_true")
    ap.add_argument("--replies", type=Path, default=None,
                    help="a JSON file keeping the in-distribution replies, sampled once and "
                         "re-graded on later runs")
    args = ap.parse_args()
    cache = (json.loads(args.replies.read_text())
             if args.replies is not None and args.replies.exists() else {})
    AVAILABLE.update(_available())
    demo_toml = tomllib.loads((args.demo / "accord.toml").read_text())
    ablation_cfg = demo_toml.get("ablation", {})
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store.sqlite3"  # a copy: the finished demo stays untouched
        shutil.copyfile(args.demo / ".accord" / "accord.sqlite3", db)
        world = World.load(_stage_dir(args.demo, "world") / "world")
        table = json.loads((_stage_dir(args.demo, "ablation") / "ablation.json").read_text())
        cap = ablation_cfg.get("max_per_set", 60)
        held_out = {s: list(v[:cap]) for s, v in world.probes.items()}
        n_held = sum(len(v) for v in held_out.values())
        sampling = SamplingConfig(temperature=ablation_cfg.get("temperature", 0.9),
                                  top_p=ablation_cfg.get("top_p", 1.0),
                                  max_new_tokens=ablation_cfg.get("max_new_tokens", 64),
                                  seed=ablation_cfg.get("seed", 0))
        inside_cap = ablation_cfg.get("in_distribution", 40)
        old_inside = in_distribution_probes(world, cap=inside_cap, seed=sampling.seed)
        clean_inside = in_distribution_probes(world, cap=inside_cap, seed=sampling.seed,
                                              exclude=_used_prompts(world, demo_toml))
        report: dict[str, Any] = {
            "demo": str(args.demo), "sampling": sampling.to_dict(),
            "in_distribution_excluded": {"excluded": clean_inside.excluded,
                                         "candidates": clean_inside.candidates},
            "graders": {g: {"kind": get_grader(g).record.kind,
                            "version": get_grader(g).record.version}
                        for _, g in PAIRS.values() if g in AVAILABLE},
            "rows": []}
        for entry in table:
            label, version = entry["label"], entry["model_version"]
            row: dict[str, Any] = {"label": label, "model_version": version}
            replies = _stored_replies(db, version, n_held)
            row["held_out"] = {"world": _world_rates(world, held_out, replies),
                               "real": _real_rates(held_out, replies),
                               "ablation_json": {m: entry["held_out"]["rows"].get(m)
                                                 for m in PAIRS}}
            if not args.skip_in_distribution:
                for name, probes in (("in_distribution_old", old_inside),
                                     ("in_distribution_clean", clean_inside)):
                    got = cache.get(version, {}).get(name)
                    if got is None:  # sample as the ablation did; kept for re-grading
                        backend = LocalBackend(_model_dir(db, version), batch_size=32)
                        metered = evaluate(backend, world, sampling, probes=probes)
                        got = {conversation_key(c["messages"]): c["text"]
                               for c in metered.completions}
                        cache.setdefault(version, {})[name] = got
                        if args.replies is not None:
                            args.replies.write_text(json.dumps(cache))
                    row[name] = {"world": _world_rates(world, probes, got),
                                 "real": _real_rates(probes, got)}
            for split in [k for k in row if k.startswith(("held_out", "in_distribution"))]:
                for side in ("world", "real"):
                    row[split][f"{side}_safe_f1"] = _f1(row[split][side])
            report["rows"].append(row)
            print(label, json.dumps({k: {s: {m: round(v["rate"], 3) for m, v in row[k][s].items()}
                                         for s in ("world", "real")}
                                     for k in row if k.startswith(("held", "in_"))}))
    report["seconds"] = round(time.monotonic() - started, 1)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out} in {report['seconds']} s")


def _model_dir(db: Path, version: str) -> str:
    con = sqlite3.connect(db)
    (path,) = con.execute("select artifact_path from model_versions where name = ?",
                          (version,)).fetchone()
    con.close()
    return path


if __name__ == "__main__":
    main()
