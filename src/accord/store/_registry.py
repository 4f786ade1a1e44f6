"""Model versions: register trained checkpoints with their lineage, and walk it back.

A model version's ``config`` may hold its own training signal under
:data:`SIGNAL_KEY` (``{"graders": [...], "models": [...], "external": "..."}``): the
records of the graders whose judgements trained it (rewards, rule-based rewards,
simulated reviewers), the other model versions whose signal it inherited (a reward model,
a critic) and, for an imported base model, where it came from. :func:`training_signal`
walks parents and those references and gathers it all, so an audit can check that it
does not grade a model with the signal that trained it (``accord.audit``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.store._errors import ConflictError, NotFoundError, StoreError
from accord.store._models import ModelVersion, SpecVersion
from accord.store._specs import get_spec_version


def register_model_version(
    session: Session,
    *,
    name: str,
    stage: str,
    artifact_path: str,
    parent: ModelVersion | str | None = None,
    spec_version: SpecVersion | str | int | None = None,
    config: dict[str, Any] | None = None,
    datasets: dict[str, str] | None = None,
    metrics: dict[str, Any] | None = None,
) -> ModelVersion:
    """Record a trained checkpoint and what made it.

    Args:
        session: an open session; the row is flushed, not committed.
        name: unique name, e.g. ``"demo-base-3f2a"``.
        stage: the stage that produced it: ``"pretrain"``, ``"sft"``, ``"dpo"``, ...
        artifact_path: where the Hugging Face-format checkpoint lives.
        parent: the model it was trained from (row or name); ``None`` for a base model.
        spec_version: the spec version it was trained for (row, hash, version or id).
        config: the training configuration.
        datasets: data set name -> content hash of the exact data used.
        metrics: measurements taken when it was made.

    Returns:
        The new row; or the existing row of that name when stage, parent, spec version,
        config and data sets all match (re-running a cached stage is not an error).

    Raises:
        NotFoundError: ``parent`` or ``spec_version`` is not stored.
        ConflictError: ``name`` is taken by a model made differently.
    """
    parent_row = get_model_version(session, parent) if isinstance(parent, str) else parent
    spec_row = (
        spec_version
        if spec_version is None or isinstance(spec_version, SpecVersion)
        else get_spec_version(session, spec_version)
    )
    config, datasets = dict(config or {}), dict(datasets or {})
    existing = session.scalars(select(ModelVersion).where(ModelVersion.name == name)).one_or_none()
    if existing is None:
        row = ModelVersion(
            name=name,
            stage=stage,
            artifact_path=artifact_path,
            parent=parent_row,
            spec_version=spec_row,
            config=config,
            datasets=datasets,
            metrics=dict(metrics or {}),
        )
        session.add(row)
        session.flush()
        return row
    differs = [
        field
        for field, ours, theirs in (
            ("stage", stage, existing.stage),
            ("parent", _id(parent_row), existing.parent_id),
            ("spec_version", _id(spec_row), existing.spec_version_id),
            ("config", config, existing.config),
            ("datasets", datasets, existing.datasets),
        )
        if ours != theirs
    ]
    if differs:
        raise ConflictError(
            f"model version {name!r} already exists (id {existing.id}) with a different "
            f"{', '.join(differs)}; choose a new name (names usually end in a hash of the "
            "config and data so that different models get different names)"
        )
    return existing


def get_model_version(session: Session, name: str) -> ModelVersion:
    """The model version called ``name``.

    Raises:
        NotFoundError: no such name; the message lists the newest stored.
    """
    found = session.scalars(select(ModelVersion).where(ModelVersion.name == name)).one_or_none()
    if found is None:
        newest = session.scalars(
            select(ModelVersion.name).order_by(ModelVersion.id.desc()).limit(5)
        ).all()
        raise NotFoundError(
            f"no model version named {name!r}. Newest stored: "
            f"{', '.join(newest) or 'none; train or register one first'}"
        )
    return found


def lineage(session: Session, model_version: ModelVersion | str) -> list[ModelVersion]:
    """The chain of models from the base model down to ``model_version`` (inclusive).

    Raises:
        NotFoundError: ``model_version`` is a name that is not stored.
        StoreError: the parent links form a cycle (only possible by editing rows by hand).
    """
    current: ModelVersion | None = (
        get_model_version(session, model_version)
        if isinstance(model_version, str)
        else model_version
    )
    chain: list[ModelVersion] = []
    seen: set[int] = set()
    while current is not None:
        if current.id in seen:
            raise StoreError(
                f"model version {current.name!r} (id {current.id}) is its own ancestor; "
                "fix parent_id in model_versions"
            )
        seen.add(current.id)
        chain.append(current)
        current = current.parent
    chain.reverse()
    return chain


def _id(row: ModelVersion | SpecVersion | None) -> int | None:
    return None if row is None else row.id


SIGNAL_KEY = "training_signal"
"""Where a model version's ``config`` keeps its own training signal."""


def training_signal(session: Session, model_version: ModelVersion | str) -> dict[str, Any]:
    """Everything recorded about what trained ``model_version``, through its whole lineage.

    Walks the parent chain and, from each model version's ``config[SIGNAL_KEY]``, the
    model versions named under ``models`` (reward models, critics: their own lineage is
    walked too), collecting grader records and data sets.

    Args:
        session: an open session.
        model_version: the row or its name.

    Returns:
        ``{"model_version", "chain": [names walked], "unknown": [names whose training
        happened elsewhere: stage "external", or an imported base model], "graders":
        [{"model", "name", "role", "kind", "version", "sources"}], "datasets": [{"model",
        "name", "sha256"}]}``. A referenced model version that is not stored is listed
        under ``unknown``.

    Raises:
        NotFoundError: ``model_version`` is a name that is not stored.
    """
    start = (get_model_version(session, model_version) if isinstance(model_version, str)
             else model_version)
    chain: list[str] = []
    unknown: list[str] = []
    graders: list[dict[str, Any]] = []
    datasets: list[dict[str, Any]] = []
    todo: list[ModelVersion | str] = [start]
    while todo:
        item = todo.pop(0)
        if isinstance(item, str):
            try:
                item = get_model_version(session, item)
            except NotFoundError:
                if item not in unknown:
                    unknown.append(item)
                continue
        for mv in lineage(session, item):
            if mv.name in chain:
                continue
            chain.append(mv.name)
            signal = dict((mv.config or {}).get(SIGNAL_KEY) or {})
            if mv.stage == "external" or signal.get("external"):
                unknown.append(mv.name)
            for name, digest in sorted((mv.datasets or {}).items()):
                datasets.append({"model": mv.name, "name": name, "sha256": digest})
            for rec in signal.get("graders", []):
                graders.append({"model": mv.name, **rec})
            todo.extend(str(m) for m in signal.get("models", []) if m and m not in chain)
    return {"model_version": start.name, "chain": chain, "unknown": unknown,
            "graders": graders, "datasets": datasets}
