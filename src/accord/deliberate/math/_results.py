"""The typed result of :func:`analyze`: every number says what it is."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._bulk import BulkVotingReport
from ._raking import RakingResult
from ._repness import ConsensusStatement, RepresentativeStatement


@dataclass(frozen=True)
class Tally:
    """Votes on one statement (weighted sums when in a weighted context)."""

    agree: float
    disagree: float
    passed: float

    @property
    def total(self) -> float:
        return self.agree + self.disagree + self.passed

    @property
    def agree_share(self) -> float:
        """Agrees among all who voted (passes count as not agreeing); 0 without votes."""
        return self.agree / self.total if self.total else 0.0


@dataclass(frozen=True)
class BridgingScore:
    """A statement's bridging support (see ``_bridging.py``).

    Attributes:
        intercept: support not explained by the main axis of disagreement (agree
            probability units, relative to the global mean ``mu`` of the fit).
        std_error: its standard error; ``low``/``high``: intercept ∓ 1.96 std_error.
        factor: the statement's position on the axis of disagreement.
        n_ratings: agree/disagree votes the fit used.
    """

    intercept: float
    std_error: float
    factor: float
    n_ratings: int

    @property
    def low(self) -> float:
        return self.intercept - 1.96 * self.std_error

    @property
    def high(self) -> float:
        return self.intercept + 1.96 * self.std_error


@dataclass(frozen=True)
class ParticipantResult:
    """One participant.

    Attributes:
        id: as in the source data.
        group: opinion group id, or None when not in the clustering (too few votes,
            or excluded as bulk voting).
        x, y: position in the 2-D opinion map (sparsity-scaled PCA projection).
        n_votes: statements voted on (latest vote each).
        weight: post-stratification weight (1 when unweighted).
        bulk_flags: bulk-voting reasons, empty for ordinary participants.
    """

    id: int
    group: int | None
    x: float
    y: float
    n_votes: int
    weight: float = 1.0
    bulk_flags: tuple[str, ...] = ()


@dataclass
class ParticipantTable:
    """All participants, column by column (a million objects would cost seconds).

    Iterating yields :class:`ParticipantResult`; ``group`` is −1 where a participant is
    in no group.
    """

    ids: np.ndarray
    group: np.ndarray
    x: np.ndarray
    y: np.ndarray
    n_votes: np.ndarray
    weight: np.ndarray
    bulk_flags: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[ParticipantResult]:
        for i in range(len(self.ids)):
            yield self[i]

    def __getitem__(self, i: int) -> ParticipantResult:
        pid = int(self.ids[i])
        g = int(self.group[i])
        return ParticipantResult(pid, g if g >= 0 else None, float(self.x[i]),
                                 float(self.y[i]), int(self.n_votes[i]), float(self.weight[i]),
                                 self.bulk_flags.get(pid, ()))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.ids.tolist(),
                "group": [g if g >= 0 else None for g in self.group.tolist()],
                "x": self.x.tolist(), "y": self.y.tolist(), "n_votes": self.n_votes.tolist(),
                "weight": self.weight.tolist(),
                "bulk_flags": {str(k): list(v) for k, v in sorted(self.bulk_flags.items())}}


@dataclass(frozen=True)
class OpinionGroup:
    """One opinion group.

    Attributes:
        id: 0…k−1.
        participant_ids: members, ids as in the source data.
        center: mean position of the members in the opinion map.
        representative: statements that set the group apart, best first (Polis's
            selection: agreements before disagreements).
    """

    id: int
    participant_ids: tuple[int, ...]
    center: tuple[float, float]
    representative: tuple[RepresentativeStatement, ...]


@dataclass(frozen=True)
class StatementResult:
    """Everything about one statement.

    Attributes:
        id, text: as in the source data.
        moderated_out: excluded from the math (still tallied here).
        tally: all participants' latest votes; weighted_tally: the same, post-stratified.
        group_tallies: group id -> tally within the group.
        group_informed_consensus: product over groups of (agree+1)/(votes+2) (Polis);
            group_informed_dissensus: the same for disagree.
        bridging: the bridging score, None when bridging was not computed.
        x, y: the statement's place in the opinion map.
    """

    id: int
    text: str
    moderated_out: bool
    tally: Tally
    weighted_tally: Tally
    group_tallies: dict[int, Tally]
    group_informed_consensus: float
    group_informed_dissensus: float
    bridging: BridgingScore | None
    x: float
    y: float


@dataclass
class Analysis:
    """The result of analysing a conversation.

    Attributes:
        participants: every participant who voted, ids as in the source data (a
            column table; iterate it for :class:`ParticipantResult` records).
        groups: the opinion groups.
        statements: every statement that received a vote.
        consensus: Polis's consensus statements ({"agree": [...], "disagree": [...]}),
            unweighted; weighted_consensus: the same on post-stratified counts.
        silhouettes: k -> silhouette of the clustering into k groups (final update).
        best_k: the k with the best silhouette now; the groups use the k-smoothed value.
        bulk: participants flagged as bulk voting; excluded_bulk: whether they were left
            out of the analysis.
        raking: the raking outcome when demographic targets were given.
        method: ``"replay"`` (history replayed in ``n_updates`` updates), ``"single"``, or
            the name of another grouping (e.g. ``"SparsePCA+PolisKMeans"``).
        seed: the seed used; the same seed gives the same Analysis.
    """

    participants: ParticipantTable
    groups: list[OpinionGroup]
    statements: list[StatementResult]
    consensus: dict[str, list[ConsensusStatement]]
    weighted_consensus: dict[str, list[ConsensusStatement]]
    silhouettes: dict[int, float]
    best_k: int
    bulk: BulkVotingReport
    excluded_bulk: bool
    raking: RakingResult | None
    method: str
    n_updates: int
    seed: int
    _by_id: dict[int, StatementResult] = field(default_factory=dict, repr=False)

    def statement(self, statement_id: int) -> StatementResult:
        if not self._by_id:
            self._by_id = {s.id: s for s in self.statements}
        return self._by_id[statement_id]

    def group_of(self) -> dict[int, int]:
        """Participant id -> group id, for participants in a group."""
        t = self.participants
        keep = t.group >= 0
        return dict(zip(t.ids[keep].tolist(), t.group[keep].tolist(), strict=True))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (lists, dicts, numbers, strings)."""
        out = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)
               if not f.name.startswith("_")}
        for s, d in zip(self.statements, out["statements"], strict=True):
            d["tally"]["agree_share"] = s.tally.agree_share
            d["weighted_tally"]["agree_share"] = s.weighted_tally.agree_share
        return out


def _plain(x: Any) -> Any:
    if isinstance(x, ParticipantTable):
        return x.to_dict()
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {(k if isinstance(k, str) else str(k)): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple | set):
        return [_plain(v) for v in (sorted(x) if isinstance(x, set) else x)]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x
