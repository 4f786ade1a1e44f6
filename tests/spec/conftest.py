"""Fixtures for the spec tests: a small valid base spec and a way to break it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

BASE = Path(__file__).parent / "fixtures" / "base"

# file name -> list of (old text, new text); old must occur exactly once. A new text of
# None deletes the file; an old text of "" replaces the whole file with the new text.
Edits = dict[str, list[tuple[str, str | None]]]


def apply_edits(folder: Path, edits: Edits) -> Path:
    """Apply text edits to the spec files in ``folder`` (see ``Edits``)."""
    for name, changes in edits.items():
        file = folder / name
        for old, new in changes:
            if new is None:
                file.unlink()
                continue
            if old == "":
                file.write_text(new, encoding="utf-8")
                continue
            text = file.read_text(encoding="utf-8")
            assert text.count(old) == 1, f"{name}: {old!r} must occur exactly once"
            file.write_text(text.replace(old, new), encoding="utf-8")
    return folder


@pytest.fixture
def make_spec(tmp_path: Path) -> Callable[[Edits], Path]:
    """Copy the base spec into a temporary folder and apply edits to it."""

    made = 0

    def make(edits: Edits) -> Path:
        nonlocal made
        made += 1
        folder = tmp_path / f"spec{made}"
        shutil.copytree(BASE, folder)
        return apply_edits(folder, edits)

    return make
