"""Model paths relative to the project folder: a copied project serves its own models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from accord.store import (
    StoreError,
    find_model_by_path,
    get_model_version,
    model_path,
    open_store,
    register_model_version,
    store_root,
)


def _project_with_model(root: Path) -> Path:
    model = root / ".accord" / "stages" / "sft-abc" / "model"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    store = open_store(url=f"sqlite:///{root / '.accord' / 'accord.sqlite3'}")
    try:
        with store.session() as session:
            register_model_version(session, name="p-sft", stage="sft",
                                   artifact_path=str(model), root=root)
    finally:
        store.close()
    return model


def test_a_copied_project_resolves_its_models_into_the_copy(tmp_path: Path) -> None:
    original = tmp_path / "original"
    model = _project_with_model(original)
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    store = open_store(url=f"sqlite:///{copy / '.accord' / 'accord.sqlite3'}")
    try:
        with store.session() as session:
            row = get_model_version(session, "p-sft")
            assert row.artifact_path == ".accord/stages/sft-abc/model"
            assert store_root(session) == copy.resolve()
            resolved = model_path(session, row)
            assert resolved == copy.resolve() / ".accord/stages/sft-abc/model"
            assert (resolved / "config.json").is_file()
            assert not str(resolved).startswith(str(original))
            # Found by its folder in the copy, by an absolute path or a relative one.
            assert find_model_by_path(session, resolved).name == "p-sft"
            assert find_model_by_path(session, model) is None  # the original's folder
    finally:
        store.close()


def test_paths_outside_the_project_and_foreign_stores_stay_absolute(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / ".accord").mkdir(parents=True)
    outside = tmp_path / "elsewhere" / "model"
    outside.mkdir(parents=True)
    store = open_store(url=f"sqlite:///{root / '.accord' / 'accord.sqlite3'}")
    try:
        with store.session() as session:
            row = register_model_version(session, name="ext", stage="external",
                                         artifact_path=str(outside), root=root)
            assert row.artifact_path == str(outside)
            assert model_path(session, row) == outside
    finally:
        store.close()
    # A store that is not a project's own file keeps what it is given, and cannot
    # resolve a relative path (it says what to do instead of guessing a folder).
    loose = open_store(url=f"sqlite:///{tmp_path / 'loose.sqlite3'}")
    try:
        with loose.session() as session:
            inside = root / "m"
            row = register_model_version(session, name="in", stage="sft",
                                         artifact_path=str(inside), root=root)
            assert row.artifact_path == str(inside)
            assert store_root(session) is None
            rel = register_model_version(session, name="rel", stage="sft",
                                         artifact_path="models/x")
            with pytest.raises(StoreError, match="relative to its project folder"):
                model_path(session, rel)
    finally:
        loose.close()
