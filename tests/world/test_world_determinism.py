"""Same seed → same world, byte for byte; saving and loading keep it (and its hash)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from accord.errors import AccordError
from accord.world import World, WorldConfig, build_world


def _bytes(directory) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_same_seed_gives_identical_hash_and_bytes(small_config: WorldConfig, tmp_path):
    a, b = build_world(small_config), build_world(dataclasses.replace(small_config))
    assert a.hash == b.hash and len(a.hash) == 64
    assert _bytes(a.save(tmp_path / "a")) == _bytes(b.save(tmp_path / "b"))


def test_a_different_seed_gives_a_different_world(small_config: WorldConfig):
    a = build_world(small_config)
    b = build_world(dataclasses.replace(small_config, seed=small_config.seed + 1))
    assert a.hash != b.hash
    assert a.pretrain_documents != b.pretrain_documents


def test_save_load_round_trip(small_config: WorldConfig, tmp_path):
    world = build_world(small_config)
    world.save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["hash"] == world.hash
    assert manifest["config"] == dataclasses.asdict(small_config)
    loaded = World.load(tmp_path)
    assert loaded.hash == world.hash
    assert loaded.pretrain_documents == world.pretrain_documents
    assert loaded.prompts == world.prompts and loaded.probes == world.probes
    assert loaded.sft_examples == world.sft_examples
    assert loaded.preference_pairs == world.preference_pairs
    assert loaded.inventories == world.inventories and loaded.config == world.config
    probe = loaded.probes["facts"][0]
    fact = loaded.facts.by_id[probe["meta"]["fact_id"]]
    assert loaded.check_answer(probe, fact.statement)


def test_load_refuses_altered_files(small_config: WorldConfig, tmp_path):
    build_world(small_config).save(tmp_path)
    path = tmp_path / "sft_examples.jsonl"
    path.write_text(path.read_text().replace("I can't help", "Sure, I can help"))
    with pytest.raises(AccordError, match="changed after saving"):
        World.load(tmp_path)


def test_load_names_a_missing_manifest(tmp_path):
    with pytest.raises(AccordError, match="no world manifest"):
        World.load(tmp_path)


@pytest.mark.parametrize("change, fragment", [
    ({"p_preachy": 1.5}, "p_preachy"),
    ({"n_sft": -1}, "n_sft"),
    ({"kind_weights": {"poetry": 1.0}}, "unknown prompt kinds"),
    ({"p_offensive_when_asked_to_insult": 0.9, "p_preachy": 0.2}, "sum to"),
])
def test_config_errors_name_the_field(change, fragment):
    with pytest.raises(AccordError, match=fragment):
        build_world(WorldConfig(**change))
