"""Runs under ``accelerate launch`` (the multi-GPU/multi-node path, here one CPU process)
and a stage killed mid-training that resumes from its checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from accord.train import SFTStageConfig, latest_checkpoint, train_sft

ROOT = Path(__file__).resolve().parents[2]
ACCELERATE = Path(sys.executable).parent / "accelerate"
CPU_CONFIG = ROOT / "configs" / "accelerate" / "cpu.yaml"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1"}
RESUME = dict(max_steps=40, batch_size=4, learning_rate=3e-3, logging_steps=4, save_steps=4,
              save_total_limit=50, warmup_steps=0, num_threads=1)


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _launch(stage: str, *args: str) -> list[str]:
    return [str(ACCELERATE), "launch", "--config_file", str(CPU_CONFIG), "-m", "accord.train",
            stage, *args]


@pytest.mark.slow
def test_a_stage_runs_under_accelerate_launch(base_dir, pairs_maker, tmp_path):
    data = _write_jsonl(tmp_path / "pairs.jsonl", pairs_maker(16))
    held = _write_jsonl(tmp_path / "held.jsonl", pairs_maker(4, seed=9))
    done = subprocess.run(
        _launch("reward", "--model", str(base_dir), "--data", str(data), "--eval-data",
                str(held), "--out", str(tmp_path / "rm"), "--set", "max_steps=3",
                "--set", "batch_size=4", "--set", "logging_steps=1"),
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout[done.stdout.index("{"):])
    assert result["stage"] == "reward" and result["steps"] == 3
    assert 0.0 <= result["metrics"]["eval_accuracy"] <= 1.0
    assert (tmp_path / "rm" / "model" / "config.json").exists()


def _kill_at_first_checkpoint(worker: subprocess.Popen, out_dir: Path,
                              timeout: float = 240) -> None:
    """SIGKILL the launcher and its training process once a checkpoint is complete."""
    deadline = time.monotonic() + timeout
    while latest_checkpoint(out_dir) is None:
        if worker.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    os.killpg(worker.pid, signal.SIGKILL)  # mid-step, or even mid-checkpoint
    worker.wait()


@pytest.mark.slow
def test_a_killed_stage_resumes_from_its_checkpoint(base_dir, chats, tmp_path):
    data = _write_jsonl(tmp_path / "sft.jsonl", [{"messages": c} for c in chats])
    killed = tmp_path / "killed"
    settings = [f"--set={k}={json.dumps(v)}" for k, v in RESUME.items()]
    worker = subprocess.Popen(
        _launch("sft", "--model", str(base_dir), "--data", str(data), "--out", str(killed),
                *settings),
        cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)  # its own process group: the kill takes the child too
    # While the worker starts up, train the same stage uninterrupted here.
    watcher = threading.Thread(target=_kill_at_first_checkpoint, args=(worker, killed))
    watcher.start()
    straight = train_sft(SFTStageConfig(**RESUME), base_dir, data, tmp_path / "straight")
    watcher.join()
    assert worker.returncode == -signal.SIGKILL, "the worker ended before it was killed"
    assert not (killed / "result.json").exists(), "the worker finished before the kill"
    saved = latest_checkpoint(killed)
    assert saved is not None
    saved_step = int(saved.name.rsplit("-", 1)[-1])
    assert 0 < saved_step < 40

    resumed = train_sft(SFTStageConfig(**RESUME), base_dir, data, killed)
    assert resumed.resumed_from_step >= saved_step and straight.resumed_from_step is None
    assert resumed.steps == straight.steps == 40
    logged = [h["step"] for h in resumed.log_history if "loss" in h]
    assert logged == [h["step"] for h in straight.log_history if "loss" in h]  # one curve
    # Same data order and RNG from the checkpoint: the same weights as without the kill.
    a = AutoModelForCausalLM.from_pretrained(resumed.model_dir).state_dict()
    b = AutoModelForCausalLM.from_pretrained(straight.model_dir).state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


@pytest.mark.parametrize(("name", "kind"), [
    ("cpu", "NO"), ("multi_gpu", "MULTI_GPU"), ("deepspeed_zero2", "DEEPSPEED"),
    ("fsdp", "FSDP")])
def test_shipped_accelerate_configs_parse(name, kind):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(ROOT / "configs" / "accelerate" / f"{name}.yaml"))
    assert config.distributed_type.value == kind
    if kind == "DEEPSPEED":
        assert config.deepspeed_config["zero_stage"] == 2
    if kind == "FSDP":
        assert config.fsdp_config["fsdp_state_dict_type"] == "FULL_STATE_DICT"
