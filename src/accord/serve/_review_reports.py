"""What the admin's clarity and export pages show and do, over ``accord.review``.

Clarity uses the reviewers' own answers (``rating_records``: adjudication does not hide a
disagreement, since the guideline author needs to see it) and the notes they left. Exports
are what ``accord review export`` writes (rows, ``datasets`` folder, manifest with the
content hash, spec version, batch ids and filters), into the project's
``.accord/exports/`` folder, listed and downloadable from the page.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.accounts import User
from accord.errors import AccordError
from accord.review import (
    CategoryInfo,
    ClarityReport,
    Note,
    PreferenceFilters,
    Rating,
    RatingRecord,
    ReviewBatch,
    ReviewItem,
    ReviewItemCompletion,
    SFTFilters,
    batch_spec,
    clarity_report,
    compare_versions,
    get_batch,
    levels_for,
    preference_rows,
    rating_records,
    reviewed_completions,
    sft_rows,
    write_export,
)
from accord.serve._inputs import parse_int
from accord.store import Completion, Prompt, SpecVersion

EXPORT_FILES = {"data.jsonl": "application/x-ndjson", "manifest.json": "application/json",
                "sources.jsonl": "application/x-ndjson"}
_EXPORT_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,127}")


@dataclass(frozen=True)
class BatchClarity:
    """The clarity report of one rating batch, with what the page needs to show it."""

    report: ClarityReport
    reviewers: dict[str, str]  # reviewer id → username (" (simulated)" marked)
    items: dict[str, dict[str, Any]]  # item id → messages and completion text


def rating_batches_by_version(session: Session) -> list[dict[str, Any]]:
    """Spec versions that have rating batches, newest first, each with its batches."""
    rows = session.execute(
        select(ReviewBatch.id, ReviewBatch.name, ReviewBatch.kind, SpecVersion.version,
               SpecVersion.name.label("spec_name"))
        .join(SpecVersion, SpecVersion.id == ReviewBatch.spec_version_id)
        .order_by(SpecVersion.id.desc(), ReviewBatch.id.desc())).all()
    versions: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = versions.setdefault(row.version, {"version": row.version,
                                                  "name": row.spec_name, "batches": []})
        entry["batches"].append({"id": row.id, "name": row.name, "kind": row.kind})
    return list(versions.values())


def batch_clarity(session: Session, batch_id: int, *, top_items: int = 5) -> BatchClarity:
    """The clarity report of a rating batch: categories by α, disputed items, notes.

    Raises:
        NotFoundError: no such batch. AccordError: a comparison batch (no ratings).
    """
    batch = get_batch(session, batch_id)
    if batch.kind != "rating":
        raise AccordError(f"batch {batch_id} is a comparison batch: the clarity report reads "
                          "ratings; its pairwise agreement is on the batch page")
    ref, spec = batch_spec(session, batch)
    records = rating_records(session, batch_id)
    notes = _notes(session, [batch_id])
    categories = [CategoryInfo.from_category(c) for c in spec.guidelines.categories]
    report = clarity_report(records, notes, categories, top_items=top_items,
                            guideline_version=ref.version)
    shown = {d.item_id for c in report.categories for d in c.disputed}
    shown |= {n.item_id for c in report.categories for n in c.notes}
    shown |= {n.item_id for n in report.general_notes}
    reviewers = {str(uid): name + (" (simulated)" if simulated else "")
                 for uid, name, simulated in session.execute(
                     select(User.id, User.username, User.is_simulated).where(
                         User.id.in_({int(r.reviewer_id) for r in records}
                                     | {int(n.reviewer_id) for n in notes})))}
    return BatchClarity(report, reviewers, _item_texts(session, sorted(int(i) for i in shown)))


def _notes(session: Session, batch_ids: list[int]) -> list[Note]:
    """Reviewers' notes and "unclear guideline" marks on the batches' regular items."""
    rows = session.execute(
        select(Rating.item_id, Rating.reviewer_id, Rating.note, Rating.unclear,
               User.is_simulated)
        .join(ReviewItem, ReviewItem.id == Rating.item_id)
        .join(User, User.id == Rating.reviewer_id)
        .where(ReviewItem.batch_id.in_(batch_ids), ReviewItem.is_gold.is_(False))
        .order_by(Rating.id)).all()
    notes = []
    for item, reviewer, text, unclear, simulated in rows:
        for category in unclear or []:
            notes.append(Note(str(item), str(reviewer), category, text, True, simulated))
        if text and not unclear:
            notes.append(Note(str(item), str(reviewer), None, text, False, simulated))
    return notes


def _item_texts(session: Session, item_ids: list[int]) -> dict[str, dict[str, Any]]:
    rows = session.execute(
        select(ReviewItem.id, Prompt.messages, Completion.text)
        .join(Prompt, Prompt.id == ReviewItem.prompt_id)
        .join(ReviewItemCompletion, ReviewItemCompletion.item_id == ReviewItem.id)
        .join(Completion, Completion.id == ReviewItemCompletion.completion_id)
        .where(ReviewItem.id.in_(item_ids))
        .order_by(ReviewItem.id, ReviewItemCompletion.position)).all()
    texts: dict[str, dict[str, Any]] = {}
    for item, messages, text in rows:
        entry = texts.setdefault(str(item), {"messages": list(messages), "completions": []})
        entry["completions"].append(text)
    return texts


def version_comparison(session: Session, version_a: str, version_b: str, *,
                       n_boot: int = 500) -> dict[str, Any]:
    """α per category under two guideline (spec) versions, pooled over each version's
    rating batches, with a bootstrap interval for the change.

    Raises:
        AccordError: the same version twice, or a version with no rated rating batch.
    """
    if version_a == version_b:
        raise AccordError("pick two different guideline versions to compare")
    sides: list[list[RatingRecord]] = []
    infos: dict[str, CategoryInfo] = {}
    batches: dict[str, list[int]] = {}
    for version in (version_a, version_b):
        ids = list(session.scalars(
            select(ReviewBatch.id).join(SpecVersion, SpecVersion.id == ReviewBatch.spec_version_id)
            .where(SpecVersion.version == version, ReviewBatch.kind == "rating")
            .order_by(ReviewBatch.id)))
        records = [r for b in ids for r in rating_records(session, b)]
        if not records:
            raise AccordError(f"guideline version {version!r} has no ratings yet (rating "
                              f"batches: {ids or 'none'}); compare versions that were reviewed")
        _, spec = batch_spec(session, get_batch(session, ids[0]))
        infos.update({c.id: CategoryInfo.from_category(c) for c in spec.guidelines.categories})
        sides.append(records)
        batches[version] = ids
    result = compare_versions(sides[0], sides[1], levels_for(list(infos.values())),
                              n_boot=n_boot)
    return {"comparison": result, "batches": batches,
            "simulated": any(r.simulated for side in sides for r in side)}


# --- exports -----------------------------------------------------------------------------

def parse_filters(kind: str, form: Any) -> SFTFilters | PreferenceFilters:
    """Filters from the export form (unticked boxes send nothing: False).

    Raises:
        AccordError: a number that does not parse, or is out of range.
    """
    ticked = {key: form.get(key) == "yes" for key in (
        "require_majority", "exclude_unclear", "exclude_skipped", "from_rankings",
        "from_ratings")}
    max_violation = _max_violation(str(form.get("max_violation", "")))
    if kind == "sft":
        return SFTFilters(
            min_helpfulness=_number(form, "min_helpfulness", 1, 10),
            max_violation=max_violation, require_majority=ticked["require_majority"],
            min_reviewers=int(_number(form, "min_reviewers", 1, 100, whole=True)),
            exclude_unclear=ticked["exclude_unclear"],
            exclude_skipped=ticked["exclude_skipped"],
            best_per_prompt=_optional_whole(form, "best_per_prompt"))
    if kind == "preference":
        return PreferenceFilters(
            from_rankings=ticked["from_rankings"], from_ratings=ticked["from_ratings"],
            min_rating_gap=_number(form, "min_rating_gap", 0, 10),
            max_violation=max_violation,
            min_vote_share=_number(form, "min_vote_share", 0, 1),
            exclude_unclear=ticked["exclude_unclear"],
            max_pairs_per_prompt=_optional_whole(form, "max_pairs_per_prompt"))
    raise AccordError(f"export kind {kind!r} is not known; allowed: sft, preference")


def _number(form: Any, key: str, low: float, high: float, *, whole: bool = False) -> float:
    raw = str(form.get(key, "")).strip()
    if whole:
        return float(parse_int(raw, key, low=int(low), high=int(high)))
    try:
        value = float(raw)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise AccordError(f"{key}: {raw!r} is not {kind}") from None
    if not low <= value <= high:
        raise AccordError(f"{key}: {raw} is outside {low:g}..{high:g}")
    return value


def _optional_whole(form: Any, key: str) -> int | None:
    """Blank means no limit."""
    if not str(form.get(key, "")).strip():
        return None
    return int(_number(form, key, 1, 10_000, whole=True))


def _max_violation(text: str) -> dict[str, float]:
    """``offensive=2, objectionable=0.5`` → {category: limit}; blank keeps the defaults."""
    if not text.strip():
        return dict(SFTFilters().max_violation)
    limits = {}
    for part in re.split(r"[,\n]", text):
        if not part.strip():
            continue
        name, sep, raw = part.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            limits[name.strip()] = float(raw)
        except ValueError:
            raise AccordError(f"max_violation: {part.strip()!r} is not category=number "
                              "(e.g. offensive=2, objectionable=0.5)") from None
    return limits


def run_export(session: Session, batch_ids: list[int], kind: str,
               filters: SFTFilters | PreferenceFilters, root: Path, exported_by: str,
               ) -> tuple[str, dict[str, Any]]:
    """Export the batches' reviews as ``accord review export`` does, into a new folder
    under ``root``; returns (folder name, manifest).

    Raises:
        AccordError: no batch chosen, batches of different spec versions, no rows left
            after the filters. NotFoundError: a batch does not exist.
    """
    if not batch_ids:
        raise AccordError("choose at least one batch to export")
    rated, rankings, version = reviewed_completions(session, batch_ids)
    if isinstance(filters, SFTFilters):
        rows = sft_rows(rated, filters)
    else:
        rows = preference_rows(rated, rankings, filters)
    simulated = (any(r.simulated for c in rated for r in c.ratings)
                 or any(r.simulated for r in rankings))
    meta = {"spec_version": version, "batch_ids": sorted(batch_ids),
            "filters": filters.to_dict(), "exported_by": exported_by, "via": "web",
            "simulated": simulated}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{kind}-{secrets.token_hex(3)}"
    manifest = write_export(rows, kind, root / name, meta)  # type: ignore[arg-type]
    return name, manifest.to_dict()


def list_exports(root: Path | None) -> list[dict[str, Any]]:
    """Exports written under ``root``, newest first: folder name and manifest."""
    if root is None or not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        manifest = path / "manifest.json"
        if _EXPORT_NAME.fullmatch(path.name) and manifest.is_file():
            try:
                found.append({"name": path.name, **json.loads(manifest.read_text("utf-8"))})
            except (OSError, json.JSONDecodeError):
                continue  # half-written or damaged: not offered
    return sorted(found, key=lambda m: (str(m.get("created", "")), m["name"]), reverse=True)


def export_file(root: Path | None, name: str, filename: str) -> Path | None:
    """The path of one file of a listed export, or None (never a path outside ``root``)."""
    if root is None or filename not in EXPORT_FILES or not _EXPORT_NAME.fullmatch(name):
        return None
    if name not in {e["name"] for e in list_exports(root)}:
        return None
    path = root / name / filename
    return path if path.is_file() else None


def batch_choices(session: Session) -> list[dict[str, Any]]:
    """Batches to offer on the export form, with their spec versions, newest first."""
    rows = session.execute(
        select(ReviewBatch.id, ReviewBatch.name, ReviewBatch.kind, SpecVersion.version)
        .join(SpecVersion, SpecVersion.id == ReviewBatch.spec_version_id)
        .order_by(ReviewBatch.id.desc())).all()
    return [dict(row._mapping) for row in rows]

