"""Import and export in Polis's openData format.

A conversation folder holds ``comments.csv``, ``votes.csv``, ``participants-votes.csv`` and
``summary.csv`` (see compdemocracy/openData). Newer Polis exports add an ``xid`` column
(the participant's external id) between ``participant`` and ``group-id`` and a
``stats-history.csv`` (the conversation's running totals, one row per event); some are
published without ``votes.csv``, and then the vote matrix in ``participants-votes.csv`` is
the only record of the votes: it is imported as a single snapshot (every vote at one
time) and :attr:`OpenDataFolder.has_history` says so. In ``participants-votes.csv`` every
column from the first comment id on is a comment id; the columns before it are the
participant's (``participant`` and ``group-id`` required, ``xid`` kept as
:attr:`Participant.xid`, the ``n-*`` counts recomputed on export, any other kept as
written). Accord adds one optional file, ``accord-participants.csv`` (participant, token,
one column per demographic variable), so that opt-in demographics survive a round trip;
Polis tools ignore it.

Import validates every row before building anything, so a malformed file raises
:class:`AccordError` naming file, line and column and nothing is half-imported. Export
writes each file to a temporary name and renames it into place.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accord.errors import AccordError

from .math import Conversation, Participant, Statement, VoteLog

COMMENTS_HEADER = ["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees",
                   "moderated", "comment-body"]
VOTES_HEADER = ["timestamp", "datetime", "comment-id", "voter-id", "vote"]
PV_FIXED = ["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"]
PV_REQUIRED = ["participant", "group-id"]
XID = "xid"
STATS_FILE = "stats-history.csv"
STATS_HEADER = ["n-votes", "n-comments", "n-visitors", "n-voters", "n-commenters"]
# stats-history.csv has a row per event (135,000 for a conversation of 1,750 people);
# what is kept is its curve: the first and last rows and at most this many in between.
STATS_POINTS = 1000
EXTRA_FILE = "accord-participants.csv"
# Every number is stored in a 64-bit column; a larger one is refused where it is read.
_INT64 = 2**63 - 1


class _OutOfRange(ValueError):
    """A whole number that no 64-bit column holds."""


@dataclass
class StatsHistory:
    """Polis's ``stats-history.csv``: running totals of the conversation, one row per event.

    Attributes:
        columns: the file's columns (Polis: n-votes, n-comments, n-visitors, n-voters,
            n-commenters).
        rows: how many rows the file had.
        points: ``[row index, *values]`` for the first and last rows and at most
            :data:`STATS_POINTS` evenly spaced between (all rows when there are fewer).
    """

    columns: list[str]
    rows: int
    points: list[list[int]]

    def final(self) -> dict[str, int]:
        """The totals at the end of the conversation (the file's last row)."""
        return dict(zip(self.columns, self.points[-1][1:], strict=True)) if self.points else {}


@dataclass
class OpenDataFolder:
    """An openData folder as read: the conversation and what else the export held.

    Attributes:
        conversation: statements, participants (``xid`` included) and votes.
        has_history: ``votes.csv`` was there; without it the votes are the matrix of
            ``participants-votes.csv``, all stamped with one time (a single snapshot).
        stats_history: ``stats-history.csv``, when the export has one.
        participant_columns: columns of ``participants-votes.csv`` that are neither comment
            ids nor ones Accord reads or recomputes: column -> participant id -> value
            (empty values left out).
        layout: the participant columns of ``participants-votes.csv`` in the file's order
            (before the comment ids), so that an export keeps the layout it came in.
    """

    conversation: Conversation
    has_history: bool = True
    stats_history: StatsHistory | None = None
    participant_columns: dict[str, dict[int, str]] = field(default_factory=dict)
    layout: list[str] = field(default_factory=lambda: list(PV_FIXED))


class _Rows:
    """CSV rows of one file with the line each started on, for error messages."""

    def __init__(self, path: Path, required: list[str] | None, has_header: bool = True):
        self.path = path
        if not path.is_file():
            raise AccordError(f"{path}: file not found (an openData folder needs "
                              "comments.csv, participants-votes.csv, summary.csv, and "
                              "votes.csv for the vote history)")
        _check_utf8(path)
        self._fh = path.open(newline="", encoding="utf-8")
        self._reader = csv.reader(self._fh)
        self.header: list[str] = []
        if has_header:
            try:
                self.header = next(self._reader)
            except StopIteration:
                self._fh.close()
                raise AccordError(f"{path}:1: empty file, expected a header row") from None
            except (csv.Error, UnicodeDecodeError) as exc:
                self._fh.close()
                raise AccordError(f"{path}:1: {_unreadable(exc)}") from None
            missing = [c for c in required or [] if c not in self.header]
            if missing:
                raise AccordError(f"{path}:1: header lacks column(s) {missing}; "
                                  f"expected {required}")

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        line = self._reader.line_num + 1
        try:
            for row in self._reader:
                if row:
                    yield line, row
                line = self._reader.line_num + 1
        except (csv.Error, UnicodeDecodeError) as exc:
            raise AccordError(f"{self.path}:{line}: {_unreadable(exc)}") from None
        finally:
            self._fh.close()

    def cell(self, line: int, row: list[str], column: str) -> str:
        i = self.header.index(column)
        if i >= len(row):
            raise AccordError(f"{self.path}:{line}: column '{column}' is missing "
                              f"(row has {len(row)} of {len(self.header)} columns)")
        return row[i]

    def parse(self, line: int, row: list[str], column: str, conv: Callable[[str], object],
              allowed: str) -> object:
        text = self.cell(line, row, column)
        try:
            return conv(text)
        except _OutOfRange:
            raise AccordError(f"{self.path}:{line}: column '{column}': {text.strip()[:40]} is "
                              f"out of range (at most {_INT64} in size)") from None
        except (ValueError, TypeError, OverflowError):
            raise AccordError(f"{self.path}:{line}: column '{column}': {text[:80]!r} is not "
                              f"{allowed}") from None


def _check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8, naming the line of the first bad byte (the text
    reader decodes in chunks and would only know the chunk)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise AccordError(f"{path}:{line}: {_unreadable(exc)}") from None


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x})"
    return f"not valid CSV ({exc})"


