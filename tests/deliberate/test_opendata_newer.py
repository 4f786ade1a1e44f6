"""Every openData layout imports (issue 15): the newer exports' ``xid`` column and
``stats-history.csv``, other participant columns, and a folder without ``votes.csv``
imported from its vote matrix as one snapshot that says it has no history."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from _resources import missing_resource
from accord.deliberate import (
    DeliberationConfig,
    analyze_deliberation,
    config_of_row,
    export_opendata,
    get_deliberation,
    import_note,
    import_opendata,
    load_conversation,
    read_opendata_folder,
    set_config,
    write_opendata_folder,
)

from .helpers import CONVERSATIONS, POLIS_DATA, polis_folder

NEWER_DATA = POLIS_DATA.parent / "polis-newer-exports"
NEWER = ["austria-climate.2vkxcncppn.2022-07-07", "austria-climate.7z7ejpbmv5.2022-08-08"]


def newer_folder(name: str) -> Path:
    folder = NEWER_DATA / name
    if not (folder / "participants-votes.csv").is_file():
        missing_resource(f"newer Polis exports not found at {folder} (the shared data folder "
                         "../shared/data/polis-newer-exports is absent on this machine)")
    return folder


def _matrix(folder: Path) -> tuple[list[str], dict[int, dict[int, int]], dict[int, int | None]]:
    """participants-votes.csv read plainly: its header, votes and group ids."""
    with (folder / "participants-votes.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    first = next(i for i, c in enumerate(header) if c.isdigit())
    votes = {int(r[0]): {int(header[i]): int(float(r[i])) for i in range(first, len(r)) if r[i]}
             for r in rows[1:]}
    groups = {int(r[0]): (int(r[header.index("group-id")]) if r[header.index("group-id")]
                          else None) for r in rows[1:]}
    return header, votes, groups


@pytest.mark.parametrize("name", NEWER)
def test_a_newer_export_imports_from_its_matrix_as_one_snapshot(name):
    folder = newer_folder(name)
    data = read_opendata_folder(folder)
    conv = data.conversation
    header, votes, groups = _matrix(folder)
    assert header[:3] == ["participant", "xid", "group-id"]
    assert data.has_history is False
    assert data.layout == header[:header.index("n-disagree") + 1]
    # Every cell of the matrix is a vote, all stamped with one time.
    assert len(conv.votes) == sum(len(v) for v in votes.values()) > 50_000
    assert len(np.unique(conv.votes.timestamps_ms)) == 1
    got: dict[int, dict[int, int]] = {}
    for p, s, x in zip(conv.votes.voter_ids.tolist(), conv.votes.statement_ids.tolist(),
                       conv.votes.values.tolist(), strict=True):
        got.setdefault(p, {})[s] = x
    assert got == {p: v for p, v in votes.items() if v}
    assert {p.id: p.source_group for p in conv.participants.values()} == groups
    # The stats history: its size, its last row (the conversation's final totals).
    stats = data.stats_history
    assert stats is not None
    with (folder / "stats-history.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert stats.columns == rows[0]
    assert stats.rows == len(rows) - 1
    assert stats.final() == dict(zip(rows[0], map(int, rows[-1]), strict=True))
    assert len(stats.points) <= 1002 and stats.points[0][0] == 0


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_the_older_layout_still_has_its_history(name):
    data = read_opendata_folder(polis_folder(name))
    assert data.has_history and data.stats_history is None
    assert len(np.unique(data.conversation.votes.timestamps_ms)) > 100


def _small_newer(tmp_path: Path) -> Path:
    """A newer-layout folder with xids and a column Accord does not know."""
    folder = tmp_path / "newer"
    folder.mkdir()
    (folder / "comments.csv").write_text(
        "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        "1000,,0,1,2,0,1,first\n2000,,1,2,1,1,1,second\n")
    (folder / "participants-votes.csv").write_text(
        "participant,xid,group-id,n-comments,n-votes,n-agree,n-disagree,cohort,0,1\n"
        "1,ext-7f,0,1,2,1,1,spring,1,-1\n2,,1,1,2,2,0,,1,1\n3,ext-9a,,0,0,0,0,autumn,,\n")
    (folder / "summary.csv").write_text("topic,t\nurl,\nviews,3\n")
    (folder / "stats-history.csv").write_text(
        "n-votes,n-comments,n-visitors,n-voters,n-commenters\n0,1,1,0,1\n2,2,2,2,2\n4,2,3,4,2\n")
    return folder


def test_xid_and_other_columns_survive_read_write_read(tmp_path):
    data = read_opendata_folder(_small_newer(tmp_path))
    parts = data.conversation.participants
    assert (parts[1].xid, parts[2].xid, parts[3].xid) == ("ext-7f", None, "ext-9a")
    assert data.participant_columns == {"cohort": {1: "spring", 3: "autumn"}}
    assert data.stats_history is not None and data.stats_history.rows == 3
    write_opendata_folder(data, tmp_path / "out")
    assert not (tmp_path / "out" / "votes.csv").exists()  # still a snapshot, no history
    header = (tmp_path / "out" / "participants-votes.csv").read_text().splitlines()[0]
    assert header == "participant,xid,group-id,n-comments,n-votes,n-agree,n-disagree,cohort,0,1"
    again = read_opendata_folder(tmp_path / "out")
    assert again.conversation.participants == parts
    assert again.conversation.votes == data.conversation.votes
    assert again.participant_columns == data.participant_columns
    assert again.stats_history == data.stats_history
    assert again.has_history is False


def test_the_store_keeps_xids_and_the_snapshot_and_exports_them(store, tmp_path):
    folder = _small_newer(tmp_path)
    with store.session() as session:
        row = import_opendata(session, folder, name="newer")
        cfg = config_of_row(row)
        assert cfg.history is False and cfg.source is not None
        assert cfg.source.xids == {"1": "ext-7f", "3": "ext-9a"}
        assert "no vote history" in import_note(row)
    with store.session() as session:
        row = get_deliberation(session, "newer")
        # Replacing the settings keeps what the import recorded.
        set_config(session, row, DeliberationConfig(seed=3))
        assert config_of_row(row).source.xids == {"1": "ext-7f", "3": "ext-9a"}
        conv = load_conversation(session, row)
        assert conv.participants[1].xid == "ext-7f"
        export_opendata(session, "newer", tmp_path / "out")
    again = read_opendata_folder(tmp_path / "out")
    original = read_opendata_folder(folder)
    assert again.conversation.participants == original.conversation.participants
    assert again.conversation.votes == original.conversation.votes
    assert again.participant_columns == original.participant_columns
    assert again.stats_history == original.stats_history
    assert again.has_history is False


@pytest.mark.slow
def test_a_newer_export_is_analysed_without_burst_flags(store, tmp_path):
    folder = tmp_path / "austria"
    shutil.copytree(newer_folder(NEWER[1]), folder)
    with store.session() as session:
        row = import_opendata(session, folder, name="austria")
    with store.session() as session:
        stored = analyze_deliberation(session, get_deliberation(session, "austria"))
    a = stored.analysis
    assert a.method == "single" and a.n_updates == 1
    assert len(a.groups) >= 2
    # One time on every vote is no evidence of scripted bursts.
    assert not any("burst" in flags for flags in a.bulk.flags.values())
    del row


def test_the_command_says_what_the_import_kept_and_lacks(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from accord.cli import app

    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "accord.toml").write_text('[project]\nname = "t"\n')
    folder = _small_newer(tmp_path)
    out = CliRunner().invoke(app, ["deliberate", "import", str(folder), "-p", str(project)])
    assert out.exit_code == 0, out.output
    assert "as deliberation 'newer': 2 statements, 3 participants, 4 votes" in out.output
    assert "kept 2 participants' external ids (xid)" in out.output
    assert "kept stats-history.csv (3 rows, 3 points of its curve)" in out.output
    assert "no vote history: the export had no votes.csv" in out.output
    again = CliRunner().invoke(app, ["deliberate", "import", str(folder), "-p", str(project)])
    assert again.exit_code == 2 and "already exists" in again.output
