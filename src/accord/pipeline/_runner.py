"""The stage runner behind ``accord run``: stages in order, cached by the hash of their inputs.

A stage's *key* hashes its name, code version, its ``accord.toml`` table, any extra
fingerprint it declares (e.g. the spec's content hash) and the *run ids* of the stages it
reads. Its work folder is ``.accord/stages/<name>-<key>/``; ``done.json`` in it marks
completion and carries the stage's figures and a fresh run id. So:

* a second run finds every ``done.json`` and skips the work (seconds);
* changing a knob changes that stage's key, so it and everything downstream re-run;
* ``--force X`` re-runs X; its new run id invalidates everything that reads it;
* a run interrupted mid-stage finds the same folder without ``done.json`` and re-runs the
  stage there, so stages that checkpoint (pretraining) resume where they stopped;
* a stage whose output no later stage of this project reads (the demo world and the
  tokenizer in a project that imports a base model and gives its own ``[data]``) is
  *skipped*: its ``done.json`` carries ``{"skipped": reason}`` and no work is done. The
  reason is part of the key, so a project that starts reading it runs it.

Each ``done.json`` also records the stage's CPU seconds (this process and its children):
on a shared machine wall-clock time says more about the neighbours than about the stage.
"""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from accord.errors import AccordError
from accord.project import Project


class PipelineError(AccordError):
    """A run cannot proceed as asked (unknown stage, missing upstream output...)."""


@dataclass(frozen=True)
class Stage:
    """One step of the main job.

    Args:
        name: the stage name, also its ``accord.toml`` table.
        run: does the work; writes files into ``ctx.dir`` and returns JSON-able figures.
        config: the pydantic model of the stage's table.
        reads: the stages whose outputs this one uses (they must come earlier).
        version: bump when a code change alters the stage's output, to invalidate caches.
        fingerprint: extra inputs not in the config (e.g. the spec's content hash).
        describe: a one-line summary of the figures for the console.
        report: the stage's section of ``report.html`` (HTML fragments), if it has one.
        data: the ``[data]`` files (kinds) the stage reads when a project gives them; their
            SHA-256 is part of the stage's key, so a changed file re-runs it.
        skip: ``(project, state) -> reason or None``: why no later stage of this project
            reads the stage's output (it is then skipped with that reason), else None.
    """

    name: str
    run: Callable[[StageContext], dict[str, Any]]
    config: type[BaseModel]
    reads: tuple[str, ...] = ()
    version: str = "1"
    fingerprint: Callable[[Project], str] | None = None
    describe: Callable[[dict[str, Any]], str] | None = None
    report: Callable[[StageOutput], list[Any]] | None = None
    title: str = ""
    data: tuple[str, ...] = ()
    skip: Callable[[Project, dict[str, Any]], str | None] | None = None


@dataclass
class StageOutput:
    """A finished stage: where its files are and what it measured."""

    name: str
    key: str
    dir: Path
    run_id: str
    seconds: float
    figures: dict[str, Any]
    cached: bool = False
    cpu_seconds: float | None = None
    """CPU time of the stage (process and children); None for runs recorded before it."""

    @property
    def skipped(self) -> str | None:
        """Why the stage was skipped (nothing of this project reads it), or None."""
        return self.figures.get("skipped")

    @property
    def models(self) -> dict[str, dict[str, str]]:
        """The models the stage trained: label (``SFT``, ``SFT+DPO``...) →
        ``{"model_version", "model_dir"}``; every training stage returns them as its
        ``models`` figure, so later stages find them without knowing the stage. Empty for
        stages that train nothing."""
        return self.figures.get("models", {})


def models_figure(label: str, model_version: str, model_dir: str | Path,
                  ) -> dict[str, dict[str, str]]:
    """A training stage's ``models`` figure for one model (see :attr:`StageOutput.models`)."""
    return {label: {"model_version": model_version, "model_dir": str(model_dir)}}


