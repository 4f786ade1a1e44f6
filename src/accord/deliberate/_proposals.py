"""From agreement to the spec: proposals (statements passing the thresholds, with their
tallies), drafts (the spec change an admin writes for one), ratification (a new spec
version with provenance, in the spec folder and in the store) and rejection."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.errors import AccordError
from accord.spec import Spec, load_spec
from accord.store import NotFoundError, SpecVersion, record_spec_version, utcnow

from ._config import config_of_row
from ._models import Deliberation, DeliberationProposal
from ._ratify import propose_statements
from ._results import StatementResult, Tally
from ._spec_change import (
    KINDS,
    already_applied,
    apply_change,
    check_change,
    describe_change,
)
from ._stored import analyze_deliberation

PROPOSED, DRAFTED, RATIFIED, REJECTED = "proposed", "drafted", "ratified", "rejected"
# One ratification at a time per process: two would race on the spec files.
_SPEC_LOCK = threading.Lock()


def _count(x: float) -> float | int:
    """Counts as integers; weighted sums rounded."""
    return int(x) if float(x).is_integer() else round(float(x), 6)


def _tally(t: Tally) -> dict[str, float | int]:
    return {"agree": _count(t.agree), "disagree": _count(t.disagree),
            "pass": _count(t.passed), "agree_share": round(t.agree_share, 6)}


def statement_tallies(s: StatementResult) -> dict[str, Any]:
    """What a proposal records about one statement: tallies overall, weighted and per
    group, group-informed consensus and the bridging score."""
    b = s.bridging
    return {"text": s.text, "tally": _tally(s.tally), "weighted_tally": _tally(s.weighted_tally),
            "groups": {str(g): _tally(t) for g, t in s.group_tallies.items()},
            "group_informed_consensus": round(s.group_informed_consensus, 6),
            "bridging": None if b is None else {
                "intercept": round(b.intercept, 6), "std_error": round(b.std_error, 6),
                "low": round(b.low, 6), "high": round(b.high, 6)}}


def propose(session: Session, row: Deliberation) -> list[DeliberationProposal]:
    """Record a proposal for each statement that passes the deliberation's thresholds and
    is not in a proposal yet.

    Returns:
        The new proposals (possibly none).

    Raises:
        AccordError: no votes yet.
    """
    cfg = config_of_row(row)
    stored = analyze_deliberation(session, row)
    analysis = stored.analysis
    taken = {n for p in list_proposals(session, row) for n in p.statement_numbers}
    basis = {"thresholds": cfg.thresholds.model_dump(mode="json"), "seed": analysis.seed,
             "method": analysis.method, "updates": analysis.n_updates,
             "participants": len(analysis.participants), "groups": len(analysis.groups),
             "votes": len(stored.conversation.votes), "fingerprint": stored.fingerprint,
             "weighting_note": stored.weighting_note}
    new = []
    for p in propose_statements(analysis, cfg.thresholds.thresholds()):
        if p.statement_id in taken:
            continue
        row_ = DeliberationProposal(
            deliberation_id=row.id, status=PROPOSED, statement_numbers=[p.statement_id],
            tallies={str(p.statement_id): statement_tallies(analysis.statement(p.statement_id))},
            basis=basis)
        session.add(row_)
        new.append(row_)
    session.flush()
    return new


def list_proposals(session: Session, row: Deliberation) -> list[DeliberationProposal]:
    """The deliberation's proposals, oldest first."""
    return list(session.scalars(select(DeliberationProposal).where(
        DeliberationProposal.deliberation_id == row.id).order_by(DeliberationProposal.id)))


def get_proposal(session: Session, proposal_id: int) -> DeliberationProposal:
    """Proposal ``proposal_id``.

    Raises:
        NotFoundError: none with that id.
    """
    found = session.get(DeliberationProposal, proposal_id)
    if found is None:
        raise NotFoundError(f"no proposal {proposal_id}; list them with "
                            "`accord deliberate proposals NAME`")
    return found


def _open(proposal: DeliberationProposal) -> None:
    if proposal.status in (RATIFIED, REJECTED):
        raise AccordError(f"proposal {proposal.id} is already {proposal.status}")


def draft(session: Session, proposal: DeliberationProposal, kind: str, item: Any, *, by: str,
          summary: str = "") -> DeliberationProposal:
    """Write the spec change a proposal supports (replacing an earlier draft).

    Raises:
        AccordError: the proposal is ratified or rejected, ``by`` is empty, or the item is
            malformed for its kind (each field named).
    """
    _open(proposal)
    if not by.strip():
        raise AccordError("say who drafts the change (--by NAME)")
    proposal.change = check_change(kind, item)
    proposal.kind = kind
    proposal.summary = summary.strip()
    proposal.status = DRAFTED
    proposal.drafted_by, proposal.drafted_at = by.strip(), utcnow()
    session.flush()
    return proposal


def reject(session: Session, proposal: DeliberationProposal, *, by: str) -> DeliberationProposal:
    """Decide not to turn a proposal into a spec change."""
    _open(proposal)
    if not by.strip():
        raise AccordError("say who rejects the proposal (--by NAME)")
    proposal.status = REJECTED
    proposal.decided_by, proposal.decided_at = by.strip(), utcnow()
    session.flush()
    return proposal


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
