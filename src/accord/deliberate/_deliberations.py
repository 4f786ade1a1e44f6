"""Deliberations in the store: create, find, list, configure, and load one into the
in-memory :class:`~accord.deliberate.math.Conversation` the analysis runs on."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.errors import AccordError
from accord.store import ConflictError, NotFoundError

from ._config import DeliberationConfig, config_of_row, parse_config
from ._models import (
    ACCEPTED,
    META,
    REJECTED,
    UNMODERATED,
    Deliberation,
    DeliberationDemographics,
    DeliberationParticipant,
    DeliberationStatement,
    DeliberationVoteEvent,
)
from ._participation import add_statement
from ._text import text_problem
from .math import MOD_IN, MOD_NONE, MOD_OUT, Conversation, Participant, Statement, VoteLog

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def moderation_state(moderated: int, is_meta: bool) -> str:
    """The stored state for Polis's (moderated, is-meta): a meta statement is one moderated
    in and marked meta; one moderated out is rejected whatever its meta flag."""
    if moderated == MOD_OUT:
        return REJECTED
    if is_meta:
        return META
    return ACCEPTED if moderated == MOD_IN else UNMODERATED


def polis_moderation(state: str) -> tuple[int, bool]:
    """Polis's (moderated, is-meta) for a stored moderation state."""
    return {ACCEPTED: (MOD_IN, False), META: (MOD_IN, True), REJECTED: (MOD_OUT, False),
            UNMODERATED: (MOD_NONE, False)}[state]


def check_name(name: str) -> str:
    """A deliberation name as typed in URLs and commands.

    Raises:
        AccordError: not 1-100 letters, digits, ``.``, ``_`` or ``-`` (starting with a
            letter or digit).
    """
    if not NAME_PATTERN.fullmatch(name or ""):
        raise AccordError(f"deliberation name {name!r} is not allowed: use 1-100 letters, "
                          "digits, '.', '_' or '-', starting with a letter or digit")
    return name


def create_deliberation(session: Session, name: str, question: str, *, description: str = "",
                        config: DeliberationConfig | Mapping[str, Any] | None = None,
                        seed_statements: Iterable[str] = (), created_by: int | None = None
                        ) -> Deliberation:
    """A new, open deliberation with its seed statements (accepted, numbered from 0).

    Raises:
        AccordError: a bad name, an empty question, a bad config or statement.
        ConflictError: the name is taken.
    """
    check_name(name)
    if not question.strip():
        raise AccordError("the question is empty; say what participants deliberate on")
    for what, text in (("question", question), ("description", description)):
        problem = text_problem(text)
        if problem:
            raise AccordError(f"the {what} {problem}")
    cfg = config if isinstance(config, DeliberationConfig) else parse_config(config)
    check_name_free(session, name)
    row = add_named(session, Deliberation(
        name=name, question=question.strip(), description=description.strip(), url="",
        views=None, config=cfg.model_dump(mode="json"), created_by=created_by))
    for text in seed_statements:
        if text.strip():
            add_statement(session, row, text, author=None, seed=True)
    return row


def check_name_free(session: Session, name: str) -> None:
    """Raises ConflictError when a deliberation is already called ``name``."""
    if session.scalars(select(Deliberation.id).where(Deliberation.name == name)).first():
        raise ConflictError(f"a deliberation named {name!r} already exists; choose another "
                            "name (accord deliberate import DIR --name NAME)")


def add_named(session: Session, row: Deliberation) -> Deliberation:
    """Insert, turning a name taken meanwhile (by a concurrent writer) into ConflictError."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise ConflictError(f"a deliberation named {row.name!r} already exists (it may have "
                            "been created meanwhile); choose another name (accord deliberate "
                            "import DIR --name NAME)") from None
    return row


def get_deliberation(session: Session, name: str) -> Deliberation:
    """The deliberation called ``name``.

    Raises:
        NotFoundError: none; the message lists the names there are.
    """
    row = session.scalars(select(Deliberation).where(Deliberation.name == name)).one_or_none()
    if row is None:
        known = session.scalars(select(Deliberation.name).order_by(Deliberation.name)).all()
        raise NotFoundError(f"no deliberation named {name!r}; known: "
                            f"{', '.join(known) or 'none (import or create one first)'}")
    return row


def list_deliberations(session: Session) -> list[Deliberation]:
    """Every deliberation, newest first."""
    return list(session.scalars(select(Deliberation).order_by(Deliberation.id.desc())))


def set_config(session: Session, row: Deliberation, config: DeliberationConfig) -> None:
    """Replace the deliberation's settings (validated); what an import recorded about its
    source stays unless ``config`` brings its own."""
    if config.source is None and (row.config or {}).get("source") is not None:
        config = config.model_copy(update={"source": config_of_row(row).source})
    row.config = config.model_dump(mode="json")
    session.flush()


def load_conversation(session: Session, row: Deliberation, *,
                      with_demographics: bool = True) -> Conversation:
    """The deliberation as the in-memory model the analysis runs on: every statement, every
    participant, the full vote history in the order received, and (unless told not to)
    the participants' opt-in demographics for raking."""
    statements = {}
    for s in session.scalars(select(DeliberationStatement).where(
            DeliberationStatement.deliberation_id == row.id)):
        moderated, meta = polis_moderation(s.moderation)
        statements[s.number] = Statement(s.number, s.text, s.author_number, s.created_ms,
                                         moderated, meta)
    demo: dict[int, dict[str, str]] = {}
    if with_demographics:
        query = (select(DeliberationDemographics.participant_id, DeliberationDemographics.answers)
                 .join(DeliberationParticipant,
                       DeliberationParticipant.id == DeliberationDemographics.participant_id)
                 .where(DeliberationParticipant.deliberation_id == row.id))
        demo = {pid: dict(answers) for pid, answers in session.execute(query)}
    xids = dict(((row.config or {}).get("source") or {}).get("xids") or {})
    participants = {}
    for p in session.scalars(select(DeliberationParticipant).where(
            DeliberationParticipant.deliberation_id == row.id)):
        participants[p.number] = Participant(p.number, p.source_group, demo.get(p.id, {}),
                                             p.token or p.token_hash, xids.get(str(p.number)))
    P, S, E = DeliberationParticipant, DeliberationStatement, DeliberationVoteEvent
    query = (select(P.number, S.number, E.value, E.timestamp_ms)
             .join(P, P.id == E.participant_id).join(S, S.id == E.statement_id)
             .where(E.deliberation_id == row.id).order_by(E.id))
    rows = session.execute(query).all()
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    votes = VoteLog(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
    return Conversation(topic=row.question, description=row.description, url=row.url,
                        views=row.views, statements=statements, participants=participants,
                        votes=votes)