@dataclass
class StageContext:
    """What a stage's ``run`` receives."""

    project: Project
    config: Any
    dir: Path
    inputs: dict[str, StageOutput]
    state: dict[str, Any] = field(default_factory=dict)
    """Objects shared by the stages of one run (e.g. the open store)."""


@dataclass
class RunResult:
    outputs: dict[str, StageOutput]
    ran: list[str]
    skipped: list[str]


def _moved(value: Any, old_root: str | None, new_root: str) -> Any:
    """A cached stage's figures with paths under the folder where it ran re-rooted to the
    project's folder now, so a copied (or moved) project reads its own files."""
    if not old_root or old_root == new_root:
        return value
    if isinstance(value, str):
        if value == old_root or value.startswith(old_root + "/"):
            return new_root + value[len(old_root):]
        return value
    if isinstance(value, dict):
        return {k: _moved(v, old_root, new_root) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved(v, old_root, new_root) for v in value]
    return value


def _digest(obj: Any) -> str:
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def _new_defaults(config: BaseModel) -> set[str]:
    """Keys added to a table after caches were made (the model's ``new_keys`` class
    variable) that still hold their defaults: left out of the stage key, so adding them
    did not re-run every project's cached stages."""
    fields = type(config).model_fields
    return {name for name in getattr(type(config), "new_keys", ())
            if getattr(config, name) == fields[name].get_default(call_default_factory=True)}


_TORCH_THREADS: list[int] = []  # torch's own thread count, read before the first change


def _stage_threads() -> int | None:
    """Set torch's CPU threads for the next stage (``accord.train.contended_threads``: one
    on an oversubscribed machine, where two threads that wait on each other are many times
    slower); back to torch's own count when the machine is free again. Returns the count
    set, or None when torch is left alone."""
    import sys

    from accord.train import contended_threads

    threads = contended_threads()
    if threads is None and "torch" not in sys.modules:
        return None
    import torch

    if not _TORCH_THREADS:
        _TORCH_THREADS.append(torch.get_num_threads())
    torch.set_num_threads(threads or _TORCH_THREADS[0])
    return threads


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def stage_key(stage: Stage, project: Project, config: BaseModel,
              inputs: dict[str, StageOutput], skipped: str | None = None) -> str:
    parts = {
        "stage": stage.name,
        "version": stage.version,
        "config": config.model_dump(mode="json", exclude=_new_defaults(config)),
        "fingerprint": stage.fingerprint(project) if stage.fingerprint else None,
        "inputs": {name: out.run_id for name, out in sorted(inputs.items())},
    }
    if stage.data:
        from accord.pipeline._data import data_fingerprint

        # Only when the project gives files, so keys of projects without [data] stay put.
        given = data_fingerprint(project, stage.data)
        if given:
            parts["data"] = given
    if skipped:
        # Only when skipped, so keys of stages that run stay put.
        parts["skipped"] = skipped
    return _digest(parts)[:16]


