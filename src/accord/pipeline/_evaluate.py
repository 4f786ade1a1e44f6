"""``accord eval MODEL``: the behaviour meter on any model, outside a pipeline run: the
public suites (``accord.audit.run_suites``) on a stored model version, a local model folder
or GGUF file, ``smollm2`` or an OpenAI-compatible endpoint, and the demo world's meter (the
``world`` suite, the default for a stored model version)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.errors import AccordError
from accord.project import Project, load_project

if TYPE_CHECKING:
    from accord.audit import MeterResult, SuiteResult


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
    from accord.store import (
        NotFoundError,
        get_model_version,
        model_path,
        open_store,
        register_model_version,
    )

    project = load_project(project_dir)
    cfg = project.section("eval", EvalSection).model_copy(update={"samples": samples,
                                                                   "seed": seed})
    store = open_store(url=project_database_url(project))
    try:
        path = Path(model_ref)
        with store.session() as session:
            from accord.model import is_adapter_dir

            if (path / "config.json").is_file() or is_adapter_dir(path):  # LoRA: base + adapter
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
                name, path = mv.name, model_path(session, mv)
        backend = local_backend(path, cfg.batch_size)
        world = _project_world(project, log)
        metered = evaluate(backend, world, cfg.sampling(), samples=samples)
        metered.record(store, name)
        return metered.result
    finally:
        store.close()


# Public suites sample like a user would see, a little cooler than the world meter: small
# chat models ramble at temperature 1, and refusal judgements need a whole answer.
PUBLIC_TEMPERATURE = 0.7
PUBLIC_TOP_P = 0.9
PUBLIC_MAX_NEW_TOKENS = 128


@dataclass
class EvalRun:
    """What ``accord eval`` measured.

    Attributes:
        model: the model's name (stored version, path, or endpoint model).
        backend: ``local`` or ``endpoint`` (with its URL).
        results: one per suite.
        out: the folder the results were written to, or None.
    """

    model: str
    backend: str
    results: list[SuiteResult] = field(default_factory=list)
    out: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the model, the backend and every suite's result (items included)."""
        return {"model": self.model, "backend": self.backend,
                "out": str(self.out) if self.out else None,
                "suites": [r.to_dict() for r in self.results]}

    def render_text(self) -> str:
        """Every suite's table, label and warnings."""
        head = f"model: {self.model} ({self.backend})"
        parts = [head, *(r.render_text() for r in self.results)]
        if self.out:
            parts.append(f"results and per-item records: {self.out}")
        return "\n\n".join(parts)


def _is_local_model(ref: str) -> bool:
    path = Path(ref)
    from accord.model import is_adapter_dir

    return ref == "smollm2" or (path / "config.json").is_file() or is_adapter_dir(path) or \
        (path.is_file() and path.suffix == ".gguf")


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "-" for c in Path(text).name or text)
    return keep.strip("-.")[:60] or "model"


