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

import contextlib
from pathlib import Path
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
    root: Path | str | None = None,
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
        root: the project folder. When the store is the project's own SQLite file
            (``ROOT/.accord/``) and ``artifact_path`` lies inside ``root``, the path is kept
            relative to it, so a copied project folder serves its own models
            (:func:`model_path` resolves it).

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
    if root is not None:
        artifact_path = _portable(session, artifact_path, Path(root))
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


def store_root(session: Session) -> Path | None:
    """The project folder of a store kept inside it (SQLite at ``ROOT/.accord/*.sqlite3``),
    else ``None`` (PostgreSQL, or a SQLite file elsewhere)."""
    url = session.get_bind().url
    if not url.get_backend_name().startswith("sqlite") or not url.database \
            or url.database == ":memory:":
        return None
    folder = Path(url.database).resolve().parent
    return folder.parent if folder.name == ".accord" else None


def _portable(session: Session, artifact_path: str, root: Path) -> str:
    """``artifact_path`` relative to ``root`` when the store lives in that project folder."""
    here = store_root(session)
    path = Path(artifact_path)
    if here is None or not path.is_absolute() or here != root.resolve():
        return artifact_path
    try:
        return path.resolve().relative_to(here).as_posix()
    except ValueError:  # outside the project folder: kept as given
        return artifact_path


def model_path(session: Session, model_version: ModelVersion | str) -> Path:
    """Where a model version's files are: a relative ``artifact_path`` is resolved against
    the project folder the store lives in (:func:`store_root`).

    Raises:
        NotFoundError: ``model_version`` is a name that is not stored.
        StoreError: the path is relative but the store is not inside a project folder.
    """
    row = (get_model_version(session, model_version) if isinstance(model_version, str)
           else model_version)
    path = Path(row.artifact_path)
    if path.is_absolute():
        return path
    here = store_root(session)
    if here is None:
        raise StoreError(f"model version {row.name!r} keeps its files at {path}, relative to "
                         "its project folder, but this store is not a project's own SQLite "
                         "file; open the project's store (accord ... --project DIR)")
    return here / path


def find_model_by_path(session: Session, path: Path | str) -> ModelVersion | None:
    """The first model version whose files are at ``path`` (absolute or project-relative
    ``artifact_path``), or ``None``."""
    path = Path(path)
    candidates = {str(path), str(path.resolve())}
    here = store_root(session)
    if here is not None:
        with contextlib.suppress(ValueError):  # outside the project: absolute only
            candidates.add(path.resolve().relative_to(here).as_posix())
    return session.scalars(select(ModelVersion).where(
        ModelVersion.artifact_path.in_(sorted(candidates))).order_by(ModelVersion.id)).first()


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
