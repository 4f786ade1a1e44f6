"""``accord rewards``: calibrate graders on human labels, fit rule weights, score responses.

The lead registers it with ``app.add_typer(rewards_app, name="rewards")``; commands only
parse arguments and call the package API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from accord.errors import AccordError

rewards_app = typer.Typer(help="Rule-based rewards: calibrate graders, fit weights, score.",
                          no_args_is_help=True)

SpecOpt = Annotated[Path, typer.Option("--spec", help="The spec folder whose rules.yaml "
                                       "names the graders and propositions.")]
DataOpt = Annotated[Path, typer.Option("--data", help="The human-labelled gold set "
                                       "(gold-train.jsonl, or the folder holding it).")]
JudgeOpt = Annotated[bool, typer.Option("--judge/--no-judge", help="Also run llm_judge "
                                        "graders (loads or calls the judge model: slow).")]
DEMO_SPEC = Path("examples/demo/spec")
GOLD = Path("../shared/data/rbr/gold-train.jsonl")


def _fmt(value: float | None) -> str:
    return "  -  " if value is None or value != value else f"{value:.3f}"


def _skip(judge: bool) -> set[str]:
    return set() if judge else {"llm_judge"}


@rewards_app.command("calibrate")
def calibrate(spec: SpecOpt = DEMO_SPEC, data: DataOpt = GOLD, judge: JudgeOpt = False,
              limit: Annotated[int | None, typer.Option(min=1, help="Grade a seeded random "
                                                        "subset of this many (slow judges).")]
              = None,
              as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
              ) -> None:
    """Each grader's accuracy and AUC on the gold propositions it answers."""
    from accord.rewards import calibration_table, grade_gold, load_gold, sample_gold
    from accord.spec import load_spec

    rules = load_spec(spec).rules
    examples = sample_gold(load_gold(data)[0], limit)
    grader, probs = grade_gold(rules, examples, _skip(judge))
    rows = calibration_table(grader, examples, probs)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    typer.echo(f"{'proposition':26} {'grader (kind)':36} {'gold':28} {'n':>4} {'pos':>4} "
               f"{'acc':>6} {'AUC':>6}")
    for r in rows:
        typer.echo(f"{r.proposition:26} {f'{r.grader} ({r.kind})':36} {r.gold:28} {r.n:>4} "
                   f"{r.positives:>4} {_fmt(r.accuracy):>6} {_fmt(r.auc):>6}")
    if not judge:
        typer.echo("(llm_judge propositions skipped; --judge runs them)")


@rewards_app.command("fit")
def fit(spec: SpecOpt = DEMO_SPEC, data: DataOpt = GOLD, judge: JudgeOpt = False,
        out: Annotated[Path | None, typer.Option("--out", help="Write the weights here "
                                                 "(JSON).")] = None,
        gold_labels: Annotated[bool, typer.Option("--gold-labels", help="Fit on the human "
                                                  "labels instead of the spec's graders (a "
                                                  "check of the fitter; the weights are in "
                                                  "the gold set's terms).")] = False,
        holdout: Annotated[float, typer.Option(min=0.0, max=0.9, help="Share held out.")] = 0.25,
        seed: Annotated[int, typer.Option(help="Hold-out split seed.")] = 0,
        margin: Annotated[float, typer.Option(min=0.0, help="Hinge margin.")] = 1.0,
        l2: Annotated[float, typer.Option(min=0.0, help="L2 penalty.")] = 1e-3) -> None:
    """Fit rule weights on the gold classes; print held-out ranking accuracy and weights."""
    from accord.rewards import (
        SPEC_CLASS,
        best_single_feature,
        fit_rule_weights,
        gold_label_examples,
        grade_gold,
        graded_examples,
        load_gold,
    )
    from accord.spec import COMPLETION_CLASSES, load_spec

    examples, gold_rules = load_gold(data)
    if gold_labels:
        ranked = gold_label_examples(examples)
        features = sorted({k for e in examples for k in e.labels})
        order = gold_rules.class_order
    else:
        grader, probs = grade_gold(load_spec(spec).rules, examples, _skip(judge))
        ranked = graded_examples(examples, probs)
        features, order = grader.proposition_ids, list(COMPLETION_CLASSES)
        assert set(SPEC_CLASS.values()) <= set(order)
    weights = fit_rule_weights(ranked, features, order, holdout=holdout, seed=seed,
                               margin=margin, l2=l2)
    baseline = best_single_feature(ranked, features, order, holdout, seed)
    for rtype, lw in weights.by_type.items():
        feat, acc = baseline[rtype]
        typer.echo(f"{rtype}: held-out ranking accuracy {_fmt(lw.heldout_accuracy)} on "
                   f"{lw.heldout_pairs} pairs (train {_fmt(lw.train_accuracy)} on "
                   f"{lw.train_pairs}); best single proposition {feat or '-'}: {_fmt(acc)}")
        for f, w in sorted(zip(lw.features, lw.weights, strict=True), key=lambda t: -abs(t[1])):
            if abs(w) > 1e-6:
                typer.echo(f"    {w:+.3f}  {f}")
    if out is not None:
        weights.save(out)
        typer.echo(f"wrote {out}")


