"""What training stages hand on (``models``), how the ablation finds them, and the ``[cai]``
table built from ``accord.cai.CAIConfig``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from accord.cai import CAIConfig
from accord.pipeline import PipelineError, StageContext, StageOutput
from accord.pipeline._ablation import _rows
from accord.pipeline._cai_stage import CAISection
from accord.project import ProjectError, load_project


def _out(name: str, figures: dict[str, Any], tmp_path: Path) -> StageOutput:
    return StageOutput(name, "key", tmp_path / name, "run", 0.0, figures)


def _model(name: str) -> dict[str, str]:
    return {"model_version": name, "model_dir": f"/models/{name}"}


def test_the_ablation_measures_every_trained_model_in_stage_order(tmp_path: Path) -> None:
    inputs = {
        "world": _out("world", {"hash": "h"}, tmp_path),
        "pretrain": _out("pretrain", {"model_version": "base-1", "model_dir": "/m/base",
                                      "models": {"base": _model("base-1")}}, tmp_path),
        "sft": _out("sft", {"model_version": "sft-1", "models": {"SFT": _model("sft-1")}},
                    tmp_path),
        "grpo": _out("grpo", {"variants": {}, "models": {
            "SFT+GRPO (RM only)": _model("g-rm"), "SFT+GRPO (RM+RBR)": _model("g-rbr")}},
            tmp_path),
    }
    ctx = StageContext(load_project(tmp_path), None, tmp_path, inputs)
    assert _rows(ctx) == [("base", "base-1", "/models/base-1"), ("SFT", "sft-1", "/models/sft-1"),
                          ("SFT+GRPO (RM only)", "g-rm", "/models/g-rm"),
                          ("SFT+GRPO (RM+RBR)", "g-rbr", "/models/g-rbr")]
    assert inputs["world"].models == {}


def test_a_cached_stage_from_before_models_asks_for_a_rerun(tmp_path: Path) -> None:
    old = _out("dpo", {"model_version": "dpo-1", "model_dir": "/m/dpo"}, tmp_path)
    ctx = StageContext(load_project(tmp_path), None, tmp_path, {"dpo": old})
    with pytest.raises(PipelineError, match="--force dpo"):
        _rows(ctx)


def test_cai_table_is_the_recipe_config_without_its_constants() -> None:
    table = set(CAISection.model_fields)
    recipe = {f.name for f in dataclasses.fields(CAIConfig)}
    assert table == recipe - {"answer_temperature", "critic_temperature", "top_p",
                              "batch_size", "max_length", "num_threads"}
    defaults = CAIConfig()
    assert CAISection().model_dump() == {name: getattr(defaults, name) for name in table}


def test_cai_table_values_are_checked_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "accord.toml").write_text("[cai]\nprompts = 0\nmin_confidence = 0.4\n")
    with pytest.raises(ProjectError, match=r"\[cai\].*prompts=0 must be >= 1"):
        load_project(tmp_path).section("cai", CAISection)
