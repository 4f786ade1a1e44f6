"""One default world per test session: building it takes a few seconds."""

from __future__ import annotations

import pytest

from accord.world import World, WorldConfig, build_world


@pytest.fixture(scope="session")
def world() -> World:
    return build_world(WorldConfig())


@pytest.fixture(scope="session")
def small_config() -> WorldConfig:
    """A small world for tests that build several (chat text is cached per process)."""
    return WorldConfig(n_dialogues=600, n_review=20, n_sft=60, n_rl=20, n_preference_pairs=60,
                       n_probe=15)


@pytest.fixture(scope="session")
def dialogues(world: World) -> list[dict]:
    """The default world's pretraining dialogues (plain-text documents left out)."""
    return [d for d in world.pretrain_documents if "messages" in d]


@pytest.fixture(scope="session")
def small_world(small_config: WorldConfig) -> World:
    return build_world(small_config)
