"""Proposals: statements whose support passes the deliberation's thresholds, recorded with
their tallies (``propose``), then drafted into the spec change each supports (``draft``) or
rejected (``reject``). Ratifying a drafted one is in ``_ratification.py``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.errors import AccordError
from accord.store import NotFoundError, utcnow

from ._config import config_of_row
from ._models import Deliberation, DeliberationProposal
from ._spec_change import check_change
from ._stored_analysis import analyze_deliberation
from .math import StatementResult, Tally, propose_statements

PROPOSED, DRAFTED, RATIFIED, REJECTED = "proposed", "drafted", "ratified", "rejected"


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
    meta = stored.conversation.meta_statements()
    new = []
    for p in propose_statements(analysis, cfg.thresholds.thresholds()):
        if p.statement_id in taken or p.statement_id in meta:  # meta: about the process
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
