"""Taking part: participants, submitted statements, moderation, votes and their tallies,
opt-in demographics (which statement to show next is in ``_routing.py``).

Every function writes in the caller's session; the web app commits once per request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.errors import AccordError
from accord.store import NotFoundError, utcnow

from ._config import config_of_row
from ._models import (
    ACCEPTED,
    META,
    MODERATION_STATES,
    UNMODERATED,
    Deliberation,
    DeliberationDemographics,
    DeliberationParticipant,
    DeliberationStatement,
    DeliberationVote,
    DeliberationVoteEvent,
)
from ._text import text_problem

VOTES = {"agree": 1, "disagree": -1, "pass": 0}
VOTABLE = (ACCEPTED, META)
DEMOGRAPHICS_CONSENT = (
    "I choose to share these answers. They are stored in their own table, are never shown "
    "or exported one by one (not even to administrators), and are used only to weight the "
    "results so that they better represent the population; only totals, with small groups "
    "hidden, are published. I can withdraw at any time, which deletes my answers."
)


class ParticipationError(AccordError):
    """A vote, statement, moderation or demographic answer that cannot be accepted."""


def _now_ms() -> int:
    return int(utcnow().timestamp() * 1000)


def token_hash(row: Deliberation, token: str) -> str:
    """What is stored for an anonymous browser's token: salted per deliberation."""
    return hashlib.sha256(f"{row.id}:{token}".encode()).hexdigest()


def find_participant(session: Session, row: Deliberation, *, user_id: int | None = None,
                     token: str | None = None) -> DeliberationParticipant | None:
    """The participant for an account (``user_id``) or an anonymous ``token``, if any."""
    query = select(DeliberationParticipant).where(
        DeliberationParticipant.deliberation_id == row.id)
    if user_id is not None:
        query = query.where(DeliberationParticipant.user_id == user_id)
    elif token:
        query = query.where(DeliberationParticipant.token_hash == token_hash(row, token))
    else:
        return None
    return session.scalars(query).one_or_none()


def join(session: Session, row: Deliberation, *, user_id: int | None = None,
         token: str | None = None) -> DeliberationParticipant:
    """The participant for this account or token, created on first use.

    Raises:
        ParticipationError: neither given, or the wrong one for the deliberation's mode.
    """
    mode = config_of_row(row).participation
    if mode == "accounts" and user_id is None:
        raise ParticipationError(f"deliberation {row.name!r} is for signed-in participants; "
                                 "sign in first")
    if user_id is None and not token:
        raise ParticipationError("no participant token; enable cookies and reload the page")
    found = find_participant(session, row, user_id=user_id, token=token)
    if found is not None:
        return found
    for _ in range(5):  # another request may take the same number: take the next one
        number = (session.scalar(select(func.max(DeliberationParticipant.number)).where(
            DeliberationParticipant.deliberation_id == row.id)) or 0) + 1
        new = DeliberationParticipant(
            deliberation_id=row.id, number=number, user_id=user_id,
            token_hash=token_hash(row, token) if user_id is None and token else None)
        try:
            with session.begin_nested():
                session.add(new)
            return new
        except IntegrityError:
            found = find_participant(session, row, user_id=user_id, token=token)
            if found is not None:
                return found
    raise ParticipationError("too many people joined at once; try again")


def add_statement(session: Session, row: Deliberation, text: str, *,
                  author: DeliberationParticipant | None, seed: bool = False,
                  moderation: str | None = None) -> DeliberationStatement:
    """Add a statement: seeds are accepted at once, participants' wait for moderation.

    Raises:
        ParticipationError: empty, too long, a duplicate, holding a NUL or a bidirectional
            control character, or the deliberation is closed.
    """
    problem = text_problem(text)
    if problem:
        raise ParticipationError(f"the statement {problem}")
    clean = " ".join(text.split())
    limit = config_of_row(row).max_statement_length
    if not clean:
        raise ParticipationError("the statement is empty; write one sentence to vote on")
    if len(clean) > limit:
        raise ParticipationError(f"the statement has {len(clean)} characters; at most "
                                 f"{limit} are allowed")
    if not row.is_open and not seed:
        raise ParticipationError(f"deliberation {row.name!r} is closed")
    same = session.scalars(select(DeliberationStatement.number).where(
        DeliberationStatement.deliberation_id == row.id,
        func.lower(DeliberationStatement.text) == clean.lower())).first()
    if same is not None:
        raise ParticipationError(f"this statement is already there (statement {same}); "
                                 "vote on it instead")
    state = moderation or (ACCEPTED if seed else UNMODERATED)
    if state not in MODERATION_STATES:
        raise ParticipationError(f"moderation {state!r} is not one of "
                                 f"{', '.join(MODERATION_STATES)}")
    number = (session.scalar(select(func.max(DeliberationStatement.number)).where(
        DeliberationStatement.deliberation_id == row.id)))
    statement = DeliberationStatement(
        deliberation_id=row.id, number=0 if number is None else number + 1, text=clean,
        moderation=state, is_seed=seed, author_number=author.number if author else None,
        created_ms=_now_ms())
    session.add(statement)
    session.flush()
    return statement


