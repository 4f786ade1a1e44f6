"""Deliberations in the store: create, find, load into a :class:`Conversation`, import and
export in Polis's openData format.

Import validates the whole folder before writing a row and writes in the caller's
transaction, so a malformed file (named with its row) or a failed write leaves nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.errors import AccordError
from accord.store import ConflictError, NotFoundError, utcnow

from ._config import DeliberationConfig, parse_config
from ._model import MOD_IN, MOD_NONE, MOD_OUT, Conversation, Participant, Statement, VoteLog
from ._models import (
    ACCEPTED,
    META,
    REJECTED,
    UNMODERATED,
    Deliberation,
    DeliberationDemographics,
    DeliberationParticipant,
    DeliberationStatement,
    DeliberationVote,
    DeliberationVoteEvent,
)
from ._opendata import EXTRA_FILE, read_opendata, write_opendata

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_INT32 = 2**31 - 1
IMPORTED_CONSENT = ("imported from an openData folder; consent was given where the data "
                    "was collected")


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
    cfg = config if isinstance(config, DeliberationConfig) else parse_config(config)
    _free(session, name)
    row = _add_named(session, Deliberation(
        name=name, question=question.strip(), description=description.strip(), url="",
        views=None, config=cfg.model_dump(mode="json"), created_by=created_by))
    from ._participation import add_statement

    for text in seed_statements:
        if text.strip():
            add_statement(session, row, text, author=None, seed=True)
    return row


def _free(session: Session, name: str) -> None:
    if session.scalars(select(Deliberation.id).where(Deliberation.name == name)).first():
        raise ConflictError(f"a deliberation named {name!r} already exists; choose another "
                            "name (accord deliberate import DIR --name NAME)")


def _add_named(session: Session, row: Deliberation) -> Deliberation:
    """Insert, turning a name taken meanwhile (by a concurrent writer) into ConflictError."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise ConflictError(f"a deliberation named {row.name!r} was created meanwhile; "
                            "choose another name") from None
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
    """Replace the deliberation's settings (validated)."""
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
    participants = {}
    for p in session.scalars(select(DeliberationParticipant).where(
            DeliberationParticipant.deliberation_id == row.id)):
        participants[p.number] = Participant(p.number, p.source_group, demo.get(p.id, {}),
                                             p.token or p.token_hash)
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


def import_opendata(session: Session, folder: str | os.PathLike[str], *,
                    name: str | None = None,
                    config: DeliberationConfig | Mapping[str, Any] | None = None
                    ) -> Deliberation:
    """Import a Polis openData folder as a new deliberation (named after the folder unless
    ``name`` is given).

    Everything is read and validated before the first row is written; rows are written in
    ``session``'s transaction, so an error leaves nothing behind once it rolls back.

    Raises:
        AccordError: a malformed file (file, line and column named), a bad name or config.
        ConflictError: the name is taken.
    """
    folder = Path(folder)
    name = check_name(name if name is not None else folder.resolve().name)
    cfg = config if isinstance(config, DeliberationConfig) else parse_config(config)
    conv = read_opendata(folder)
    _check_ranges(conv, folder)
    _free(session, name)
    return _insert(session, name, conv, cfg)


def _check_ranges(conv: Conversation, folder: Path) -> None:
    """What the database cannot hold (ids beyond 32 bits, very long tokens), named."""
    for sid, st in conv.statements.items():
        if "\x00" in st.text:
            raise AccordError(f"{folder / 'comments.csv'}: comment {sid}: comment-body "
                              "contains a NUL character, which text columns cannot hold")
        if not -_INT32 <= sid <= _INT32:
            raise AccordError(f"{folder / 'comments.csv'}: comment-id {sid} is out of range "
                              f"(at most {_INT32})")
        if st.author_id is not None and not -_INT32 <= st.author_id <= _INT32:
            raise AccordError(f"{folder / 'comments.csv'}: comment {sid}: author-id "
                              f"{st.author_id} is out of range (at most {_INT32})")
    for pid, p in conv.participants.items():
        if not -_INT32 <= pid <= _INT32:
            raise AccordError(f"{folder / 'votes.csv'}: participant {pid} is out of range "
                              f"(at most {_INT32})")
        if p.token is not None and len(p.token) > 255:
            raise AccordError(f"{folder / 'accord-participants.csv'}: participant {pid}: token "
                              "is longer than 255 characters")


