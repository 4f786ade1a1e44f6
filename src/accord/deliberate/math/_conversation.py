"""The deliberation data model: a conversation's statements, participants and vote history.

Plain dataclasses so that a store layer can persist them field by field. The vote history
is columnar (:class:`VoteLog`, four parallel numpy arrays) because real conversations reach
millions of votes and one Python object per vote would cost gigabytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from accord.errors import AccordError

AGREE, PASS, DISAGREE = 1, 0, -1

# Polis's moderation states: accepted, not yet moderated, moderated out of the analysis.
MOD_IN, MOD_NONE, MOD_OUT = 1, 0, -1


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement (a Polis "comment") participants vote on.

    Attributes:
        id: the statement id as in the source data (Polis ``comment-id``).
        text: the statement as shown to participants.
        author_id: the participant who wrote it, when known.
        created_ms: creation time, milliseconds since the Unix epoch.
        moderated: 1 accepted, 0 not moderated, -1 moderated out (excluded from the math).
        is_meta: a statement about the process itself; never representative or consensus.
    """

    id: int
    text: str
    author_id: int | None = None
    created_ms: int | None = None
    moderated: int = MOD_NONE
    is_meta: bool = False


@dataclass(frozen=True, slots=True)
class Participant:
    """One participant, identified as in the source data.

    Attributes:
        id: the participant id (Polis ``participant`` / ``voter-id``).
        source_group: the opinion group the source system gave them (Polis's ``group-id``),
            kept for comparison; Accord's own groups are in the analysis.
        demographics: opt-in answers (variable -> category) used for post-stratification.
        token: the session/invite token the votes came through, when known; bulk-voting
            detection pools bursts across participants sharing one token.
        xid: the external id the source system knew them by (Polis ``xid``), when any.
    """

    id: int
    source_group: int | None = None
    demographics: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    xid: str | None = None


@dataclass(frozen=True, slots=True)
class Vote:
    """One vote event: ``value`` is 1 agree, -1 disagree, 0 pass."""

    voter_id: int
    statement_id: int
    value: int
    timestamp_ms: int


@dataclass
class VoteLog:
    """The full vote history, columnar; a voter may vote several times on one statement.

    The latest vote (largest timestamp; among equal timestamps the later row) is the one
    that counts, as in Polis.
    """

    voter_ids: np.ndarray
    statement_ids: np.ndarray
    values: np.ndarray
    timestamps_ms: np.ndarray

    def __post_init__(self) -> None:
        self.voter_ids = np.ascontiguousarray(self.voter_ids, dtype=np.int64)
        self.statement_ids = np.ascontiguousarray(self.statement_ids, dtype=np.int64)
        self.values = np.ascontiguousarray(self.values, dtype=np.int8)
        self.timestamps_ms = np.ascontiguousarray(self.timestamps_ms, dtype=np.int64)
        n = len(self.voter_ids)
        if not (len(self.statement_ids) == len(self.values) == len(self.timestamps_ms) == n):
            raise AccordError("VoteLog: voter_ids, statement_ids, values and timestamps_ms "
                              "must have the same length")
        bad = np.flatnonzero((self.values < -1) | (self.values > 1))
        if bad.size:
            raise AccordError(f"VoteLog: vote {bad[0]} has value {self.values[bad[0]]}; "
                              "allowed are 1 (agree), -1 (disagree), 0 (pass)")

    @classmethod
    def from_votes(cls, votes: list[Vote]) -> VoteLog:
        return cls(np.array([v.voter_id for v in votes], dtype=np.int64),
                   np.array([v.statement_id for v in votes], dtype=np.int64),
                   np.array([v.value for v in votes], dtype=np.int8),
                   np.array([v.timestamp_ms for v in votes], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.voter_ids)

    def __iter__(self) -> Iterator[Vote]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, i: int) -> Vote:
        return Vote(int(self.voter_ids[i]), int(self.statement_ids[i]), int(self.values[i]),
                    int(self.timestamps_ms[i]))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VoteLog):
            return NotImplemented
        return all(np.array_equal(getattr(self, k), getattr(other, k))
                   for k in ("voter_ids", "statement_ids", "values", "timestamps_ms"))

    def chronological(self) -> np.ndarray:
        """Row order by time, stable so that equal timestamps keep file order."""
        cached = self.__dict__.get("_chrono")
        if cached is None or len(cached) != len(self.timestamps_ms):
            cached = np.argsort(self.timestamps_ms, kind="stable")
            self.__dict__["_chrono"] = cached
        return cached

    def latest(self) -> VoteLog:
        """One vote per (voter, statement): the latest, in chronological order."""
        order = self.chronological()
        v, s = self.voter_ids[order], self.statement_ids[order]
        s_rank = np.unique(s, return_inverse=True)[1]
        key = v * (int(s_rank.max(initial=0)) + 1) + s_rank
        # A stable sort groups each pair's votes while keeping them in time order, so
        # the last of each run is the latest vote.
        perm = np.argsort(key, kind="stable")
        k = key[perm]
        last = np.ones(len(k), dtype=bool)
        last[:-1] = k[1:] != k[:-1]
        idx = order[np.sort(perm[last])]
        return VoteLog(self.voter_ids[idx], self.statement_ids[idx], self.values[idx],
                       self.timestamps_ms[idx])


@dataclass
class Conversation:
    """A deliberation: what was asked, the statements, the participants and every vote.

    Attributes:
        topic: the question put to participants.
        description: longer framing shown with the topic.
        url: where the conversation ran, if anywhere.
        views: how many times it was viewed, when known (Polis ``summary.csv``).
        statements: by id.
        participants: by id; every voter has an entry (``analyze`` adds missing ones).
        votes: the full vote history.
    """

    topic: str = ""
    description: str = ""
    url: str = ""
    views: int | None = None
    statements: dict[int, Statement] = field(default_factory=dict)
    participants: dict[int, Participant] = field(default_factory=dict)
    votes: VoteLog = field(default_factory=lambda: VoteLog.from_votes([]))

    def moderated_out(self) -> set[int]:
        """Ids of statements excluded from the math (moderated out)."""
        return {s.id for s in self.statements.values() if s.moderated == MOD_OUT}

    def meta_statements(self) -> set[int]:
        return {s.id for s in self.statements.values() if s.is_meta}
