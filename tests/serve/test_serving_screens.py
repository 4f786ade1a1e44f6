"""Which screens a served model gets: the demo world's models (lineage from a pretrain on the
demo world) keep the world screens; base and external models get the real-text ones."""

from __future__ import annotations

from pathlib import Path

from accord.serve._serving import is_world_model
from accord.store import register_model_version


def _folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


def test_lineage_decides_whether_a_model_is_the_demo_worlds(store, tmp_path):
    demo, sft, base, tuned, loose = (_folder(tmp_path, n) for n in
                                     ("demo", "sft", "base", "tuned", "loose"))
    with store.session() as session:
        root = register_model_version(session, name="demo-base", stage="pretrain",
                                      artifact_path=str(demo.resolve()),
                                      config={"base_model": None},
                                      datasets={"world": "ab" * 32})
        register_model_version(session, name="demo-sft", stage="sft", parent=root,
                               artifact_path=str(sft.resolve()))
        imported = register_model_version(session, name="smol-base", stage="pretrain",
                                          artifact_path=str(base.resolve()),
                                          config={"base_model": "smollm2"},
                                          datasets={"world": "cd" * 32})
        register_model_version(session, name="smol-sft", stage="sft", parent=imported,
                               artifact_path=str(tuned.resolve()))
    assert is_world_model(store, demo) and is_world_model(store, sft)
    assert not is_world_model(store, base) and not is_world_model(store, tuned)
    assert not is_world_model(store, loose)  # a folder the store does not know
