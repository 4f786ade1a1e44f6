"""Shared helpers for the deliberation tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from _resources import missing_resource
from accord.deliberate.math import Conversation, Participant, Statement, VoteLog

# ../shared/data relative to the repository root (see /work/shared/data/README.md).
POLIS_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "polis"
CONVERSATIONS = ["canadian-electoral-reform", "brexit-consensus", "15-per-hour-seattle",
                 "scoop-hivemind.ubi"]


def polis_folder(name: str) -> Path:
    folder = POLIS_DATA / name
    if not (folder / "votes.csv").is_file():
        missing_resource(f"real Polis data not found at {folder} (the shared data folder "
                    "../shared/data/polis is absent on this machine)")
    return folder


def conversation_from_matrix(matrix: list[list[int | None]], start_ms: int = 0,
                             spacing_ms: int = 1_000) -> Conversation:
    """A conversation whose participant i cast row i's votes (None = no vote), one vote
    a second in row order (an ordinary pace: no bursts)."""
    votes = []
    t = start_ms
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            if v is not None:
                votes.append((i, j, v, t))
                t += spacing_ms
    arr = np.array(votes, dtype=np.int64).reshape(-1, 4)
    n_statements = len(matrix[0]) if matrix else 0
    return Conversation(
        topic="test", statements={j: Statement(j, f"statement {j}", moderated=1)
                                  for j in range(n_statements)},
        participants={i: Participant(i) for i in range(len(matrix))},
        votes=VoteLog(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3]))


def two_camps(n_per_camp: int = 40, n_statements: int = 12, seed: int = 0,
              noise: float = 0.1) -> list[list[int | None]]:
    """Two opposed camps: camp A agrees with even statements, camp B with odd ones."""
    rng = np.random.default_rng(seed)
    rows: list[list[int | None]] = []
    for camp in (0, 1):
        for _ in range(n_per_camp):
            row: list[int | None] = []
            for j in range(n_statements):
                v = 1 if (j % 2 == camp) else -1
                if rng.random() < noise:
                    v = -v
                row.append(v)
            rows.append(row)
    return rows
