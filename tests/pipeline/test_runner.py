"""The stage runner: caching by input hash, invalidation, --from/--until/--force, resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from accord.pipeline import PipelineError, Stage, StageContext, run_pipeline
from accord.project import ProjectError, load_project


class Knobs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = 1


def make_stages(calls: list[str], fail_in: set[str] | None = None) -> list[Stage]:
    fail_in = fail_in if fail_in is not None else set()

    def first(ctx: StageContext) -> dict[str, Any]:
        calls.append("first")
        (ctx.dir / "out.txt").write_text(str(ctx.config.n))
        return {"n": ctx.config.n}

    def second(ctx: StageContext) -> dict[str, Any]:
        calls.append("second")
        # Resumable stages find what they left in their folder after an interruption.
        marker = ctx.dir / "progress"
        resumed = marker.exists()
        marker.write_text("half")
        if "second" in fail_in:
            fail_in.discard("second")
            raise KeyboardInterrupt
        upstream = int((ctx.inputs["first"].dir / "out.txt").read_text())
        return {"double": 2 * upstream, "resumed": resumed}

    def third(ctx: StageContext) -> dict[str, Any]:
        calls.append("third")
        return {"seen": ctx.inputs["second"].figures["double"]}

    return [Stage("first", first, Knobs), Stage("second", second, Knobs, reads=("first",)),
            Stage("third", third, Knobs, reads=("second",))]


def write_project(root: Path, toml: str = "") -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "accord.toml").write_text(toml)


def test_second_run_is_cached_and_knob_change_reruns_downstream(tmp_path: Path) -> None:
    write_project(tmp_path, "[first]\nn = 3\n")
    calls: list[str] = []
    result = run_pipeline(load_project(tmp_path), make_stages(calls), log=lambda _: None)
    assert calls == ["first", "second", "third"]
    assert result.outputs["third"].figures == {"seen": 6}

    calls.clear()
    result = run_pipeline(load_project(tmp_path), make_stages(calls), log=lambda _: None)
    assert calls == []
    assert result.skipped == ["first", "second", "third"]

    # Changing the second stage's knob re-runs it and what reads it, not the first stage.
    write_project(tmp_path, "[first]\nn = 3\n[second]\nn = 2\n")
    calls.clear()
    run_pipeline(load_project(tmp_path), make_stages(calls), log=lambda _: None)
    assert calls == ["second", "third"]


def test_force_from_until(tmp_path: Path) -> None:
    write_project(tmp_path)
    calls: list[str] = []
    run_pipeline(load_project(tmp_path), make_stages(calls), until="second", log=lambda _: None)
    assert calls == ["first", "second"]

    calls.clear()
    run_pipeline(load_project(tmp_path), make_stages(calls), force=["second"],
                 log=lambda _: None)
    # second re-ran, so third (never run before) runs; first stays cached.
    assert calls == ["second", "third"]

    calls.clear()
    run_pipeline(load_project(tmp_path), make_stages(calls), force=["first"], log=lambda _: None)
    assert calls == ["first", "second", "third"], "a forced stage invalidates its readers"

    calls.clear()
    run_pipeline(load_project(tmp_path), make_stages(calls), start="second", log=lambda _: None)
    assert calls == ["second", "third"]


def test_from_requires_finished_upstream(tmp_path: Path) -> None:
    write_project(tmp_path)
    with pytest.raises(PipelineError, match="earlier stage first has no finished output"):
        run_pipeline(load_project(tmp_path), make_stages([]), start="second", log=lambda _: None)


def test_interrupted_stage_resumes_in_its_folder(tmp_path: Path) -> None:
    write_project(tmp_path)
    calls: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(load_project(tmp_path), make_stages(calls, {"second"}), log=lambda _: None)
    calls.clear()
    result = run_pipeline(load_project(tmp_path), make_stages(calls), log=lambda _: None)
    assert calls == ["second", "third"]
    assert result.outputs["second"].figures["resumed"] is True
    done = json.loads((result.outputs["second"].dir / "done.json").read_text())
    assert done["figures"]["double"] == 2


def test_bad_config_is_reported_before_anything_runs(tmp_path: Path) -> None:
    write_project(tmp_path, "[third]\nn = 'x'\nbogus = 1\n")
    calls: list[str] = []
    with pytest.raises(ProjectError) as err:
        run_pipeline(load_project(tmp_path), make_stages(calls), log=lambda _: None)
    assert calls == []
    text = str(err.value)
    assert "accord.toml: [third] n: Input should be a valid integer" in text
    assert "accord.toml: [third] bogus: unknown key; allowed: n" in text


def test_unknown_table_and_stage_names(tmp_path: Path) -> None:
    write_project(tmp_path, "[fourth]\nn = 1\n")
    with pytest.raises(PipelineError, match=r"unknown table\(s\) fourth"):
        run_pipeline(load_project(tmp_path), make_stages([]), log=lambda _: None)
    write_project(tmp_path)
    with pytest.raises(PipelineError, match="unknown stage 'nope'; stages: first, second, third"):
        run_pipeline(load_project(tmp_path), make_stages([]), force=["nope"], log=lambda _: None)


def test_project_errors(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="not a folder"):
        load_project(tmp_path / "missing")
    write_project(tmp_path, "name = 'x'\n")
    with pytest.raises(ProjectError, match="top-level keys name must sit inside a table"):
        load_project(tmp_path)
    write_project(tmp_path, "[project\n")
    with pytest.raises(ProjectError, match=r"accord\.toml"):
        load_project(tmp_path)
