"""A copied project folder reads its own files: cached stage figures are re-rooted."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from accord.pipeline import Stage, StageContext, run_pipeline
from accord.project import load_project


class Knobs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _stages(seen: list[str]) -> list[Stage]:
    def make(ctx: StageContext) -> dict[str, Any]:
        out = ctx.dir / "model"
        out.mkdir()
        (out / "weights.txt").write_text(str(ctx.project.root))
        return {"model_dir": str(out), "models": {"m": {"model_dir": str(out)}},
                "elsewhere": "/opt/shared/thing"}

    def read(ctx: StageContext) -> dict[str, Any]:
        seen.append(ctx.inputs["make"].figures["model_dir"])
        return {}

    return [Stage("make", make, Knobs), Stage("read", read, Knobs, reads=("make",))]


def test_cached_figures_point_into_the_copy(tmp_path: Path) -> None:
    original = tmp_path / "original"
    original.mkdir()
    (original / "accord.toml").write_text("")
    seen: list[str] = []
    run_pipeline(load_project(original), _stages(seen), log=lambda _: None)
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    result = run_pipeline(load_project(copy), _stages(seen), force=["read"],
                          log=lambda _: None)
    assert result.skipped == ["make"]
    made = result.outputs["make"].figures
    assert made["model_dir"].startswith(str(copy.resolve()) + "/")
    assert made["models"]["m"]["model_dir"] == made["model_dir"]
    assert made["elsewhere"] == "/opt/shared/thing"
    assert seen[-1] == made["model_dir"] and Path(seen[-1], "weights.txt").is_file()
    assert seen[0].startswith(str(original.resolve()))