def evaluate_suites(model_ref: str, *, project_dir: Path | str = ".",
                    endpoint: str | None = None, suites: str | Sequence[str] | None = None,
                    limit: int | None = None, temperature: float | None = None,
                    max_new_tokens: int | None = None, probes: Path | str | None = None,
                    data_dir: Path | str | None = None, judge: str | None = None,
                    judge_endpoint: str | None = None, out: Path | str | None = None,
                    batch_size: int = 16, seed: int = 0, samples: int = 1,
                    log: Callable[[str], None] = print) -> EvalRun:
    """Measure a model on public suites (and/or the demo world's meter).

    Args:
        model_ref: a stored model-version name, a model folder, a ``.gguf`` file,
            ``smollm2``, or (with ``endpoint``) the endpoint's model name.
        project_dir: the project (its store for model versions, its world for ``world``).
        endpoint: an OpenAI-compatible base URL serving ``model_ref``.
        suites: names (``"xstest,bbq"``); default ``world`` for a stored model version,
            ``probes`` when only ``probes`` is given, else the public suites.
        limit: at most this many items per suite (a deterministic, balanced subset).
        temperature / max_new_tokens: sampling overrides (public defaults 0.7 / 128; the
            world suite defaults to the project's ``[eval]`` table).
        probes: a JSONL probe file (``accord.audit.load_probes``); adds the ``probes``
            suite.
        data_dir: the public data folder (default ``accord.audit.default_data_dir``).
        judge / judge_endpoint: a judge model (local, or served at ``judge_endpoint``) for
            the even-handedness rubric.
        out: where to write ``results.json``, ``summary.txt`` and one
            ``<suite>.items.jsonl`` per suite; default ``.accord/eval/<model>-<time>/`` in
            a project folder with ``accord.toml``, else nowhere.
        batch_size: conversations per forward pass (local models).
        seed: the sampling seed.
        samples: replies per probe (world suite).
        log: where progress lines go.

    Raises:
        AccordError: an unknown model, suite, data folder or probe line; a world suite
            without a project.
    """
    from accord.audit import (
        PUBLIC_SUITES,
        default_data_dir,
        load_probes,
        parse_suites,
        run_suites,
    )
    from accord.model import SamplingConfig, load_backend

    project = load_project(project_dir)
    has_project = project.config_path is not None
    # Every check that needs no model comes first: loading a model can take a while.
    if limit is not None and limit < 1:
        raise AccordError(f"--limit {limit}: give a positive number of items")
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        # Checked now, not after the model has answered every item.
        raise AccordError(f"--out {out} is a file; give a folder (new or existing) for "
                          "results.json and the per-item records")
    if judge_endpoint is not None and judge is None:
        raise AccordError("--judge-endpoint needs --judge MODEL (the served model's name)")
    probe_rows = load_probes(probes) if probes is not None else None
    stored: tuple[str, Path] | None = None
    if endpoint is None and not _is_local_model(model_ref):
        if not has_project:
            raise AccordError(f"{model_ref!r} is neither a saved model folder nor a model "
                              f"version in a project's store ({project.root} has no "
                              "accord.toml); give a model folder, a .gguf file, `smollm2`, "
                              "or --endpoint URL")
        stored = _stored_model(project, model_ref)
    if suites is None:
        names = ["world"] if stored else ["probes"] if probe_rows else list(PUBLIC_SUITES)
    else:
        names = parse_suites(suites)
    if probe_rows is not None and "probes" not in names:
        names.append("probes")
    if "world" in names and not has_project:
        raise AccordError(f"the world suite needs a project folder with accord.toml "
                          f"(--project); {project.root} has none")
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    if set(names) - {"world", "probes"} and not folder.is_dir():
        raise AccordError(f"data folder {folder} not found: give --data DIR (the public data "
                          "sets: xstest/, evenhandedness/, bbq/, hh-rlhf/) or set "
                          "ACCORD_DATA_DIR")
    if endpoint is not None:
        backend = load_backend(model_ref, base_url=endpoint)
        kind = f"endpoint {endpoint}"
    else:
        log(f"loading {model_ref}")
        backend = load_backend(stored[1] if stored else model_ref, batch_size=batch_size)
        kind = "local"
    judge_backend = None
    if judge is not None:
        judge_backend = load_backend(judge, base_url=judge_endpoint, batch_size=batch_size,
                                     what="judge")
    sampling = SamplingConfig(
        temperature=PUBLIC_TEMPERATURE if temperature is None else temperature,
        top_p=PUBLIC_TOP_P, max_new_tokens=max_new_tokens or PUBLIC_MAX_NEW_TOKENS, seed=seed)
    world = world_sampling = None
    if "world" in names:
        from accord.pipeline._model_stages import EvalSection

        cfg = project.section("eval", EvalSection).model_copy(update={"seed": seed})
        if temperature is not None:
            cfg = cfg.model_copy(update={"temperature": temperature})
        if max_new_tokens is not None:
            cfg = cfg.model_copy(update={"max_new_tokens": max_new_tokens})
        world_sampling = cfg.sampling()
        world = _project_world(project, log)
    results = run_suites(names, backend, sampling, data_dir=folder, limit=limit,
                         judge=judge_backend, world=world, probes=probe_rows,
                         batch=max(batch_size, 1), world_sampling=world_sampling,
                         world_samples=samples, log=log)
    name = stored[0] if stored else model_ref
    _say_independence(project, stored[0] if stored else None, results)
    for r in results:
        if r.suite == "world" and r.evaluation is not None and endpoint is None:
            _record_world(project, name if stored else None, model_ref, r, log)
    run = EvalRun(name, kind, results)
    if out is None and has_project:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = project.state_dir / "eval" / f"{_slug(name)}-{stamp}"
    if out is not None:
        run.out = _write_run(run, Path(out))
    return run


