"""Read-only look-ups the pages and the API share (lists for dashboards and forms)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.review import ReviewBatch, batch_progress, reviewer_progress
from accord.store import ModelVersion, SpecVersion


def batch_list(session: Session, user_id: int | None = None) -> list[dict[str, Any]]:
    """Every batch, newest first, with its progress (and the user's own, if given)."""
    rows = session.scalars(select(ReviewBatch).order_by(ReviewBatch.id.desc())).all()
    listed = []
    for batch in rows:
        entry: dict[str, Any] = {"id": batch.id, "name": batch.name, "kind": batch.kind,
                                 "overlap": batch.overlap,
                                 "progress": batch_progress(session, batch.id).to_dict()}
        if user_id is not None:
            entry["mine"] = reviewer_progress(session, batch.id, user_id)
        listed.append(entry)
    return listed


def model_versions(session: Session) -> list[tuple[str, str]]:
    """(name, stage) of every stored model version, newest first."""
    query = select(ModelVersion.name, ModelVersion.stage).order_by(ModelVersion.id.desc())
    return [(name, stage) for name, stage in session.execute(query)]


def spec_versions(session: Session) -> list[tuple[str, str]]:
    """(version, name) of every recorded spec version, newest first."""
    query = select(SpecVersion.version, SpecVersion.name).order_by(SpecVersion.id.desc())
    return [(version, name) for version, name in session.execute(query)]
