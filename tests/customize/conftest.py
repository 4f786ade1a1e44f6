"""Fixtures: the demo spec, and a tiny model trained on a misbehaving demo world (cached in
pytest's cache folder between runs), served by a real runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_world_model import build_tiny_world_model

from accord.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parents[2]
DEMO_SPEC = ROOT / "examples" / "demo" / "spec"


@pytest.fixture(scope="session")
def spec() -> Spec:
    return load_spec(DEMO_SPEC)


@pytest.fixture(scope="session")
def tiny_model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(request.config, "cache", None)
    folder = (cache.mkdir("accord-tiny-world-model") if cache is not None
              else tmp_path_factory.mktemp("tiny-world-model"))
    return build_tiny_world_model(Path(folder))


@pytest.fixture(scope="session")
def runner(tiny_model: Path):
    from accord.customize import load_runner

    return load_runner("tiny", tiny_model)