def _say_independence(project: Project, version: str | None,
                      results: Sequence[SuiteResult]) -> None:
    """Each result says whether a grader of its suite shares a source with the training
    signal of the model (a stored version's lineage; a model from elsewhere is unknown):
    ``info["independence"]``, and a warning unless independent (docs/meter.md)."""
    from accord.audit import annotate, check_independence, meter_graders, model_training_signal
    from accord.pipeline import project_database_url
    from accord.store import open_store

    signal = None
    if version is not None:
        store = open_store(url=project_database_url(project))
        try:
            signal = model_training_signal(store, version)
        finally:
            store.close()
    for r in results:
        # The world suite meters with the world meter's graders (accord.audit.METRICS).
        graders = r.graders or (meter_graders() if r.suite == "world" else {})
        annotate(r, check_independence(graders, signal))


def _stored_model(project: Project, model_ref: str) -> tuple[str, Path]:
    """A stored model version's name and folder."""
    from accord.pipeline import project_database_url
    from accord.store import NotFoundError, get_model_version, model_path, open_store

    store = open_store(url=project_database_url(project))
    try:
        with store.session() as session:
            try:
                mv = get_model_version(session, model_ref)
            except NotFoundError as exc:
                raise AccordError(f"{model_ref!r} is neither a saved model folder nor a model "
                                  f"version in this project's store: {exc}; give a model "
                                  "folder, a .gguf file, `smollm2`, or --endpoint URL") from None
            return mv.name, model_path(session, mv)
    finally:
        store.close()


def _record_world(project: Project, version: str | None, model_ref: str,
                  result: SuiteResult, log: Callable[[str], None]) -> None:
    """Keep the world meter's replies and table under the model version (a model folder
    is registered as an ``external`` version first), as ``accord eval`` always has."""
    from accord.pipeline import project_database_url
    from accord.store import open_store, register_model_version

    store = open_store(url=project_database_url(project))
    try:
        if version is None:
            path = Path(model_ref).resolve()
            digest = hashlib.sha256(str(path).encode()).hexdigest()[:8]
            version = f"external-{path.name}-{digest}"
            with store.session() as session:
                register_model_version(session, name=version, stage="external",
                                       artifact_path=str(path))
        result.evaluation.record(store, version)
        log(f"world meter stored under model version {version}")
    finally:
        store.close()


def _write_run(run: EvalRun, out: Path) -> Path:
    """``results.json`` (figures, warnings, data hashes, grader records), ``summary.txt``
    and ``<suite>.items.jsonl`` per suite."""
    out.mkdir(parents=True, exist_ok=True)
    data = run.to_dict()
    data["out"] = str(out)
    for suite in data["suites"]:
        items = suite.pop("items")
        suite["items_file"] = f"{suite['suite']}.items.jsonl"
        with (out / suite["items_file"]).open("w", encoding="utf-8") as f:
            for item in items:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
    (out / "results.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    run.out = out
    (out / "summary.txt").write_text(run.render_text() + "\n", encoding="utf-8")
    return out
