"""Concurrent writers in separate PROCESSES, on SQLite and PostgreSQL (issue 15): two
imports under one name, and two ratifications into one spec folder, as two `accord`
commands or two server workers would run them. ``test_concurrency.py`` races threads of
one process; here nothing is shared but the database and the spec folder (the thread lock
in ``spec_folder_lock`` does not reach across processes; its lock file must). One wins;
the other gets a clear error; nothing is half-written."""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from accord.deliberate import (
    Deliberation,
    DeliberationStatement,
    DeliberationVoteEvent,
    get_deliberation,
    read_opendata,
)
from accord.spec import load_spec

from .helpers import polis_folder
from .test_concurrency import _drafted, _spec_matches_the_store

# Worker processes are spawned (a fresh interpreter each, as two commands would be), not
# forked from this one with its open connections.
_CTX = mp.get_context("spawn")


def _outcome(i: int, job: str, url: str, arg: Any, barrier: Any, queue: Any) -> None:
    """Run writer ``i`` in this process once every writer is ready; report what happened."""
    from accord.accounts import write_session
    from accord.deliberate import get_proposal, import_opendata, ratify
    from accord.errors import AccordError
    from accord.store import Store

    store = Store.open(url)
    try:
        barrier.wait(timeout=300)
        # As the CLI does: the write lock first on SQLite, an ordinary session elsewhere.
        with write_session(store) as session:
            if job == "import":
                value = import_opendata(session, Path(arg), name="same").name
            else:
                version, _ = ratify(session, get_proposal(session, arg), by=f"admin-{arg}")
                value = version.hash
        queue.put((i, ("ok", value, "")))
    except AccordError as exc:  # the outcome under test
        queue.put((i, ("refused", type(exc).__name__, str(exc))))
    except BaseException as exc:  # anything else is a defect; report it, never hang
        queue.put((i, ("crashed", type(exc).__name__, str(exc))))
    finally:
        store.close()


def _race(url: str, jobs: list[tuple[str, Any]]) -> list[tuple[str, str, str]]:
    """Start one process per job, released together by a barrier; their outcomes, in the
    order of ``jobs`` (they arrive in the order the processes finished)."""
    barrier = _CTX.Barrier(len(jobs))
    queue = _CTX.Queue()
    procs = [_CTX.Process(target=_outcome, args=(i, job, url, arg, barrier, queue))
             for i, (job, arg) in enumerate(jobs)]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=600) for _ in procs)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0, p.exitcode
    return [results[i] for i in range(len(jobs))]


def test_two_processes_import_one_name_one_wins(store, db_url):
    folder = polis_folder("15-per-hour-seattle")
    results = _race(db_url, [("import", str(folder)), ("import", str(folder))])
    assert sorted(r[0] for r in results) == ["ok", "refused"], results
    refused = next(r for r in results if r[0] == "refused")
    assert refused[1] == "ConflictError" and "already exists" in refused[2], refused
    source = read_opendata(folder)
    with store.session() as s:
        row = get_deliberation(s, "same")
        assert s.scalar(select(func.count()).select_from(Deliberation)) == 1
        assert s.scalar(select(func.count()).where(
            DeliberationStatement.deliberation_id == row.id)) == len(source.statements)
        assert s.scalar(select(func.count()).where(
            DeliberationVoteEvent.deliberation_id == row.id)) == len(source.votes)


def test_two_processes_ratify_one_proposal_once(store, db_url, tmp_path):
    from .stored_helpers import copy_spec

    spec_dir = copy_spec(tmp_path / "spec")
    [pid] = _drafted(store, spec_dir, 1)
    results = _race(db_url, [("ratify", pid), ("ratify", pid)])
    assert sorted(r[0] for r in results) == ["ok", "refused"], results
    refused = next(r for r in results if r[0] == "refused")
    assert ("nothing was written" in refused[2]
            or "only a drafted proposal" in refused[2]), refused
    provenance = [r for r in load_spec(spec_dir).manifest.provenance
                  if r.details.get("proposal") == pid]
    assert len(provenance) == 1
    _spec_matches_the_store(store, spec_dir)


def test_two_processes_ratify_into_one_folder_lose_nothing(store, db_url, tmp_path):
    from .stored_helpers import copy_spec

    spec_dir = copy_spec(tmp_path / "spec")
    a, b = _drafted(store, spec_dir, 2)
    results = _race(db_url, [("ratify", a), ("ratify", b)])
    assert not [r for r in results if r[0] == "crashed"], results
    # Both land (one after the other) or the later one finds the folder changed under it
    # and writes nothing; never both written over each other, never a half-written spec.
    assert sum(r[0] == "ok" for r in results) >= 1, results
    for r in results:
        if r[0] == "refused":
            assert r[1] == "ConflictError" and "nothing was written" in r[2], r
    _spec_matches_the_store(store, spec_dir)
    ratified = {p.id for p in load_spec(spec_dir).constitution.principles}
    landed = {f"fair_{i}" for i, r in enumerate(results) if r[0] == "ok"}
    assert landed <= ratified and not ({"fair_0", "fair_1"} - landed) & ratified


def test_two_accord_commands_import_one_name(store, db_url, tmp_path):
    """The literal commands, started together: one imports, the other exits 2 with a
    one-line reason and no traceback."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "accord.toml").write_text('[project]\nname = "t"\n')
    env = {**os.environ, "ACCORD_DATABASE_URL": db_url}
    folder = polis_folder("15-per-hour-seattle")
    cmd = [sys.executable, "-m", "accord", "deliberate", "import", str(folder),
           "--name", "same", "-p", str(root)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [(p.wait(600), *p.communicate()) for p in procs]
    assert sorted(code for code, _, _ in outs) == [0, 2], outs
    failed = next(o for o in outs if o[0] == 2)
    assert "already exists" in failed[2] and "Traceback" not in failed[2], failed
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Deliberation)) == 1
