"""Deliberations in the store, on SQLite and PostgreSQL: a real conversation imported and
loaded back unchanged, export -> import lossless, malformed imports named and atomic."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from accord.deliberate import (
    ParticipationError,
    export_opendata,
    get_deliberation,
    import_opendata,
    load_conversation,
    read_opendata,
    vote_counts,
)
from accord.errors import AccordError
from accord.store import ConflictError, NotFoundError

from .helpers import CONVERSATIONS, polis_folder
from .stored_helpers import row_counts

FILES = ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv")


def _same(a, b) -> None:
    assert a.statements == b.statements
    assert a.participants == b.participants
    assert a.votes == b.votes  # the whole history, changes included, in order
    assert (a.topic, a.description, a.url, a.views) == (b.topic, b.description, b.url, b.views)


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_real_conversation_round_trips_through_the_store(store, name, tmp_path):
    folder = polis_folder(name)
    source = read_opendata(folder)
    with store.session() as session:
        import_opendata(session, folder)
    with store.session() as session:
        row = get_deliberation(session, name)
        loaded = load_conversation(session, row)
        counts = vote_counts(session, row)
    _same(loaded, source)
    # One current vote per participant and statement: the latest of the history.
    latest = source.votes.latest()
    expected: dict[int, list[int]] = {}
    for s, v in zip(latest.statement_ids.tolist(), latest.values.tolist(), strict=True):
        expected.setdefault(s, [0, 0, 0])[{1: 0, -1: 1, 0: 2}[v]] += 1
    assert counts == {s: tuple(c) for s, c in expected.items()}

    # Export, import the export under another name: the same data, byte-identical files.
    with store.session() as session:
        export_opendata(session, name, tmp_path / "out")
        import_opendata(session, tmp_path / "out", name="again")
    with store.session() as session:
        again = load_conversation(session, get_deliberation(session, "again"))
        export_opendata(session, "again", tmp_path / "out2")
    _same(again, source)
    for f in FILES:
        assert (tmp_path / "out2" / f).read_bytes() == (tmp_path / "out" / f).read_bytes(), f


def _corrupt(tmp_path: Path, file: str, line: int, column: str, value: str) -> Path:
    """A copy of a real conversation with one cell changed."""
    folder = tmp_path / "bad"
    shutil.copytree(polis_folder("15-per-hour-seattle"), folder)
    path = folder / file
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return folder


@pytest.mark.parametrize(("file", "line", "column", "value", "message"), [
    ("votes.csv", 7, "vote", "2", r"votes\.csv:7: column 'vote': 2 is not one of"),
    ("comments.csv", 4, "moderated", "9", r"comments\.csv:4: column 'moderated'"),
    # The last file read: every file is validated before the first row is written.
    ("participants-votes.csv", 3, "n-votes", "x", r"participants-votes\.csv:3: column"),
])
def test_malformed_import_names_file_and_row_and_leaves_nothing(store, tmp_path, file, line,
                                                                 column, value, message):
    folder = _corrupt(tmp_path, file, line, column, value)
    with pytest.raises(AccordError, match=message), store.session() as session:
        import_opendata(session, folder, name="bad")
    assert set(row_counts(store).values()) == {0}


def test_a_failure_after_the_rows_are_written_rolls_them_all_back(store, tmp_path):
    # The caller's transaction is the unit: nothing of a half-finished import survives.
    with pytest.raises(RuntimeError), store.session() as session:
        import_opendata(session, polis_folder("15-per-hour-seattle"), name="partial")
        raise RuntimeError("crash after the inserts, before the commit")
    assert set(row_counts(store).values()) == {0}


def test_text_the_database_cannot_hold_is_refused_with_its_place(store, tmp_path):
    folder = _corrupt(tmp_path, "comments.csv", 2, "comment-body", "a\x00b")
    with pytest.raises(AccordError, match=r"comments\.csv:2: column 'comment-body': contains "
                       r"a NUL character"), \
            store.session() as session:
        import_opendata(session, folder)
    assert set(row_counts(store).values()) == {0}


def test_names_are_checked_and_unique(store, tmp_path):
    folder = polis_folder("15-per-hour-seattle")
    with store.session() as session:
        import_opendata(session, folder, name="seattle")
    with pytest.raises(ConflictError, match="already exists"), store.session() as session:
        import_opendata(session, folder, name="seattle")
    with pytest.raises(AccordError, match="not allowed"), store.session() as session:
        import_opendata(session, folder, name="has spaces")
    with pytest.raises(NotFoundError, match="known: seattle"), store.session() as session:
        get_deliberation(session, "nope")
    with pytest.raises(AccordError, match="file not found"), store.session() as session:
        import_opendata(session, tmp_path, name="empty")
    assert row_counts(store)["deliberations"] == 1
    assert issubclass(ParticipationError, AccordError)
