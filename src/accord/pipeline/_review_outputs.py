"""What the review stage leaves behind: agreement, clarity, demographics, exports, report."""

from __future__ import annotations

import json
from typing import Any

from accord.pipeline._runner import StageContext, StageOutput


def _spec_of_batch(session: Any, batch_id: int) -> Any:
    from accord.review import batch_spec, get_batch

    return batch_spec(session, get_batch(session, batch_id))[1]


def _demographics(ctx: StageContext, session: Any, rating: int, simulated: bool) -> Any:
    """The published reviewer-demographics report: totals per survey field and mean
    ratings by political leaning, suppressed below ``min_cell`` and noised (OpenDP)."""
    from accord.review import (
        CategoryInfo,
        rating_records,
        survey_answers,
        survey_answers_by_reviewer,
    )
    from accord.transparency import demographics_report, ratings_from_records

    run = ctx.config.run
    fields = ctx.config.survey.fields
    spec = _spec_of_batch(session, rating)
    bounds = {}
    for category in spec.guidelines.categories:
        info = CategoryInfo.from_category(category)
        if info.scale_type == "likert":
            bounds[info.id] = (float(min(info.values)), float(max(info.values)))
    by_group = None
    field_ids = [f.id for f in fields]
    if "political_leaning" in field_ids and bounds:
        by_group = ratings_from_records(
            rating_records(session, rating),
            survey_answers_by_reviewer(session, include_simulated=simulated), bounds,
            fields=("political_leaning",))
    return demographics_report(
        survey_answers(session, include_simulated=simulated), field_ids,
        epsilon=run.epsilon, min_cell=run.min_cell, ratings_by_group=by_group,
        values={f.id: f.options for f in fields}, simulated=simulated)


def _export(ctx: StageContext, kind: str, rows: list[dict], meta: dict) -> dict[str, Any]:
    from accord.review import write_export

    if not rows:
        return {"rows": 0, "hash": None, "dir": None}
    manifest = write_export(rows, kind, ctx.dir / "exports" / kind, meta)  # type: ignore[arg-type]
    return {"rows": manifest.rows, "hash": manifest.hash,
            "dir": str(ctx.dir / "exports" / kind)}


def write_outputs(ctx: StageContext, rating: int, comparison: int | None) -> dict[str, Any]:
    """Agreement, clarity, demographics and exports of the stage's batches, as files in
    the stage folder; returns the figures."""
    from accord.review import (
        CategoryInfo,
        PreferenceFilters,
        SFTFilters,
        batch_agreement,
        clarity_report,
        preference_rows,
        reviewed_completions,
        sft_rows,
    )

    batch_ids = [b for b in (rating, comparison) if b is not None]
    with ctx.state["store"].session() as session:
        agreement = {str(b): batch_agreement(session, b) for b in batch_ids}
        simulated = any(a["simulated_reviewers"] for a in agreement.values())
        spec = _spec_of_batch(session, rating)
        rated, rankings, version = reviewed_completions(session, batch_ids)
        clarity = clarity_report(
            [r for c in rated for r in c.ratings], [n for c in rated for n in c.notes],
            [CategoryInfo.from_category(c) for c in spec.guidelines.categories],
            guideline_version=version)
        demographics = _demographics(ctx, session, rating, simulated)
    (ctx.dir / "agreement.json").write_text(json.dumps(agreement, indent=2))
    (ctx.dir / "clarity.html").write_text(clarity.to_html(), encoding="utf-8")
    (ctx.dir / "clarity.json").write_text(json.dumps(clarity.to_dict(), indent=2))
    (ctx.dir / "demographics.html").write_text(demographics.to_html(), encoding="utf-8")
    (ctx.dir / "demographics.json").write_text(
        json.dumps(demographics.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    sft_filters, pref_filters = SFTFilters(), PreferenceFilters()
    meta = {"spec_version": version, "batch_ids": batch_ids, "simulated": simulated}
    exports = {
        "sft": _export(ctx, "sft", sft_rows(rated, sft_filters),
                       {**meta, "filters": sft_filters.to_dict()}),
        "preference": _export(ctx, "preference", preference_rows(rated, rankings, pref_filters),
                              {**meta, "filters": pref_filters.to_dict()}),
    }
    alpha = {cat: res["alpha"] for cat, res in agreement[str(rating)]["alpha"].items()}
    pairwise = agreement[str(comparison)]["pairwise"]["rate"] if comparison else None
    return {"batches": {"rating": rating, "comparison": comparison}, "alpha": alpha,
            "pairwise_agreement": pairwise, "exports": exports, "guideline_version": version,
            "reviewed_completions": len(rated)}


def report_parts(out: StageOutput) -> list[Any]:
    from markupsafe import Markup

    from accord.report import paragraph, table

    fig = out.figures
    who = (f"{fig.get('reviewers')} <strong>simulated</strong> reviewers (seeded programs "
           "reviewing through the same HTTP API as the pages; marked simulated in the store)"
           if fig.get("simulated") else "people, in the browser")
    parts: list[Any] = [Markup(
        f"<p>The base model's completions were reviewed by {who}: {fig['submitted']} "
        f"submissions to batches {fig['batches']['rating']} (ratings) and "
        f"{fig['batches']['comparison']} (comparisons), guideline version "
        f"{Markup.escape(fig['guideline_version'])}.</p>")]
    agreement = json.loads((out.dir / "agreement.json").read_text())
    rating = agreement[str(fig["batches"]["rating"])]["alpha"]
    parts.append(paragraph("Agreement per category (Krippendorff's α; ordinal for Likert, "
                           "nominal for yes/no and each flag):"))
    parts.append(table(["category", "level", "α", "items rated twice+", "ratings",
                        "reviewers"],
                       [[c, r["level"], "—" if r["alpha"] is None else f"{r['alpha']:.3f}",
                         r["n_pairable"], r["n_ratings"], r["n_reviewers"]]
                        for c, r in rating.items()]))
    if fig.get("pairwise_agreement") is not None:
        parts.append(paragraph(f"Comparisons: pairwise agreement between reviewers who "
                               f"ranked the same completions {fig['pairwise_agreement']:.3f}."))
    parts.append(Markup((out.dir / "clarity.html").read_text(encoding="utf-8")))
    parts.append(Markup((out.dir / "demographics.html").read_text(encoding="utf-8")))
    ex = fig["exports"]
    parts.append(paragraph("Exports for training (TRL formats; each cites its batches and "
                           "spec version by content hash):"))
    parts.append(table(["data set", "rows", "sha256"],
                       [[k, v["rows"], (v["hash"] or "—")[:16]] for k, v in ex.items()]))
    return parts