def _insert(session: Session, name: str, conv: Conversation, cfg: DeliberationConfig
            ) -> Deliberation:
    row = _add_named(session, Deliberation(
        name=name, question=conv.topic, description=conv.description, url=conv.url,
        views=conv.views, config=cfg.model_dump(mode="json")))
    session.execute(insert(DeliberationStatement), [
        {"deliberation_id": row.id, "number": s.id, "text": s.text,
         "moderation": moderation_state(s.moderated, s.is_meta), "is_seed": False,
         "author_number": s.author_id, "created_ms": s.created_ms}
        for s in conv.statements.values()])
    session.execute(insert(DeliberationParticipant), [
        {"deliberation_id": row.id, "number": p.id, "token": p.token,
         "source_group": p.source_group} for p in conv.participants.values()])
    sid = _ids(session, DeliberationStatement, row.id)
    pid = _ids(session, DeliberationParticipant, row.id)
    today = utcnow().date().isoformat()
    demo = [{"participant_id": pid[p.id], "answers": p.demographics,
             "consent_text": IMPORTED_CONSENT, "consented_on": today}
            for p in conv.participants.values() if p.demographics]
    if demo:
        session.execute(insert(DeliberationDemographics), demo)
    v = conv.votes
    events = [{"deliberation_id": row.id, "participant_id": pid[p], "statement_id": sid[s],
               "value": x, "timestamp_ms": t}
              for p, s, x, t in zip(v.voter_ids.tolist(), v.statement_ids.tolist(),
                                    v.values.tolist(), v.timestamps_ms.tolist(), strict=True)]
    for start in range(0, len(events), 5000):
        session.execute(insert(DeliberationVoteEvent), events[start:start + 5000])
    latest = v.latest()
    current = [{"deliberation_id": row.id, "participant_id": pid[p], "statement_id": sid[s],
                "value": x, "timestamp_ms": t}
               for p, s, x, t in zip(latest.voter_ids.tolist(), latest.statement_ids.tolist(),
                                     latest.values.tolist(), latest.timestamps_ms.tolist(),
                                     strict=True)]
    for start in range(0, len(current), 5000):
        session.execute(insert(DeliberationVote), current[start:start + 5000])
    session.flush()
    return row


def _ids(session: Session, model: Any, deliberation_id: int) -> dict[int, int]:
    query = select(model.number, model.id).where(model.deliberation_id == deliberation_id)
    return {number: id_ for number, id_ in session.execute(query)}


def export_opendata(session: Session, name: str, folder: str | os.PathLike[str],
                    groups: dict[int, int] | None = None) -> Path:
    """Write the deliberation as an openData folder (see :func:`write_opendata`).

    Participants' demographics never leave the store this way: ``accord-participants.csv``
    carries tokens only. The files are written into a temporary folder beside ``folder``
    and moved into place, so a failed export leaves the old files as they were.

    Raises:
        NotFoundError: no such deliberation.
        AccordError: ``folder`` exists and is not a folder.
    """
    conv = load_conversation(session, get_deliberation(session, name), with_demographics=False)
    conv.participants = {k: replace(p, demographics={}) for k, p in conv.participants.items()}
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise AccordError(f"{target}: exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write_opendata(conv, staging, groups=groups)
        written = sorted(staging.iterdir())
        target.mkdir(exist_ok=True)
        for file in written:
            file.replace(target / file.name)
        extra = target / EXTRA_FILE
        if extra.exists() and extra.name not in {f.name for f in written}:
            extra.unlink()  # a stale file from an earlier export must not mix in
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def vote_counts(session: Session, row: Deliberation) -> dict[int, tuple[int, int, int]]:
    """Statement number -> (agree, disagree, pass) over current votes."""
    S, V = DeliberationStatement, DeliberationVote
    query = (select(S.number, V.value, func.count()).join(V, V.statement_id == S.id)
             .where(S.deliberation_id == row.id).group_by(S.number, V.value))
    counts: dict[int, list[int]] = {}
    for number, value, n in session.execute(query):
        counts.setdefault(number, [0, 0, 0])[{1: 0, -1: 1, 0: 2}[value]] += n
    return {k: (a, d, p) for k, (a, d, p) in counts.items()}
