"""A stage folder's record (``stage.json``): written once training can start, so a failed
start never blocks a corrected retry, and a file that is not Accord's record is refused
without being touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.errors import AccordError
from accord.train import SFTStageConfig, train_sft

QUICK = dict(batch_size=8, learning_rate=1e-2, logging_steps=1, warmup_steps=0, max_steps=2)


def test_a_start_that_fails_leaves_no_record_and_the_retry_trains(tmp_path, base_dir, chats):
    data = tmp_path / "sft.jsonl"
    data.write_text("".join(json.dumps({"messages": c}) + "\n" for c in chats[:16]))
    out = tmp_path / "out"
    failed = CliRunner().invoke(app, ["train", "sft", "--model", str(tmp_path / "nope"),
                                      "--data", str(data), "--out", str(out)])
    assert failed.exit_code == 2 and "nope" in failed.output, failed.output
    assert not (out / "stage.json").exists()
    # The same folder, the right model: nothing recorded by the failure stands in the way.
    result = train_sft(SFTStageConfig(**QUICK), base_dir, [{"messages": c} for c in chats[:16]],
                       out)
    assert Path(result.model_dir).is_dir()
    assert json.loads((out / "stage.json").read_text())["parent"] == str(base_dir)


@pytest.mark.parametrize("text", ["important notes\n", "[1, 2]\n"])
def test_a_stage_json_accord_did_not_write_is_refused_untouched(tmp_path, base_dir, chats,
                                                               text):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stage.json").write_text(text)
    with pytest.raises(AccordError, match="not a stage record Accord wrote"):
        train_sft(SFTStageConfig(**QUICK), base_dir, [{"messages": c} for c in chats[:16]],
                  out)
    assert (out / "stage.json").read_text() == text