def _int(text: str) -> int:
    value = int(text.strip())
    if not -_INT64 <= value <= _INT64:
        raise _OutOfRange(text)
    return value


def _opt_int(text: str) -> int | None:
    if text.strip() == "":
        return None
    number = float(text)  # Polis writes some counts as 3.0
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(text)  # nan and inf are not whole numbers
    if not -_INT64 <= number <= _INT64:
        raise _OutOfRange(text)
    return int(number)


def _vote(text: str) -> int:
    v = _opt_int(text)
    if v not in (-1, 0, 1) or float(text) != v:
        raise ValueError(text)
    return v


def _moderation(text: str) -> int:
    v = int(text)
    if v not in (-1, 0, 1):
        raise ValueError(text)
    return v


def _read_comments(folder: Path) -> dict[int, Statement]:
    rows = _Rows(folder / "comments.csv", ["comment-id", "moderated", "comment-body"])
    has = set(rows.header)
    statements: dict[int, Statement] = {}
    for line, row in rows:
        sid = rows.parse(line, row, "comment-id", _int, "an integer id")
        assert isinstance(sid, int)
        if sid in statements:
            raise AccordError(f"{rows.path}:{line}: column 'comment-id': {sid} appears twice")
        author = (rows.parse(line, row, "author-id", _opt_int, "an integer id or empty")
                  if "author-id" in has else None)
        created = (rows.parse(line, row, "timestamp", _opt_int, "milliseconds since 1970")
                   if "timestamp" in has else None)
        mod = rows.parse(line, row, "moderated", _moderation, "one of -1, 0, 1")
        meta = (rows.parse(line, row, "is-meta", lambda t: t.strip().lower() in ("1", "true"),
                           "a boolean") if "is-meta" in has else False)
        _check_text(rows.path, line, "comment-body", rows.cell(line, row, "comment-body"))
        statements[sid] = Statement(sid, rows.cell(line, row, "comment-body"), author,  # type: ignore[arg-type]
                                    created, mod, bool(meta))  # type: ignore[arg-type]
    return statements