def get_statement(session: Session, row: Deliberation, number: int) -> DeliberationStatement:
    """Statement ``number`` of the deliberation.

    Raises:
        NotFoundError: no such statement.
    """
    found = session.scalars(select(DeliberationStatement).where(
        DeliberationStatement.deliberation_id == row.id,
        DeliberationStatement.number == number)).one_or_none()
    if found is None:
        raise NotFoundError(f"deliberation {row.name!r} has no statement {number}")
    return found


def moderate(session: Session, row: Deliberation, number: int, state: str,
             user_id: int | None = None) -> DeliberationStatement:
    """Set a statement's moderation state (accepted, rejected, meta, unmoderated).

    Raises:
        ParticipationError: an unknown state. NotFoundError: no such statement.
    """
    if state not in MODERATION_STATES:
        raise ParticipationError(f"moderation {state!r} is not one of "
                                 f"{', '.join(MODERATION_STATES)}")
    statement = get_statement(session, row, number)
    statement.moderation = state
    statement.moderated_by = user_id
    statement.moderated_at = utcnow()
    session.flush()
    return statement


def cast_vote(session: Session, row: Deliberation, participant: DeliberationParticipant,
              number: int, vote: str | int) -> DeliberationVote:
    """Record a vote: appended to the history, and the current vote for the pair replaced.

    Raises:
        ParticipationError: not agree/disagree/pass, a statement not open to votes, or a
            closed deliberation. NotFoundError: no such statement.
    """
    value = VOTES.get(vote) if isinstance(vote, str) else vote
    if value not in (-1, 0, 1):
        raise ParticipationError(f"vote {vote!r} is not one of agree, disagree, pass")
    if not row.is_open:
        raise ParticipationError(f"deliberation {row.name!r} is closed")
    statement = get_statement(session, row, number)
    if statement.moderation not in VOTABLE:
        raise ParticipationError(f"statement {number} is {statement.moderation}; only "
                                 "accepted statements take votes")
    current = session.get(DeliberationVote, (participant.id, statement.id))
    # Never earlier than the vote it replaces, so "latest timestamp wins" agrees with the
    # order received even if the clock steps back.
    stamp = max(_now_ms(), current.timestamp_ms if current else 0)
    session.add(DeliberationVoteEvent(deliberation_id=row.id, participant_id=participant.id,
                                      statement_id=statement.id, value=value,
                                      timestamp_ms=stamp))
    if current is None:
        current = DeliberationVote(participant_id=participant.id, statement_id=statement.id,
                                   deliberation_id=row.id, value=value, timestamp_ms=stamp)
        session.add(current)
    else:
        current.value, current.timestamp_ms = value, stamp
    session.flush()
    return current


def voted_numbers(session: Session, participant: DeliberationParticipant | None) -> set[int]:
    """Statement numbers the participant has a current vote on."""
    if participant is None:
        return set()
    query = (select(DeliberationStatement.number)
             .join(DeliberationVote, DeliberationVote.statement_id == DeliberationStatement.id)
             .where(DeliberationVote.participant_id == participant.id))
    return set(session.scalars(query))


def vote_counts(session: Session, row: Deliberation) -> dict[int, tuple[int, int, int]]:
    """Statement number -> (agree, disagree, pass) over current votes."""
    S, V = DeliberationStatement, DeliberationVote
    query = (select(S.number, V.value, func.count()).join(V, V.statement_id == S.id)
             .where(S.deliberation_id == row.id).group_by(S.number, V.value))
    counts: dict[int, list[int]] = {}
    for number, value, n in session.execute(query):
        counts.setdefault(number, [0, 0, 0])[{1: 0, -1: 1, 0: 2}[value]] += n
    return {k: (a, d, p) for k, (a, d, p) in counts.items()}


def record_demographics(session: Session, row: Deliberation,
                        participant: DeliberationParticipant, answers: Mapping[str, str], *,
                        consent: bool) -> None:
    """Store (or replace) a participant's opt-in answers to the deliberation's variables.

    Raises:
        ParticipationError: no consent, an unknown variable, or an answer not offered.
    """
    if not consent:
        raise ParticipationError("your answers are stored only with your consent; tick the "
                                 "consent box")
    targets = config_of_row(row).demographic_targets
    unknown = sorted(set(answers) - set(targets))
    if unknown:
        raise ParticipationError(f"unknown questions {unknown}; allowed: "
                                 f"{', '.join(targets) or 'none'}")
    clean = {}
    for variable, shares in targets.items():
        value = (answers.get(variable) or "").strip()
        if value and value not in shares:
            raise ParticipationError(f"{variable}: {value!r} is not offered; choose one of: "
                                     f"{', '.join(shares)}")
        if value:
            clean[variable] = value
    withdraw_demographics(session, participant)
    session.add(DeliberationDemographics(participant_id=participant.id, answers=clean,
                                         consent_text=DEMOGRAPHICS_CONSENT,
                                         consented_on=utcnow().date().isoformat()))
    session.flush()


def withdraw_demographics(session: Session, participant: DeliberationParticipant) -> bool:
    """Delete the participant's answers; True if there were any."""
    gone = session.execute(delete(DeliberationDemographics).where(
        DeliberationDemographics.participant_id == participant.id))
    return bool(gone.rowcount)


def has_demographics(session: Session, participant: DeliberationParticipant | None) -> bool:
    """Whether the participant shared answers (never what they are)."""
    if participant is None:
        return False
    return session.get(DeliberationDemographics, participant.id) is not None
