"""Ratification: a drafted proposal's spec change written into the spec folder and
registered as a new spec version in the store, both with provenance (deliberation,
statements, tallies, who ratified, when)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from accord.errors import AccordError
from accord.spec import Spec, load_spec
from accord.store import SpecVersion, record_spec_version, utcnow

from ._config import config_of_row
from ._models import Deliberation, DeliberationProposal
from ._proposals import DRAFTED, RATIFIED
from ._spec_change import KINDS, already_applied, apply_change, describe_change

# One ratification at a time per process: two would race on the spec files.
_SPEC_LOCK = threading.Lock()


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


def ratify(session: Session, proposal: DeliberationProposal, *, by: str,
           spec_dir: str | Path | None = None) -> tuple[SpecVersion, Spec]:
    """Write a drafted proposal's change into the spec folder and register the new spec
    version in the store, both with provenance (deliberation, statements, tallies, who
    ratified, when).

    Raises:
        AccordError: not drafted, no ``by``, no spec folder, or the change would make the
            spec invalid (nothing is written then).
    """
    if proposal.status != DRAFTED or proposal.kind not in KINDS or proposal.change is None:
        raise AccordError(f"proposal {proposal.id} is {proposal.status}; only a drafted "
                          "proposal can be ratified (draft its spec change first)")
    if not by.strip():
        raise AccordError("say who ratifies (--by NAME)")
    row = session.get(Deliberation, proposal.deliberation_id)
    assert row is not None
    folder = spec_dir_of(row, spec_dir)
    with _SPEC_LOCK:
        base = load_spec(folder)
        if already_applied(base, row.name, proposal.id):  # a retry after a failed commit
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