def _rows_from_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            response = row.get("completion", row.get("response"))
            if response is None or "prompt" not in row:
                raise KeyError("prompt and completion (or response)")
        except (ValueError, KeyError, AttributeError) as exc:
            raise AccordError(f"{path}:{i + 1}: expected a JSON object with prompt and "
                              f"completion (or response): {exc}") from exc
        rows.append({"prompt": row["prompt"], "completion": response,
                     "response_type": row.get("response_type")})
    return rows


@rewards_app.command("score")
def score(
    prompt: Annotated[str | None, typer.Argument(help="The user's prompt.")] = None,
    response: Annotated[str | None, typer.Argument(help="The assistant's response.")] = None,
    spec: SpecOpt = DEMO_SPEC,
    weights: Annotated[Path | None, typer.Option("--weights", help="Weights from `accord "
                                                 "rewards fit --out`; without them the "
                                                 "class decides the score.")] = None,
    jsonl: Annotated[Path | None, typer.Option("--jsonl", help="Score every row "
                                               "(prompt, completion[, response_type]).")] = None,
    response_type: Annotated[str | None, typer.Option("--response-type", help="Default: the "
                                                      "spec's first response type.")] = None,
    judge: Annotated[bool, typer.Option("--judge/--no-judge", help="Run llm_judge graders.")]
    = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Proposition probabilities, class and RBR score of responses."""
    from accord.rewards import RuleBasedReward, RuleWeights
    from accord.spec import load_spec

    if jsonl is not None:
        rows = _rows_from_jsonl(jsonl)
    elif prompt is not None and response is not None:
        rows = [{"prompt": prompt, "completion": response, "response_type": None}]
    else:
        raise AccordError("give PROMPT and RESPONSE, or --jsonl FILE")
    rules = load_spec(spec).rules
    if not rules.response_types:
        raise AccordError(f"{spec}: rules.yaml has no response types to score against")
    reward = RuleBasedReward(rules, RuleWeights.load(weights) if weights else None,
                             default_response_type=response_type or rules.response_types[0].id,
                             skip_kinds=_skip(judge))
    graded = reward.grade([r["prompt"] for r in rows], [r["completion"] for r in rows],
                          response_type=[r["response_type"] for r in rows])
    for g in graded:
        if as_json:
            typer.echo(json.dumps(g))
            continue
        typer.echo(f"{g['response_type']}: class {g['class']}, RBR score "
                   f"{g['score']:+.3f}")
        for pid, p in g["propositions"].items():
            mark = "yes" if p >= 0.5 else "no "
            typer.echo(f"    {mark} {p:.3f}  {pid}")