def _read_votes(folder: Path, statements: dict[int, Statement]) -> VoteLog:
    rows = _Rows(folder / "votes.csv", ["timestamp", "comment-id", "voter-id", "vote"])
    cols = {c: rows.header.index(c) for c in ("timestamp", "comment-id", "voter-id", "vote")}
    ts, sids, vids, vals = [], [], [], []
    for line, row in rows:
        if len(row) < len(rows.header):
            raise AccordError(f"{rows.path}:{line}: row has {len(row)} columns, the header "
                              f"has {len(rows.header)}")
        try:
            t, s, v, x = (_int(row[cols["timestamp"]]), _int(row[cols["comment-id"]]),
                          _int(row[cols["voter-id"]]), _int(row[cols["vote"]]))
        except ValueError:
            # Re-parse cell by cell so the message names the offending column.
            for c in cols:
                rows.parse(line, row, c, _int, "an integer")
            raise
        if x not in (-1, 0, 1):
            raise AccordError(f"{rows.path}:{line}: column 'vote': {x} is not one of "
                              "1 (agree), -1 (disagree), 0 (pass)")
        if s not in statements:
            raise AccordError(f"{rows.path}:{line}: column 'comment-id': statement {s} is "
                              "not in comments.csv")
        ts.append(t)
        sids.append(s)
        vids.append(v)
        vals.append(x)
    return VoteLog(np.array(vids, dtype=np.int64), np.array(sids, dtype=np.int64),
                   np.array(vals, dtype=np.int8), np.array(ts, dtype=np.int64))


@dataclass
class _Matrix:
    """What ``participants-votes.csv`` holds besides the checks made on reading it."""

    groups: dict[int, int | None]
    xids: dict[int, str]
    columns: dict[str, dict[int, str]]
    votes: list[tuple[int, int, int]]  # (participant, comment, vote) in file order
    layout: list[str]  # the participant columns, in the file's order


def _read_participants(folder: Path, statements: dict[int, Statement]) -> _Matrix:
    rows = _Rows(folder / "participants-votes.csv", PV_REQUIRED)
    first = next((i for i, name in enumerate(rows.header) if _is_id(name)), len(rows.header))
    own = rows.header[:first]
    comments = rows.header[first:]
    for i, name in enumerate(comments, start=first + 1):
        if not _is_id(name):
            raise AccordError(f"{rows.path}:1: column {i} is named {name!r}; from the first "
                              "comment id on, every column must be a comment id")
        if int(name) not in statements:
            raise AccordError(f"{rows.path}:1: column {i}: comment {int(name)} is not in "
                              "comments.csv")
    for name in own:
        if own.count(name) > 1:
            raise AccordError(f"{rows.path}:1: column {name!r} appears twice")
    counts = [c for c in own if c in PV_FIXED[2:]]
    kept = [c for c in own if c not in PV_REQUIRED and c != XID and c not in counts]
    sids = [int(name) for name in comments]
    matrix = _Matrix({}, {}, {c: {} for c in kept}, [], own)
    for line, row in rows:
        pid = rows.parse(line, row, "participant", _int, "an integer id")
        assert isinstance(pid, int)
        if pid in matrix.groups:
            raise AccordError(f"{rows.path}:{line}: column 'participant': {pid} appears twice")
        for col in counts:
            rows.parse(line, row, col, _opt_int, "an integer or empty")
        cells = row[first:]
        if len(cells) == len(sids) and all(c in _CELLS for c in cells):
            # The common case, cell by cell in C: 1.8 million cells read in about a second
            # (the checked path below is thirty times slower).
            matrix.votes.extend((pid, sid, _CELLS[c]) for sid, c in zip(sids, cells,
                                                                          strict=True)
                                if c)
        else:
            for name, sid in zip(comments, sids, strict=True):
                value = rows.parse(line, row, name, lambda t: None if t == "" else _vote(t),
                                   "-1, 0, 1 or empty")
                if value is not None:
                    matrix.votes.append((pid, sid, value))  # type: ignore[arg-type]
        matrix.groups[pid] = rows.parse(line, row, "group-id", _opt_int,  # type: ignore[assignment]
                                        "an integer group id or empty")
        if XID in own:
            xid = rows.cell(line, row, XID)
            _check_text(rows.path, line, XID, xid)
            if xid:
                matrix.xids[pid] = xid
        for col in kept:
            value = rows.cell(line, row, col)
            _check_text(rows.path, line, col, value)
            if value:
                matrix.columns[col][pid] = value
    return matrix


