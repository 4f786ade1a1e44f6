"""Ratification: a drafted proposal's spec change written into the spec folder and
registered as a new spec version in the store, both with provenance (deliberation,
statements, tallies, who ratified, when)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from accord.errors import AccordError
from accord.spec import Spec, load_spec
from accord.store import ConflictError, SpecVersion, record_spec_version, utcnow

from ._config import config_of_row
from ._models import Deliberation, DeliberationProposal
from ._proposals import DRAFTED, RATIFIED
from ._spec_change import KINDS, already_applied, apply_change, describe_change

# One ratification at a time per process (threads), and per spec folder across processes
# (a lock file beside it): two would race on the spec files.
_SPEC_LOCK = threading.Lock()


@contextmanager
def spec_folder_lock(folder: Path) -> Iterator[None]:
    """Hold the spec folder for one writer: this process's threads queue on a lock, other
    processes (``accord deliberate ratify``, server workers) on ``.NAME.lock`` beside it."""
    with _SPEC_LOCK:
        lock_path = folder.resolve().parent / f".{folder.resolve().name}.lock"
        with lock_path.open("a") as fh:
            try:
                import fcntl
            except ImportError:  # no advisory locks (Windows): the thread lock only
                yield
                return
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def spec_dir_of(row: Deliberation, spec_dir: str | Path | None = None) -> Path:
    """The spec folder a ratified change goes into: ``spec_dir``, else the config's.

    Raises:
        AccordError: neither is set, or the folder does not exist.
    """
    chosen = spec_dir or config_of_row(row).spec_dir
    if not chosen:
        raise AccordError(f"deliberation {row.name!r} names no spec folder; pass --project "
                          "(its spec folder) or set spec_dir in the deliberation's config")
    folder = Path(chosen)
    if not folder.is_dir():
        raise AccordError(f"spec folder {folder} does not exist")
    return folder


def provenance_record(row: Deliberation, proposal: DeliberationProposal, base: Spec, *,
                      by: str, when: str) -> dict[str, Any]:
    """What the new spec version records about where it came from."""
    assert proposal.kind is not None and proposal.change is not None
    change = describe_change(proposal.kind, proposal.change, base)
    numbers = ", ".join(str(n) for n in proposal.statement_numbers)
    return {
        "kind": "deliberation",
        "summary": proposal.summary or f"{change}, ratified from deliberation '{row.name}' "
                                       f"(statement {numbers})",
        "details": {
            "deliberation": row.name, "question": row.question, "proposal": proposal.id,
            "change": change, "change_kind": proposal.kind, "item_id": proposal.change["id"],
            "base_spec_version": base.version, "base_spec_hash": base.hash,
            "drafted_by": proposal.drafted_by,
            "statements": [{"number": n, **proposal.tallies.get(str(n), {})}
                           for n in proposal.statement_numbers],
            "basis": proposal.basis},
        "ratified_by": by, "ratified_at": when}


def _claim(session: Session, proposal: DeliberationProposal) -> None:
    """Take the proposal's row for this transaction before anything is written, and read
    its status again: a concurrent ratification of it then waits (PostgreSQL) or fails
    here (SQLite, whose snapshot went stale), never after the spec files changed."""
    try:
        session.execute(update(DeliberationProposal)
                        .where(DeliberationProposal.id == proposal.id)
                        .values(status=DeliberationProposal.status)
                        .execution_options(synchronize_session=False))
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        raise ConflictError(f"proposal {proposal.id}: another writer changed the store while "
                            "this ratification started; nothing was written, ratify again"
                            ) from None
    session.refresh(proposal)
    if proposal.status != DRAFTED:
        raise AccordError(f"proposal {proposal.id} is {proposal.status}; only a drafted "
                          "proposal can be ratified (it was decided meanwhile)")


def ratify(session: Session, proposal: DeliberationProposal, *, by: str,
           spec_dir: str | Path | None = None) -> tuple[SpecVersion, Spec]:
    """Write a drafted proposal's change into the spec folder and register the new spec
    version in the store, both with provenance (deliberation, statements, tallies, who
    ratified, when).

    Raises:
        AccordError: not drafted, no ``by``, no spec folder, or the change would make the
            spec invalid (nothing is written then).
        ConflictError: another ratification changed the spec folder while this one waited
            for it (nothing is written; ratify again).
    """
    if proposal.status != DRAFTED or proposal.kind not in KINDS or proposal.change is None:
        raise AccordError(f"proposal {proposal.id} is {proposal.status}; only a drafted "
                          "proposal can be ratified (draft its spec change first)")
    if not by.strip():
        raise AccordError("say who ratifies (--by NAME)")
    _claim(session, proposal)
    row = session.get(Deliberation, proposal.deliberation_id)
    assert row is not None
    folder = spec_dir_of(row, spec_dir)
    seen = load_spec(folder).hash  # the spec as it was when this ratification began
    with spec_folder_lock(folder):
        base = load_spec(folder)
        retry = already_applied(base, row.name, proposal.id)
        if base.hash != seen and not retry:
            # Another ratification wrote the folder meanwhile: this change was decided
            # against a spec that is no longer there, so nothing is written.
            raise ConflictError(f"the spec folder {folder} changed while proposal "
                                f"{proposal.id} waited to be ratified (now version "
                                f"{base.version}); nothing was written. Check the change "
                                "against the new spec and ratify again")
        if retry:  # a retry after a failed commit
            spec = base
            record = next(r.model_dump(mode="json") for r in base.manifest.provenance
                          if r.details.get("proposal") == proposal.id
                          and r.details.get("deliberation") == row.name)
            base_hash = record["details"].get("base_spec_hash")
        else:
            when = utcnow().replace(microsecond=0).isoformat()
            record = provenance_record(row, proposal, base, by=by.strip(), when=when)
            spec = apply_change(folder, proposal.kind, proposal.change, record)
            base_hash = base.hash
        version = record_spec_version(session, hash=spec.hash, content=spec.content(),
                                      name=spec.manifest.name, provenance=[record])
        proposal.status = RATIFIED
        proposal.decided_by, proposal.decided_at = by.strip(), utcnow()
        proposal.base_spec_hash = base_hash
        proposal.spec_version_id = version.id
        session.flush()
    return version, spec
