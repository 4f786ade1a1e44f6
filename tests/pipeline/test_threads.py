"""Each stage runs with the CPU threads `accord.train.contended_threads` picks, and records
its CPU time beside its wall time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from accord.errors import AccordError
from accord.pipeline import Stage, StageContext, run_pipeline
from accord.project import load_project
from accord.train import contended_threads


class Knobs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def test_accord_num_threads_sets_each_stages_threads(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    seen: list[int] = []

    def work(ctx: StageContext) -> dict[str, Any]:
        seen.append(torch.get_num_threads())
        return {"sum": sum(i * i for i in range(200_000))}  # some CPU time to record

    (tmp_path / "accord.toml").write_text("")
    before = torch.get_num_threads()
    monkeypatch.setenv("ACCORD_NUM_THREADS", "1")
    lines: list[str] = []
    try:
        result = run_pipeline(load_project(tmp_path), [Stage("work", work, Knobs)],
                              log=lines.append)
    finally:
        torch.set_num_threads(before)
    assert seen == [1]
    assert "[work] running (1 CPU thread)" in lines
    out = result.outputs["work"]
    done = json.loads((out.dir / "done.json").read_text())
    assert done["cpu_seconds"] > 0 and out.cpu_seconds == done["cpu_seconds"]
    assert any(line.startswith("[work] done in ") and "(cpu " in line for line in lines)


def test_a_bad_thread_count_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_NUM_THREADS", "2")
    assert contended_threads() == 2
    monkeypatch.setenv("ACCORD_NUM_THREADS", "zero")
    with pytest.raises(AccordError, match="ACCORD_NUM_THREADS='zero': give a whole number"):
        contended_threads()
    monkeypatch.setenv("ACCORD_NUM_THREADS", "0")
    with pytest.raises(AccordError, match="ACCORD_NUM_THREADS='0'"):
        contended_threads()
