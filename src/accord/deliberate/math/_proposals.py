"""Which statements have support broad enough to be proposed for the spec: the thresholds
and ``propose_statements`` on an :class:`Analysis` (stored proposals: ``accord.deliberate``)."""

from __future__ import annotations

from dataclasses import dataclass

from ._results import Analysis, BridgingScore, Tally


@dataclass(frozen=True)
class RatificationThresholds:
    """What a statement must reach to be proposed.

    Attributes:
        min_group_agree: agree share (passes count as not agreeing) required in every
            opinion group.
        min_votes: votes the statement needs overall.
        min_group_votes: votes it needs within each group (a group that barely saw it
            cannot be said to agree).
        min_bridging: lower bound of the bridging intercept's 95 % interval, if set.
        min_group_informed_consensus: Polis's product over groups, if set.
        weighted: judge the overall agree share on post-stratified tallies.
        min_agree: overall agree share required.
    """

    min_group_agree: float = 0.7
    min_votes: int = 10
    min_group_votes: int = 3
    min_bridging: float | None = None
    min_group_informed_consensus: float | None = None
    weighted: bool = False
    min_agree: float = 0.0


@dataclass(frozen=True)
class Proposal:
    """A statement proposed for ratification, with the tallies that justify it."""

    statement_id: int
    text: str
    tally: Tally
    weighted_tally: Tally
    group_tallies: dict[int, Tally]
    group_informed_consensus: float
    bridging: BridgingScore | None


def propose_statements(analysis: Analysis,
                       thresholds: RatificationThresholds | None = None) -> list[Proposal]:
    """Statements passing every threshold, strongest group-informed consensus first.

    Moderated-out statements are never proposed. With no opinion groups (too few
    participants) the group conditions are vacuous and the overall ones decide.
    """
    t = thresholds or RatificationThresholds()
    out = []
    for s in analysis.statements:
        overall = s.weighted_tally if t.weighted else s.tally
        if s.moderated_out or s.tally.total < t.min_votes or overall.agree_share < t.min_agree:
            continue
        if any(g.total < t.min_group_votes or g.agree_share < t.min_group_agree
               for g in s.group_tallies.values()):
            continue
        if not s.group_tallies and overall.agree_share < t.min_group_agree:
            continue
        if t.min_bridging is not None and (s.bridging is None or s.bridging.low < t.min_bridging):
            continue
        if (t.min_group_informed_consensus is not None
                and s.group_informed_consensus < t.min_group_informed_consensus):
            continue
        out.append(Proposal(s.id, s.text, s.tally, s.weighted_tally, s.group_tallies,
                            s.group_informed_consensus, s.bridging))
    return sorted(out, key=lambda p: (-p.group_informed_consensus, p.statement_id))
