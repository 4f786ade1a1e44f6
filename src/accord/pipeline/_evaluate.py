"""``accord eval MODEL``: the behaviour meter on any model version, outside a pipeline run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from accord.errors import AccordError
from accord.project import Project, load_project

if TYPE_CHECKING:
    from accord.audit import MeterResult


def _project_world(project: Project, log: Callable[[str], None]):
    """The world of the project's last run, or one built from its ``[world]`` table."""
    from accord.pipeline._model_stages import WorldSection
    from accord.world import World, WorldConfig, build_world

    run_json = project.state_dir / "run" / "run.json"
    if run_json.exists():
        record = json.loads(run_json.read_text())
        if "world" in record and (Path(record["world"]["dir"]) / "world").exists():
            return World.load(Path(record["world"]["dir"]) / "world")
    from accord.pipeline._config import build_dataclass

    log("no world from an earlier run; building it from [world]")
    return build_world(build_dataclass(WorldConfig, project.section("world", WorldSection)))


def evaluate_model(project_dir: Path | str, model_ref: str, *, samples: int = 1, seed: int = 0,
                   log: Callable[[str], None] = print) -> MeterResult:
    """Measure ``model_ref`` with the behaviour meter (``accord.audit.evaluate``), sampling
    as the project's ``[eval]`` table says.

    The probes' completions go to the store under that model version and the table into
    its metrics, so reports and audits can cite them.

    Args:
        project_dir: the project folder (its store, ``[eval]`` and last run's world).
        model_ref: a stored model-version name, or a saved model folder (registered as
            an ``external`` model version).
        samples: replies per probe.
        seed: the sampling seed (and the examples kept).
        log: where progress lines go.

    Raises:
        AccordError: ``model_ref`` is neither.
    """
    from accord.audit import evaluate
    from accord.pipeline import project_database_url
    from accord.pipeline._model_stages import EvalSection, local_backend
    from accord.store import NotFoundError, get_model_version, open_store, register_model_version

    project = load_project(project_dir)
    cfg = project.section("eval", EvalSection).model_copy(update={"samples": samples,
                                                                   "seed": seed})
    store = open_store(url=project_database_url(project))
    try:
        path = Path(model_ref)
        with store.session() as session:
            if (path / "config.json").is_file():
                digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
                name = f"external-{path.resolve().name}-{digest}"
                register_model_version(session, name=name, stage="external",
                                       artifact_path=str(path.resolve()))
            else:
                try:
                    mv = get_model_version(session, model_ref)
                except NotFoundError as exc:
                    raise AccordError(f"{model_ref!r} is neither a saved model folder nor a "
                                      f"model version in this project's store: {exc}") from None
                name, path = mv.name, Path(mv.artifact_path)
        backend = local_backend(path, cfg.batch_size)
        world = _project_world(project, log)
        metered = evaluate(backend, world, cfg.sampling(), samples=samples)
        metered.record(store, name)
        return metered.result
    finally:
        store.close()
