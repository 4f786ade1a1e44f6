"""openData import/export: real conversations round-trip; malformed files fail clearly."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from accord.deliberate import Participant, read_opendata, write_opendata
from accord.errors import AccordError

from .helpers import CONVERSATIONS, conversation_from_matrix, polis_folder, two_camps


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_real_conversation_imports_with_its_history(name):
    conv = read_opendata(polis_folder(name))
    assert conv.topic
    assert len(conv.votes) > 1000
    # Several votes per (voter, statement) happen; the latest wins.
    latest = conv.votes.latest()
    assert len(latest) <= len(conv.votes)
    pairs = latest.voter_ids * 100_000 + latest.statement_ids
    assert len(np.unique(pairs)) == len(latest)
    assert any(p.source_group is not None for p in conv.participants.values())


def test_latest_vote_wins(tmp_path):
    folder = polis_folder("15-per-hour-seattle")
    conv = read_opendata(folder)
    v = conv.votes
    order = v.chronological()
    pairs = v.voter_ids[order] * 100_000 + v.statement_ids[order]
    _, first, counts = np.unique(pairs, return_index=True, return_counts=True)
    changed = pairs[first[counts > 1][0]]
    rows = order[pairs == changed]
    latest = conv.votes.latest()
    hit = (latest.voter_ids * 100_000 + latest.statement_ids) == changed
    assert latest.values[hit].tolist() == [v.values[rows[-1]]]


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_export_then_import_is_lossless(name, tmp_path):
    conv = read_opendata(polis_folder(name))
    write_opendata(conv, tmp_path)
    again = read_opendata(tmp_path)
    assert again.statements == conv.statements
    assert again.participants == conv.participants
    assert again.votes == conv.votes
    assert (again.topic, again.description, again.url, again.views) == \
        (conv.topic, conv.description, conv.url, conv.views)
    # And a second round trip writes byte-identical files.
    second = tmp_path / "second"
    write_opendata(again, second)
    for f in ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv"):
        assert (second / f).read_bytes() == (tmp_path / f).read_bytes()


def test_demographics_and_tokens_survive_the_round_trip(tmp_path):
    conv = conversation_from_matrix(two_camps(3, 4))
    conv.participants[0] = Participant(0, demographics={"age": "18-29", "region": "north"},
                                       token="abc")
    write_opendata(conv, tmp_path)
    again = read_opendata(tmp_path)
    assert again.participants[0] == conv.participants[0]
    assert again.participants[1] == Participant(1)


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "conv"
    shutil.copytree(polis_folder("brexit-consensus"), dst)
    for f in dst.iterdir():
        f.chmod(0o644)
    return dst


def _corrupt(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def test_bad_vote_value_names_file_line_and_column(tmp_path):
    folder = _copy(tmp_path)
    text = (folder / "votes.csv").read_text().split("\n")
    text[4] = text[4].rsplit(",", 1)[0] + ",2"
    (folder / "votes.csv").write_text("\n".join(text))
    with pytest.raises(AccordError, match=r"votes\.csv:5: column 'vote': 2 is not one of"):
        read_opendata(folder)


def test_non_numeric_id_names_the_column(tmp_path):
    folder = _copy(tmp_path)
    text = (folder / "votes.csv").read_text().split("\n")
    cells = text[9].split(",")
    cells[-2] = "abc"  # voter-id
    text[9] = ",".join(cells)
    (folder / "votes.csv").write_text("\n".join(text))
    with pytest.raises(AccordError, match=r"votes\.csv:10: column 'voter-id': 'abc'"):
        read_opendata(folder)


def test_vote_on_unknown_statement_is_rejected(tmp_path):
    folder = _copy(tmp_path)
    text = (folder / "votes.csv").read_text().split("\n")
    cells = text[2].split(",")
    cells[2] = "9999"
    text[2] = ",".join(cells)
    (folder / "votes.csv").write_text("\n".join(text))
    with pytest.raises(AccordError, match=r"votes\.csv:3: column 'comment-id': statement "
                                          r"9999 is not in comments\.csv"):
        read_opendata(folder)


def test_bad_moderation_and_missing_file(tmp_path):
    folder = _copy(tmp_path)
    _corrupt(folder / "comments.csv", 2, ",1,\"Opposition", ",7,\"Opposition")
    with pytest.raises(AccordError, match=r"comments\.csv:2: column 'moderated': '7'"):
        read_opendata(folder)
    folder = _copy(tmp_path / "second")
    (folder / "summary.csv").unlink()
    with pytest.raises(AccordError, match=r"summary\.csv: file not found"):
        read_opendata(folder)


def test_bad_participants_votes_cell(tmp_path):
    folder = _copy(tmp_path)
    text = (folder / "participants-votes.csv").read_text().split("\n")
    cells = text[3].split(",")
    cells[8] = "yes"
    text[3] = ",".join(cells)
    (folder / "participants-votes.csv").write_text("\n".join(text))
    with pytest.raises(AccordError, match=r"participants-votes\.csv:4: column '2': 'yes'"):
        read_opendata(folder)
