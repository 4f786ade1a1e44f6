"""Stages whose output no later stage reads are skipped, with the reason in their result."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from accord.errors import AccordError
from accord.pipeline import Stage, StageContext, run_pipeline, run_project
from accord.project import load_project

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"


class Knobs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = 1


def test_a_skipped_stage_records_its_reason_does_no_work_and_reruns_when_needed(
        tmp_path: Path) -> None:
    calls: list[str] = []
    needed = {"value": False}

    def make(ctx: StageContext) -> dict[str, Any]:
        calls.append("make")
        return {"made": True}

    def read(ctx: StageContext) -> dict[str, Any]:
        calls.append("read")
        return {"upstream": ctx.inputs["make"].skipped or "made"}

    def skip(project: Any, state: dict[str, Any]) -> str | None:
        return None if needed["value"] else "nothing reads it"

    stages = [Stage("make", make, Knobs, skip=skip), Stage("read", read, Knobs, reads=("make",))]
    (tmp_path / "accord.toml").write_text("")
    lines: list[str] = []
    result = run_pipeline(load_project(tmp_path), stages, log=lines.append)
    assert calls == ["read"]
    assert result.outputs["make"].skipped == "nothing reads it"
    assert result.outputs["read"].figures == {"upstream": "nothing reads it"}
    assert "[make] skipped: nothing reads it" in lines
    done = json.loads((result.outputs["make"].dir / "done.json").read_text())
    assert done["figures"] == {"skipped": "nothing reads it"} and done["cpu_seconds"] >= 0
    # Once something needs it, its key changes: it runs, and what reads it follows.
    needed["value"] = True
    calls.clear()
    again = run_pipeline(load_project(tmp_path), stages, log=lambda _: None)
    assert calls == ["make", "read"]
    assert again.outputs["make"].skipped is None
    assert again.outputs["make"].key != result.outputs["make"].key


def _tiny_base(tmp_path: Path) -> Path:
    from accord.model import build_model, train_tokenizer

    base = tmp_path / "base"
    tokenizer = train_tokenizer(["hello there, how are you?", "fine thanks"] * 50, 320)
    build_model("tiny", tokenizer).save_pretrained(base)
    tokenizer.save_pretrained(base)
    return base


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path.name


def _base_model_project(root: Path, base: Path, *, sft: bool) -> Path:
    root.mkdir()
    shutil.copytree(DEMO_SPEC, root / "spec")
    chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    data = {
        "preference": _jsonl(root / "pref.jsonl", [
            {"prompt": f"question {i}", "chosen": f"a careful answer {i}",
             "rejected": f"a rude answer {i}"} for i in range(4)]),
        "prompts": _jsonl(root / "prompts.jsonl", [{"prompt": "How do I bake bread?"}]),
    }
    if sft:
        data["sft"] = _jsonl(root / "sft.jsonl", [{"messages": chat}])
    lines = "\n".join(f'{k} = "{v}"' for k, v in data.items())
    (root / "accord.toml").write_text(
        f'[project]\nname = "p"\n[data]\n{lines}\n[pretrain]\nbase_model = "{base}"\n'
        '[eval]\nworld_meter = false\n'
        '[rules]\nsource = "rbr-gold"\n[ablation]\nworld_meter = false\n')
    return root


@pytest.mark.slow
def test_a_base_model_run_with_its_own_data_skips_the_tokenizer_and_the_world(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.pipeline._model_stages import load_world, world_readers

    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    base = _tiny_base(tmp_path)
    project = _base_model_project(tmp_path / "p", base, sft=True)
    assert world_readers(load_project(project), {}) == []
    lines: list[str] = []
    result = run_project(project, until="pretrain", log=lines.append)
    world, tokenizer = result.outputs["world"], result.outputs["tokenizer"]
    assert world.skipped and "no stage of this project reads it" in world.skipped
    assert tokenizer.skipped == "the imported base model brings its tokenizer"
    assert not (world.dir / "world").exists() and not (tokenizer.dir / "tokenizer").exists()
    assert any(line.startswith("[world] skipped: ") for line in lines)
    assert result.outputs["pretrain"].figures["base_model"] == str(base.resolve())
    # A stage that asks for a skipped world is told so, not handed an empty folder.
    with pytest.raises(AccordError, match="the demo world was not generated"):
        load_world(world)

    # Without its own SFT conversations the project's SFT stage reads the world's: it runs.
    other = _base_model_project(tmp_path / "q", base, sft=False)
    assert world_readers(load_project(other), {}) == ["sft"]
    result = run_project(other, until="tokenizer", log=lambda _: None)
    assert result.outputs["world"].skipped is None
    assert (result.outputs["world"].dir / "world").is_dir()
    assert result.outputs["tokenizer"].skipped
