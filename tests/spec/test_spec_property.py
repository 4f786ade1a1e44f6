"""Property tests of the spec loader (issue 16): whatever bytes a spec file holds, loading
gives a spec or a SpecError whose every issue names its file (and, when the text was read,
a line and column), never another exception or a hang. Time-boxed with ``max_examples``."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.spec import SpecError, load_spec

BASE = Path(__file__).parent / "fixtures" / "base"
FILES = ["spec.yaml", "guidelines.yaml", "bounds.yaml", "constitution.yaml", "rules.yaml"]
# Text made of YAML's own punctuation finds parser corners far faster than random bytes.
YAML_ALPHABET = st.sampled_from([*"[]{}:,-?&*!|>'\"#%@` \n\tab1.~", "\\", "\ud800", "\x00",
                                 "é"])


def _check(name: str, content: bytes) -> None:
    folder = Path(tempfile.mkdtemp(prefix="spec-fuzz-"))
    try:
        shutil.copytree(BASE, folder, dirs_exist_ok=True)
        (folder / name).write_bytes(content)
        try:
            load_spec(folder)
        except SpecError as exc:
            assert exc.issues, "a SpecError always lists its issues"
            for issue in exc.issues:
                assert issue.file in FILES and issue.message
                assert (issue.line is None) == (issue.column is None)
    finally:
        shutil.rmtree(folder)


@settings(max_examples=100, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(FILES), content=st.binary(max_size=400))
def test_any_bytes_give_a_spec_or_located_issues(name: str, content: bytes) -> None:
    _check(name, content)


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(FILES), text=st.text(YAML_ALPHABET, max_size=300))
def test_any_yaml_punctuation_gives_a_spec_or_located_issues(name: str, text: str) -> None:
    _check(name, text.encode("utf-8", "surrogatepass"))


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(FILES[1:]), data=st.data())
def test_edits_of_a_valid_file_give_a_spec_or_located_issues(name: str,
                                                             data: st.DataObject) -> None:
    """Small edits of a real file reach the validator and checker, not just the parser."""
    text = (BASE / name).read_text(encoding="utf-8")
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 40)))
    insert = data.draw(st.text(YAML_ALPHABET, max_size=30))
    _check(name, (text[:start] + insert + text[end:]).encode("utf-8", "surrogatepass"))
