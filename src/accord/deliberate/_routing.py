"""Which statement a participant sees next: Polis's routing priorities, drawn at random
in proportion (seeded per participant and progress, so a reload shows the same one)."""

from __future__ import annotations

import random
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._models import META, Deliberation, DeliberationParticipant, DeliberationStatement
from ._participation import VOTABLE, vote_counts, voted_numbers

# Polis shows meta statements (about the process) early with this fixed importance.
META_PRIORITY = 7.0


def priority(agree: int, passed: int, seen: int, extremity: float, is_meta: bool) -> float:
    """Polis's routing priority for one statement (``comment-priorities``).

    Importance ``(1 - p)·(E + 1)·a`` with ``p = (P+1)/(S+2)`` (pass share), ``a =
    (A+1)/(S+2)`` (agree share) and ``E`` the statement's extremity in the opinion map,
    boosted by ``1 + 8·2^(-S/5)`` while few have seen it, then squared.
    """
    if is_meta:
        return META_PRIORITY ** 2
    p = (passed + 1) / (seen + 2)
    a = (agree + 1) / (seen + 2)
    return ((1 - p) * (extremity + 1) * a * (1 + 8 * 2 ** (-seen / 5))) ** 2


def next_statement(session: Session, row: Deliberation,
                   participant: DeliberationParticipant | None,
                   extremity: Mapping[int, float] | None = None
                   ) -> tuple[DeliberationStatement | None, int, int]:
    """The statement to show next, drawn with probability proportional to its
    :func:`priority` among those the participant has not voted on.

    Returns:
        (statement or None when none is left, statements voted on, statements open).
    """
    votable = list(session.scalars(select(DeliberationStatement).where(
        DeliberationStatement.deliberation_id == row.id,
        DeliberationStatement.moderation.in_(VOTABLE)).order_by(DeliberationStatement.number)))
    done = voted_numbers(session, participant)
    left = [s for s in votable if s.number not in done]
    n_done = len(votable) - len(left)
    if not left:
        return None, n_done, len(votable)
    counts = vote_counts(session, row)
    weights = []
    for s in left:
        a, d, p = counts.get(s.number, (0, 0, 0))
        weights.append(priority(a, p, a + d + p, (extremity or {}).get(s.number, 0.0),
                                s.moderation == META))
    who = participant.id if participant else "new"
    rng = random.Random(f"{row.id}:{who}:{n_done}")
    return rng.choices(left, weights=weights, k=1)[0], n_done, len(votable)
