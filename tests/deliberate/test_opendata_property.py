"""Property test of the openData importer (issue 16): whatever a file of an openData
folder holds, ``import_opendata`` gives a deliberation or an AccordError naming the file
(and, for bad cells, the line), and an error leaves no row behind in a real SQLite store.
Time-boxed with ``max_examples``."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.deliberate import Participant, import_opendata, write_opendata
from accord.errors import AccordError
from accord.store import ConflictError, Store

from .helpers import conversation_from_matrix, two_camps
from .stored_helpers import row_counts

FILES = ["comments.csv", "votes.csv", "participants-votes.csv", "summary.csv",
         "accord-participants.csv"]
CELLS = st.one_of(st.sampled_from(["", "-1", "0", "1", "2", "1.5", "nan", "inf", "-inf", "1e400",
                                   "²", "9223372036854775808", "-9223372036854775809",
                                   "99999999999999999999999", "\x00", "\"", "a,b", "\n", "é"]),
                  st.text(max_size=8))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("opendata-base") / "conv"
    conv = conversation_from_matrix(two_camps(4, 4))
    conv.participants[0] = Participant(0, 1, {"region": "north"}, "tok")
    write_opendata(conv, folder)
    return folder


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    opened = Store.open(f"sqlite:///{tmp_path_factory.mktemp('opendata-db') / 'a.sqlite3'}")
    yield opened
    opened.close()


def _import(base: Path, store: Store, name: str, content: bytes) -> None:
    folder = Path(tempfile.mkdtemp(prefix="od-fuzz-")) / "conv"
    shutil.copytree(base, folder)
    try:
        (folder / name).write_bytes(content)
        before = row_counts(store)
        try:
            with store.session() as session:
                import_opendata(session, folder, name="fuzzed")
                session.rollback()  # keep the store empty for the next example
        except ConflictError:
            raise
        except AccordError as exc:
            assert re.search(r"\.csv(:\d+)?: ", str(exc)), str(exc)
            assert row_counts(store) == before, "an error left rows behind"
    finally:
        shutil.rmtree(folder.parent)


@settings(max_examples=120, deadline=5000, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILES), content=st.binary(max_size=300))
def test_any_bytes_in_a_file(base: Path, store: Store, name: str, content: bytes) -> None:
    _import(base, store, name, content)


@settings(max_examples=150, deadline=5000, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILES), data=st.data())
def test_any_cell_of_a_valid_folder(base: Path, store: Store, name: str,
                                    data: st.DataObject) -> None:
    """One cell of a real export replaced: reaches every parser and range check."""
    lines = (base / name).read_text(encoding="utf-8").split("\n")
    row = data.draw(st.integers(0, max(len(lines) - 2, 0)))
    cells = lines[row].split(",")
    column = data.draw(st.integers(0, len(cells) - 1))
    cells[column] = data.draw(CELLS)
    lines[row] = ",".join(cells)
    _import(base, store, name, "\n".join(lines).encode("utf-8", "surrogatepass"))