def run_pipeline(project: Project, stages: Sequence[Stage], *, start: str | None = None,
                 until: str | None = None, force: Sequence[str] = (),
                 log: Callable[[str], None] = print,
                 state: dict[str, Any] | None = None,
                 services: dict[str, Callable[[], type[BaseModel]]] | None = None) -> RunResult:
    """Run ``stages`` in order, skipping those whose outputs are cached.

    Args:
        project: the loaded project folder.
        stages: the stages in order; each may only read earlier ones.
        start: re-run this stage and all after it; earlier stages must already be done.
        until: stop after this stage.
        force: re-run these stages even if cached (their dependents follow).
        log: where one line per stage goes.
        state: shared objects handed to every stage (``StageContext.state``).
        services: tables that configure services rather than stages (e.g. ``[review]``
            for ``accord serve``), each with a function returning its pydantic model;
            they are validated too, so a typo fails before the run starts.
    """
    names = [s.name for s in stages]
    for asked in [start, until, *force]:
        if asked is not None and asked not in names:
            raise PipelineError(f"unknown stage {asked!r}; stages: {', '.join(names)}")
    if start and until and names.index(start) > names.index(until):
        raise PipelineError(f"--from {start} comes after --until {until}")
    # Validate every table first: a typo in a late stage fails before hours of work.
    configs = {s.name: project.section(s.name, s.config) for s in stages}
    for table, model in (services or {}).items():
        project.section(table, model())
    # The project's own data files ([data]) are read and checked before anything runs too.
    from accord.pipeline._data import project_data

    shared = state if state is not None else {}
    project_data(shared, project)
    known = set(names) | {"project", "data"} | set(services or {})
    unknown = sorted(set(project.tables) - known)
    if unknown:
        raise PipelineError(f"{project.config_path}: unknown table(s) {', '.join(unknown)}; "
                            f"tables: {', '.join(['project', 'data', *names, *(services or {})])}")

    root = project.state_dir / "stages"
    root.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, StageOutput] = {}
    ran: list[str] = []
    skipped: list[str] = []
    started = start is None
    for stage in stages:
        if stage.name == start:
            started = True
        inputs = {}
        for dep in stage.reads:
            if dep not in outputs:
                raise PipelineError(f"stage {stage.name} reads {dep}, which has not run")
            inputs[dep] = outputs[dep]
        reason = stage.skip(project, shared) if stage.skip else None
        key = stage_key(stage, project, configs[stage.name], inputs, reason)
        work = root / f"{stage.name}-{key}"
        done = work / "done.json"
        must_run = started and (stage.name == start or stage.name in force
                                or (start is not None) or not done.exists())
        if not started and not done.exists():
            raise PipelineError(f"--from {start}: earlier stage {stage.name} has no "
                                "finished output; run without --from first")
        if not must_run:
            record = json.loads(done.read_text())
            figures = _moved(record["figures"], record.get("root"), str(project.root))
            outputs[stage.name] = StageOutput(stage.name, key, work, record["run_id"],
                                              record["seconds"], figures, cached=True,
                                              cpu_seconds=record.get("cpu_seconds"))
            skipped.append(stage.name)
            log(f"[{stage.name}] cached ({work.relative_to(project.root)})")
        else:
            if done.exists():
                done.unlink()
                # A forced re-run starts clean; an interrupted one (no done.json) keeps its
                # checkpoints so the stage can resume.
                shutil.rmtree(work)
            work.mkdir(parents=True, exist_ok=True)
            t0, cpu0 = time.monotonic(), _cpu_seconds()
            if reason:
                figures: dict[str, Any] = {"skipped": reason}
            else:
                threads = _stage_threads()
                log(f"[{stage.name}] running"
                    + (f" ({threads} CPU thread{'s' if threads > 1 else ''})" if threads else ""))
                ctx = StageContext(project, configs[stage.name], work, inputs, shared)
                figures = stage.run(ctx)
            seconds = round(time.monotonic() - t0, 3)
            cpu = round(_cpu_seconds() - cpu0, 3)
            record = {"stage": stage.name, "key": key, "run_id": uuid.uuid4().hex,
                      "seconds": seconds, "cpu_seconds": cpu, "figures": figures,
                      "root": str(project.root),
                      "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            tmp = work / "done.json.tmp"
            tmp.write_text(json.dumps(record, indent=2, default=str))
            tmp.replace(done)  # atomic: a crash leaves either no marker or a whole one
            outputs[stage.name] = StageOutput(stage.name, key, work, record["run_id"],
                                              seconds, figures, cpu_seconds=cpu)
            ran.append(stage.name)
            if reason:
                log(f"[{stage.name}] skipped: {reason}")
            else:
                summary = stage.describe(figures) if stage.describe else ""
                log(f"[{stage.name}] done in {seconds:.1f}s (cpu {cpu:.0f}s) {summary}"
                    .rstrip())
        if stage.name == until:
            break
    return RunResult(outputs, ran, skipped)
