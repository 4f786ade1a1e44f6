"""Import and export in Polis's openData format.

A conversation folder holds ``comments.csv``, ``votes.csv``, ``participants-votes.csv`` and
``summary.csv`` (see compdemocracy/openData). Accord adds one optional file,
``accord-participants.csv`` (participant, token, one column per demographic variable), so
that opt-in demographics survive a round trip; Polis tools ignore it.

Import validates every row before building anything, so a malformed file raises
:class:`AccordError` naming file, line and column and nothing is half-imported. Export
writes each file to a temporary name and renames it into place.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from accord.errors import AccordError

from .math import Conversation, Participant, Statement, VoteLog

COMMENTS_HEADER = ["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees",
                   "moderated", "comment-body"]
VOTES_HEADER = ["timestamp", "datetime", "comment-id", "voter-id", "vote"]
PV_FIXED = ["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"]
EXTRA_FILE = "accord-participants.csv"
# Every number is stored in a 64-bit column; a larger one is refused where it is read.
_INT64 = 2**63 - 1


class _OutOfRange(ValueError):
    """A whole number that no 64-bit column holds."""


class _Rows:
    """CSV rows of one file with the line each started on, for error messages."""

    def __init__(self, path: Path, required: list[str] | None, has_header: bool = True):
        self.path = path
        if not path.is_file():
            raise AccordError(f"{path}: file not found (an openData folder needs "
                              "comments.csv, votes.csv, participants-votes.csv, summary.csv)")
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


def _read_participants(folder: Path, statements: dict[int, Statement]) -> dict[int, int | None]:
    rows = _Rows(folder / "participants-votes.csv", PV_FIXED)
    for i, name in enumerate(rows.header[len(PV_FIXED):], start=len(PV_FIXED) + 1):
        try:
            sid = int(name)
        except ValueError:
            raise AccordError(f"{rows.path}:1: column {i} is named {name!r}; after "
                              f"{PV_FIXED} every column must be a comment id") from None
        if sid not in statements:
            raise AccordError(f"{rows.path}:1: column {i}: comment {sid} is not in "
                              "comments.csv")
    groups: dict[int, int | None] = {}
    for line, row in rows:
        pid = rows.parse(line, row, "participant", _int, "an integer id")
        assert isinstance(pid, int)
        if pid in groups:
            raise AccordError(f"{rows.path}:{line}: column 'participant': {pid} appears twice")
        for col in PV_FIXED[2:]:
            rows.parse(line, row, col, _opt_int, "an integer or empty")
        for name in rows.header[len(PV_FIXED):]:
            rows.parse(line, row, name, lambda t: t == "" or _vote(t), "-1, 0, 1 or empty")
        groups[pid] = rows.parse(line, row, "group-id", _opt_int,  # type: ignore[assignment]
                                 "an integer group id or empty")
    return groups


def _read_summary(folder: Path) -> dict[str, str]:
    rows = _Rows(folder / "summary.csv", None, has_header=False)
    summary: dict[str, str] = {}
    for line, row in rows:
        if len(row) != 2:
            raise AccordError(f"{rows.path}:{line}: expected 2 columns (key, value), "
                              f"got {len(row)}")
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
    """Import a conversation from a Polis openData folder.

    Args:
        folder: holds comments.csv, votes.csv, participants-votes.csv and summary.csv.

    Returns:
        The conversation with its full vote history; Polis's own ``group-id`` is kept as
        each participant's ``source_group``.

    Raises:
        AccordError: a file is missing or malformed; the message names file, line, column.
    """
    folder = Path(folder)
    statements = _read_comments(folder)
    votes = _read_votes(folder, statements)
    groups = _read_participants(folder, statements)
    summary = _read_summary(folder)
    extra = _read_extra(folder)
    views = summary.get("views", "")
    try:
        n_views = _int(views) if views.strip() else None
    except ValueError:
        raise AccordError(f"{folder / 'summary.csv'}: 'views' is {views!r}, not an integer"
                          ) from None
    ids = sorted(set(groups) | set(np.unique(votes.voter_ids).tolist()) | set(extra))
    participants = {}
    for pid in ids:
        token, demo = extra.get(pid, (None, {}))
        participants[pid] = Participant(pid, groups.get(pid), demo, token)
    return Conversation(topic=summary.get("topic", ""),
                        description=summary.get("conversation-description", ""),
                        url=summary.get("url", ""), views=n_views, statements=statements,
                        participants=participants, votes=votes)


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
                   groups: dict[int, int] | None = None) -> None:
    """Export a conversation as a Polis openData folder (see :func:`read_opendata`).

    Args:
        conversation: what to write.
        folder: created if missing; the four files (and accord-participants.csv when any
            participant has a token or demographics) are replaced.
        groups: participant id -> group id to write as ``group-id``; by default each
            participant's ``source_group``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    conv = conversation
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

    votes: list[list[object]] = [VOTES_HEADER]
    v = conv.votes
    for t, s, p, x in zip(v.timestamps_ms.tolist(), v.statement_ids.tolist(),
                          v.voter_ids.tolist(), v.values.tolist(), strict=True):
        votes.append([t, _datetime(t), s, p, x])
    _write(folder / "votes.csv", votes)

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
    pv: list[list[object]] = [PV_FIXED + [str(s) for s in sids]]
    for p, cells in zip(pids, matrix, strict=True):
        g = groups.get(p) if groups is not None else conv.participants[p].source_group
        pv.append([p, "" if g is None else g, authored.get(p, 0),
                   sum(c != "" for c in cells), sum(c == 1 for c in cells),
                   sum(c == -1 for c in cells), *cells])
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
