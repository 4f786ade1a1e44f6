"""openData folders into and out of the store: ``import_opendata`` makes a new stored
deliberation from a Polis openData folder, ``export_opendata`` writes one out.

Import validates the whole folder before writing a row and writes in the caller's
transaction, so a malformed file (named with its row) or a failed write leaves nothing.
Export never writes participants' demographics.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from accord.errors import AccordError
from accord.store import utcnow

from ._config import DeliberationConfig, ImportSource, config_of_row, parse_config
from ._deliberations import (
    add_named,
    check_name,
    get_deliberation,
    load_conversation,
    moderation_state,
)
from ._models import (
    Deliberation,
    DeliberationDemographics,
    DeliberationParticipant,
    DeliberationStatement,
    DeliberationVote,
    DeliberationVoteEvent,
)
from ._opendata import (
    EXTRA_FILE,
    STATS_FILE,
    OpenDataFolder,
    StatsHistory,
    read_opendata_folder,
    write_opendata,
)
from .math import Conversation

_INT32 = 2**31 - 1
IMPORTED_CONSENT = ("imported from an openData folder; consent was given where the data "
                    "was collected")


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
    data = read_opendata_folder(folder)
    conv = data.conversation
    _check_ranges(conv, folder)
    cfg = cfg.model_copy(update={"source": _source(data, folder)})
    if not data.has_history:
        # One snapshot: replaying it is one update anyway; say so in the settings.
        cfg = cfg.model_copy(update={"history": False})
    # No look-up of the name first: the insert is the check (a unique name), and on
    # SQLite a transaction that reads before it writes cannot wait for a concurrent writer
    # ("database is locked") where one that writes first queues for the lock.
    return _insert(session, name, conv, cfg)


def _source(data: OpenDataFolder, folder: Path) -> ImportSource:
    conv = data.conversation
    stats = data.stats_history
    stamps = np.unique(conv.votes.timestamps_ms)
    return ImportSource(
        folder=folder.resolve().name, has_history=data.has_history,
        snapshot_ms=None if data.has_history or not len(stamps) else int(stamps[0]),
        xids={str(p.id): p.xid for p in conv.participants.values() if p.xid},
        participant_columns={c: {str(p): v for p, v in values.items()}
                             for c, values in data.participant_columns.items()},
        layout=list(data.layout),
        stats_history=None if stats is None else {"columns": stats.columns, "rows": stats.rows,
                                                  "points": stats.points})


def import_note(row: Deliberation) -> str:
    """What an import could not bring: a line for the import's output and the results
    page ("" when the deliberation has its vote history)."""
    source = config_of_row(row).source
    if source is None or source.has_history:
        return ""
    return ("no vote history: the export had no votes.csv, so the votes are the vote matrix "
            "of participants-votes.csv as one snapshot (the analysis runs one update, and "
            "bursts of votes cannot be told apart)")


def _check_ranges(conv: Conversation, folder: Path) -> None:
    """What the database cannot hold (ids beyond 32 bits, very long tokens), named."""
    for sid, st in conv.statements.items():
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
        if p.xid is not None and len(p.xid) > 255:
            raise AccordError(f"{folder / 'participants-votes.csv'}: participant {pid}: xid "
                              "is longer than 255 characters")
        if p.token is not None and len(p.token) > 255:
            raise AccordError(f"{folder / 'accord-participants.csv'}: participant {pid}: token "
                              "is longer than 255 characters")


def _insert(session: Session, name: str, conv: Conversation, cfg: DeliberationConfig
            ) -> Deliberation:
    row = add_named(session, Deliberation(
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
    row = get_deliberation(session, name)
    conv = load_conversation(session, row, with_demographics=False)
    conv.participants = {k: replace(p, demographics={}) for k, p in conv.participants.items()}
    source = config_of_row(row).source
    # A snapshot import exports as one again, unless people have voted since.
    history = (source is None or source.has_history
               or bool((conv.votes.timestamps_ms != source.snapshot_ms).any()))
    stats = None
    if source is not None and source.stats_history is not None:
        stats = StatsHistory(**source.stats_history)
    columns = {c: {int(p): v for p, v in values.items()}
               for c, values in (source.participant_columns if source else {}).items()}
    layout = list(source.layout) if source is not None and source.layout else None
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise AccordError(f"{target}: exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write_opendata(conv, staging, groups=groups, history=history, stats_history=stats,
                       participant_columns=columns, layout=layout)
        written = sorted(staging.iterdir())
        target.mkdir(exist_ok=True)
        for file in written:
            file.replace(target / file.name)
        for stale in (EXTRA_FILE, STATS_FILE, "votes.csv"):
            old = target / stale
            if old.exists() and stale not in {f.name for f in written}:
                old.unlink()  # a stale file from an earlier export must not mix in
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