_CELLS = {"": 0, "1": 1, "-1": -1, "0": 0, "1.0": 1, "-1.0": -1, "0.0": 0}


def _is_id(name: str) -> bool:
    # ASCII digits only: str.isdigit() also accepts '²', which int() then refuses.
    text = name.strip()
    return text.isascii() and text.isdigit()


def _check_text(path: Path, line: int, column: str, text: str) -> None:
    """Refuse text that no text column can hold or that would show as something else."""
    from ._text import text_problem

    problem = text_problem(text)
    if problem:
        raise AccordError(f"{path}:{line}: column '{column}': {problem}")


def _read_stats(folder: Path) -> StatsHistory | None:
    path = folder / STATS_FILE
    if not path.exists():
        return None
    rows = _Rows(path, None)
    if not rows.header or any(not c.strip() for c in rows.header):
        raise AccordError(f"{path}:1: header names no column (Polis writes "
                          f"{','.join(STATS_HEADER)})")
    values: list[list[int]] = []
    for line, row in rows:
        if len(row) != len(rows.header):
            raise AccordError(f"{path}:{line}: row has {len(row)} columns, the header has "
                              f"{len(rows.header)}")
        try:
            values.append([int(x) for x in row])
        except ValueError:
            values.append([rows.parse(line, row, c, _int, "an integer")  # type: ignore[misc]
                           for c in rows.header])
    n = len(values)
    step = max(1, -(-n // STATS_POINTS))
    keep = sorted(set(range(0, n, step)) | ({n - 1} if n else set()))
    return StatsHistory(list(rows.header), n, [[i, *values[i]] for i in keep])


def _read_summary(folder: Path) -> dict[str, str]:
    rows = _Rows(folder / "summary.csv", None, has_header=False)
    summary: dict[str, str] = {}
    for line, row in rows:
        if len(row) != 2:
            raise AccordError(f"{rows.path}:{line}: expected 2 columns (key, value), "
                              f"got {len(row)}")
        _check_text(rows.path, line, row[0], row[1])
        summary[row[0]] = row[1]
    return summary


def _read_extra(folder: Path) -> dict[int, tuple[str | None, dict[str, str]]]:
    path = folder / EXTRA_FILE
    if not path.exists():
        return {}
    rows = _Rows(path, ["participant", "token"])
    variables = [c for c in rows.header if c not in ("participant", "token")]
    extra: dict[int, tuple[str | None, dict[str, str]]] = {}
    for line, row in rows:
        pid = rows.parse(line, row, "participant", _int, "an integer id")
        assert isinstance(pid, int)
        token = rows.cell(line, row, "token") or None
        demo = {v: rows.cell(line, row, v) for v in variables if rows.cell(line, row, v)}
        extra[pid] = (token, demo)
    return extra


def read_opendata(folder: str | os.PathLike[str]) -> Conversation:
    """Import a conversation from a Polis openData folder (see :func:`read_opendata_folder`
    for what else the folder holds).

    Args:
        folder: holds comments.csv, participants-votes.csv and summary.csv, and usually
            votes.csv (without it the vote matrix is the votes, as one snapshot).

    Returns:
        The conversation with its full vote history; Polis's own ``group-id`` is kept as
        each participant's ``source_group``, its ``xid`` as their ``xid``.

    Raises:
        AccordError: a file is missing or malformed; the message names file, line, column.
    """
    return read_opendata_folder(folder).conversation


def read_opendata_folder(folder: str | os.PathLike[str]) -> OpenDataFolder:
    """Read every file of a Polis openData folder, old layout or new.

    Args:
        folder: comments.csv, participants-votes.csv and summary.csv are required;
            votes.csv, stats-history.csv and accord-participants.csv are read when there.

    Returns:
        The conversation, whether it has a vote history, the stats history, and the
        participant columns Accord does not interpret.

    Raises:
        AccordError: a file is missing or malformed; the message names file, line, column.
    """
    folder = Path(folder)
    statements = _read_comments(folder)
    has_history = (folder / "votes.csv").exists()
    votes = _read_votes(folder, statements) if has_history else None
    matrix = _read_participants(folder, statements)
    summary = _read_summary(folder)
    stats = _read_stats(folder)
    extra = _read_extra(folder)
    views = summary.get("views", "")
    try:
        n_views = _int(views) if views.strip() else None
    except ValueError:
        raise AccordError(f"{folder / 'summary.csv'}: 'views' is {views!r}, not an integer"
                          ) from None
    if votes is None:
        votes = _snapshot(matrix.votes, statements)
    ids = sorted(set(matrix.groups) | set(np.unique(votes.voter_ids).tolist()) | set(extra))
    participants = {}
    for pid in ids:
        token, demo = extra.get(pid, (None, {}))
        participants[pid] = Participant(pid, matrix.groups.get(pid), demo, token,
                                        matrix.xids.get(pid))
    conv = Conversation(topic=summary.get("topic", ""),
                        description=summary.get("conversation-description", ""),
                        url=summary.get("url", ""), views=n_views, statements=statements,
                        participants=participants, votes=votes)
    return OpenDataFolder(conv, has_history, stats, matrix.columns, matrix.layout)


def _snapshot(cells: list[tuple[int, int, int]], statements: dict[int, Statement]) -> VoteLog:
    """The vote matrix as votes, all at one time: the latest statement's creation (the
    matrix reflects at least that moment), else 0."""
    stamp = max((s.created_ms for s in statements.values() if s.created_ms is not None),
                default=0)
    arr = np.array(sorted(cells), dtype=np.int64).reshape(-1, 3)
    return VoteLog(arr[:, 0], arr[:, 1], arr[:, 2], np.full(len(arr), stamp, dtype=np.int64))


def _datetime(ms: int | None) -> str:
    if ms is None:
        return ""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(ms / 1000))


def _write(path: Path, rows: list[list[object]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    tmp.replace(path)


def write_opendata(conversation: Conversation, folder: str | os.PathLike[str],
                   groups: dict[int, int] | None = None, *, history: bool = True,
                   stats_history: StatsHistory | None = None,
                   participant_columns: dict[str, dict[int, str]] | None = None,
                   layout: list[str] | None = None) -> None:
    """Export a conversation as a Polis openData folder (see :func:`read_opendata`).

    Args:
        conversation: what to write.
        folder: created if missing; its openData files are replaced (and
            accord-participants.csv written when any participant has a token or
            demographics, votes.csv only with ``history``, stats-history.csv only with
            ``stats_history``; a stale one of these is removed).
        groups: participant id -> group id to write as ``group-id``; by default each
            participant's ``source_group``.
        history: write votes.csv; False for a conversation known only as a snapshot of its
            vote matrix, so that reading the folder again says it has no history.
        stats_history: written as stats-history.csv (the points kept, see
            :class:`StatsHistory`).
        participant_columns: extra columns of participants-votes.csv (column ->
            participant id -> value), as :class:`OpenDataFolder` keeps them.
        layout: the participant columns' order (default: Polis's, with ``xid`` after
            ``participant`` when any participant has one, then the extra columns).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    conv = conversation
    extra_cols = participant_columns or {}
    latest = conv.votes.latest()
    sids = sorted(conv.statements)
    col = {s: i for i, s in enumerate(sids)}
    agrees = dict.fromkeys(sids, 0)
    disagrees = dict.fromkeys(sids, 0)
    for s, v in zip(latest.statement_ids.tolist(), latest.values.tolist(), strict=True):
        if v == 1:
            agrees[s] += 1
        elif v == -1:
            disagrees[s] += 1
    comments: list[list[object]] = [[*COMMENTS_HEADER, "is-meta"]]
    for s in sids:
        st = conv.statements[s]
        comments.append([st.created_ms if st.created_ms is not None else "",
                         _datetime(st.created_ms), s,
                         st.author_id if st.author_id is not None else "", agrees[s],
                         disagrees[s], st.moderated, st.text, int(st.is_meta)])
    _write(folder / "comments.csv", comments)

    v = conv.votes
    if history:
        votes: list[list[object]] = [VOTES_HEADER]
        for t, s, p, x in zip(v.timestamps_ms.tolist(), v.statement_ids.tolist(),
                              v.voter_ids.tolist(), v.values.tolist(), strict=True):
            votes.append([t, _datetime(t), s, p, x])
        _write(folder / "votes.csv", votes)
    elif (folder / "votes.csv").exists():
        (folder / "votes.csv").unlink()

    pids = sorted(conv.participants)
    prow = {p: i for i, p in enumerate(pids)}
    matrix: list[list[object]] = [[""] * len(sids) for _ in pids]
    for p, s, x in zip(latest.voter_ids.tolist(), latest.statement_ids.tolist(),
                       latest.values.tolist(), strict=True):
        if p in prow:
            matrix[prow[p]][col[s]] = x
    authored: dict[int, int] = {}
    for st in conv.statements.values():
        if st.author_id is not None:
            authored[st.author_id] = authored.get(st.author_id, 0) + 1
    if layout is None:
        has_xid = any(p.xid for p in conv.participants.values())
        layout = ([PV_FIXED[0], XID, *PV_FIXED[1:]] if has_xid else list(PV_FIXED))
        layout += sorted(c for c in extra_cols if c not in layout)
    pv: list[list[object]] = [[*layout, *(str(s) for s in sids)]]
    for p, cells in zip(pids, matrix, strict=True):
        g = groups.get(p) if groups is not None else conv.participants[p].source_group
        known: dict[str, object] = {
            "participant": p, XID: conv.participants[p].xid or "",
            "group-id": "" if g is None else g, "n-comments": authored.get(p, 0),
            "n-votes": sum(c != "" for c in cells), "n-agree": sum(c == 1 for c in cells),
            "n-disagree": sum(c == -1 for c in cells)}
        pv.append([known[c] if c in known else extra_cols.get(c, {}).get(p, "")
                   for c in layout] + cells)
    _write(folder / "participants-votes.csv", pv)

    n_groups = len({g for g in (groups or {}).values()}) if groups is not None else len(
        {p.source_group for p in conv.participants.values() if p.source_group is not None})
    summary: list[list[object]] = [
        ["topic", conv.topic], ["url", conv.url],
        ["views", "" if conv.views is None else conv.views],
        ["voters", len(np.unique(v.voter_ids))], ["voters-in-conv", len(pids)],
        ["commenters", len(authored)], ["comments", len(sids)], ["groups", n_groups],
        ["conversation-description", conv.description]]
    _write(folder / "summary.csv", summary)

    stats_path = folder / STATS_FILE
    if stats_history is not None:
        _write(stats_path, [stats_history.columns,
                            *(point[1:] for point in stats_history.points)])
    elif stats_path.exists():
        stats_path.unlink()

    variables = sorted({k for p in conv.participants.values() for k in p.demographics})
    extra_path = folder / EXTRA_FILE
    if variables or any(p.token for p in conv.participants.values()):
        rows: list[list[object]] = [["participant", "token", *variables]]
        for p in pids:
            part = conv.participants[p]
            rows.append([p, part.token or "", *(part.demographics.get(k, "") for k in variables)])
        _write(extra_path, rows)
    elif extra_path.exists():
        extra_path.unlink()


def write_opendata_folder(data: OpenDataFolder, folder: str | os.PathLike[str],
                          groups: dict[int, int] | None = None) -> None:
    """Write everything :func:`read_opendata_folder` read (see :func:`write_opendata`).

    Args:
        data: the conversation and the rest of the export.
        folder: where to write.
        groups: participant id -> group id for ``group-id`` (default: the source's).
    """
    write_opendata(data.conversation, folder, groups, history=data.has_history,
                   stats_history=data.stats_history,
                   participant_columns=data.participant_columns, layout=data.layout)
