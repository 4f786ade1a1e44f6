"""Building stored deliberations for the store, CLI and page tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.deliberate import (
    Deliberation,
    DeliberationDemographics,
    DeliberationParticipant,
    DeliberationProposal,
    DeliberationStatement,
    DeliberationVote,
    DeliberationVoteEvent,
    cast_vote,
    create_deliberation,
)
from accord.store import Store

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"
TABLES = (Deliberation, DeliberationParticipant, DeliberationStatement, DeliberationVote,
          DeliberationVoteEvent, DeliberationDemographics, DeliberationProposal)
# Statement 0 everyone agrees with; 1 and 3 one camp agrees with, 2 and 4 the other.
SEEDS = ["The assistant should present the main views fairly on contested topics.",
         "The assistant should take the progressive side by default.",
         "The assistant should take the conservative side by default.",
         "Refusing to discuss politics is better than getting it wrong.",
         "Users should never be able to choose a political perspective."]


def copy_spec(folder: Path) -> Path:
    """A writable copy of the demo spec."""
    shutil.copytree(DEMO_SPEC, folder)
    return folder


def add_participants(session: Session, row: Deliberation, n: int) -> list[DeliberationParticipant]:
    """``n`` participants as an import would add them (no account, no token)."""
    start = session.scalar(select(func.max(DeliberationParticipant.number)).where(
        DeliberationParticipant.deliberation_id == row.id)) or 0
    made = [DeliberationParticipant(deliberation_id=row.id, number=start + i + 1)
            for i in range(n)]
    session.add_all(made)
    session.flush()
    return made


def two_camp_deliberation(session: Session, name: str = "contested", *, n: int = 24,
              config: dict[str, Any] | None = None) -> Deliberation:
    """A deliberation where two camps split on statements 1-4 and all agree on 0."""
    row = create_deliberation(session, name, "How should the assistant handle contested "
                              "political topics by default?", config=config or {},
                              seed_statements=SEEDS)
    for i, p in enumerate(add_participants(session, row, n)):
        camp = i % 2
        cast_vote(session, row, p, 0, "agree" if i % 7 else "pass")
        for number in range(1, 5):
            cast_vote(session, row, p, number, "agree" if number % 2 == camp else "disagree")
    return row


def row_counts(store: Store) -> dict[str, int]:
    """Rows in every deliberation table."""
    with store.session() as session:
        return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
                for t in TABLES}
