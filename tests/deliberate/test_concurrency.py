"""Concurrent writers, on SQLite and PostgreSQL (issue 15): two imports under one name, and
two ratifications into one spec folder, started together from threads. One wins; the
other gets a clear error; nothing is half-written (rows, spec files, spec versions)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from accord.accounts import write_session
from accord.deliberate import (
    Deliberation,
    DeliberationProposal,
    DeliberationStatement,
    DeliberationVoteEvent,
    draft,
    get_deliberation,
    get_proposal,
    import_opendata,
    propose,
    ratify,
    read_opendata,
)
from accord.errors import AccordError
from accord.spec import load_spec
from accord.store import ConflictError, SpecVersion

from .helpers import polis_folder
from .stored_helpers import copy_spec, two_camp_deliberation


def _race(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs in threads released together; each result is a value or the error."""
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = jobs[i]()
        except Exception as exc:  # the outcome under test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _import_into(store, session_of) -> Callable[[], str]:
    def job() -> str:
        with session_of(store) as s:
            return import_opendata(s, polis_folder("15-per-hour-seattle"), name="same").name
    return job


def _plain(store):
    return store.session()


def test_two_imports_of_one_name_one_wins(store):
    # Both ways a writer opens its transaction: the write lock first (the CLI and the web
    # app on SQLite) and an ordinary session.
    for round_, session_of in enumerate((write_session, _plain)):
        name = "same"
        if round_:
            with store.session() as s:
                s.delete(get_deliberation(s, name))
        results = _race(_import_into(store, session_of), _import_into(store, session_of))
        wins = [r for r in results if r == name]
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(wins) == 1 and len(errors) == 1, results
        error = errors[0]
        assert isinstance(error, AccordError), repr(error)
        assert "already exists" in str(error), str(error)
        source = read_opendata(polis_folder("15-per-hour-seattle"))
        with store.session() as s:
            row = get_deliberation(s, name)
            assert s.scalar(select(func.count()).select_from(Deliberation)) == 1
            assert s.scalar(select(func.count()).where(
                DeliberationStatement.deliberation_id == row.id)) == len(source.statements)
            assert s.scalar(select(func.count()).where(
                DeliberationVoteEvent.deliberation_id == row.id)) == len(source.votes)


PRINCIPLE = {"text": "On contested topics the assistant presents the main views fairly.",
             "critique": "Does the response favour one view?", "revision": "Rewrite it.",
             "comparison": "Which is fairer?"}


def _drafted(store, spec_dir, n: int) -> list[int]:
    """``n`` drafted proposals of the same deliberation, each adding its own principle."""
    with store.session() as s:
        row = two_camp_deliberation(s, config={"spec_dir": str(spec_dir)})
        first = propose(s, row)[0]
        ids = [first.id]
        for _ in range(n - 1):
            extra = DeliberationProposal(deliberation_id=row.id, status="proposed",
                                         statement_numbers=first.statement_numbers,
                                         tallies=first.tallies, basis=first.basis)
            s.add(extra)
            s.flush()
            ids.append(extra.id)
        for i, pid in enumerate(ids):
            draft(s, get_proposal(s, pid), "principle", {"id": f"fair_{i}", **PRINCIPLE},
                  by="ana")
    return ids


def _ratify(store, pid: int) -> Callable[[], str]:
    def job() -> str:
        with store.session() as s:
            version, _ = ratify(s, get_proposal(s, pid), by=f"admin-{pid}")
            return version.hash
    return job


def _spec_matches_the_store(store, spec_dir) -> None:
    """The files and the store agree: every ratified proposal's principle is in the spec
    exactly once, no other is, and the newest spec version is the folder's content."""
    spec = load_spec(spec_dir)
    ids = [p.id for p in spec.constitution.principles]
    with store.session() as s:
        proposals = s.scalars(select(DeliberationProposal)).all()
        newest = s.scalars(select(SpecVersion).order_by(SpecVersion.id.desc())).first()
        for p in proposals:
            inside = ids.count(p.change["id"])
            assert inside == (1 if p.status == "ratified" else 0), (p.id, p.status, inside)
        assert newest is not None and newest.hash == spec.hash


def test_one_proposal_ratified_twice_at_once_is_ratified_once(store, tmp_path):
    spec_dir = copy_spec(tmp_path / "spec")
    [pid] = _drafted(store, spec_dir, 1)
    results = _race(_ratify(store, pid), _ratify(store, pid))
    wins = [r for r in results if isinstance(r, str)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1 and len(errors) == 1, results
    assert isinstance(errors[0], AccordError), repr(errors[0])
    assert ("nothing was written" in str(errors[0])
            or "only a drafted proposal" in str(errors[0])), str(errors[0])
    provenance = [r for r in load_spec(spec_dir).manifest.provenance
                  if r.details.get("proposal") == pid]
    assert len(provenance) == 1
    _spec_matches_the_store(store, spec_dir)


def test_two_ratifications_into_one_folder_lose_nothing(store, tmp_path):
    spec_dir = copy_spec(tmp_path / "spec")
    a, b = _drafted(store, spec_dir, 2)
    results = _race(_ratify(store, a), _ratify(store, b))
    errors = [r for r in results if isinstance(r, Exception)]
    # Started together, the second finds the folder changed under it and writes nothing
    # (if the scheduler ran them one after the other, both land, one on top of the other).
    assert sum(isinstance(r, str) for r in results) >= 1 and len(errors) <= 1, results
    for error in errors:
        assert isinstance(error, ConflictError), repr(error)
        assert "nothing was written" in str(error)
    _spec_matches_the_store(store, spec_dir)
    # Ratified again, the refused one lands on top of the first: both are in the spec.
    for pid, result in zip((a, b), results, strict=True):
        if isinstance(result, Exception):
            _ratify(store, pid)()
    _spec_matches_the_store(store, spec_dir)
    assert {"fair_0", "fair_1"} <= {p.id for p in load_spec(spec_dir).constitution.principles}
