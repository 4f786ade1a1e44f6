"""Pretraining: the loss falls, results are saved, and a killed run resumes exactly."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch
from transformers import AutoModelForCausalLM

from accord.errors import AccordError
from accord.model import PretrainConfig, build_model, load_model, pretrain


def test_pretraining_lowers_the_loss_and_saves_everything(pretrained):
    curve = json.loads(pretrained.loss_curve_json.read_text())
    assert [p["step"] for p in curve] == list(range(10, 121, 10))
    assert curve[-1]["loss"] < curve[0]["loss"] - 1.5
    assert curve[-1]["tokens"] == pretrained.tokens == 120 * 8 * 64
    assert pretrained.loss_curve_png.stat().st_size > 1000
    assert pretrained.final_loss == curve[-1]["loss"]
    model, tokenizer = load_model(pretrained.model_dir)  # a plain HF folder
    assert tokenizer.eos_token == "<|im_end|>"
    assert model.config.tie_word_embeddings
    assert not (pretrained.model_dir.parent / "checkpoint.pt").exists()


def test_a_finished_run_is_not_redone_and_other_settings_are_refused(
        pretrained, tokenizer, documents, tiny_config):
    out = pretrained.model_dir.parent
    again = pretrain(tiny_config, tokenizer, build_model("tiny", tokenizer), documents, out)
    assert again == pretrained
    other = dataclasses.replace(tiny_config, learning_rate=1e-3)
    with pytest.raises(AccordError, match=r"learning_rate: 0.01 -> 0.001.*new out_dir"):
        pretrain(other, tokenizer, build_model("tiny", tokenizer), documents, out)


def test_invalid_settings_are_user_errors(tokenizer, documents, tmp_path):
    model = build_model("tiny", tokenizer)
    with pytest.raises(AccordError, match=r"seq_len=4096 must be in 1\.\.128"):
        pretrain(PretrainConfig(seq_len=4096), tokenizer, model, documents, tmp_path)
    with pytest.raises(AccordError, match="fewer than one row"):
        pretrain(PretrainConfig(steps=1), tokenizer, model, ["hi"], tmp_path)


# Like the shared tiny settings, longer, with frequent checkpoints.
RESUME = PretrainConfig(steps=60, batch_size=8, seq_len=64, learning_rate=1e-2,
                        warmup_steps=10, checkpoint_every=5, log_every=10, seed=3,
                        num_threads=1, device="cpu")

WORKER = """
import json, sys
from transformers import AutoTokenizer
from accord.model import PretrainConfig, build_model, pretrain
tokenizer = AutoTokenizer.from_pretrained(sys.argv[1])
documents = json.load(open(sys.argv[2]))
config = PretrainConfig(**json.load(open(sys.argv[3])))
pretrain(config, tokenizer, build_model("tiny", tokenizer), documents, sys.argv[4])
"""


def _kill_at_first_checkpoint(worker: subprocess.Popen, out_dir, timeout: float = 120) -> None:
    """SIGKILL ``worker`` as soon as a checkpoint appears in ``out_dir``."""
    deadline = time.monotonic() + timeout
    while not (out_dir / "checkpoint.pt").exists():
        if worker.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)  # mid-step, or even mid-checkpoint
    worker.wait()


def test_a_killed_run_resumes_from_its_checkpoint_with_identical_weights(
        tokenizer, documents, tmp_path):
    tokenizer.save_pretrained(tmp_path / "tok")
    (tmp_path / "docs.json").write_text(json.dumps(documents))
    (tmp_path / "config.json").write_text(json.dumps(dataclasses.asdict(RESUME)))
    killed = tmp_path / "killed"
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(tmp_path / "tok"), str(tmp_path / "docs.json"),
         str(tmp_path / "config.json"), str(killed)], stderr=subprocess.DEVNULL)
    # While the worker starts up, train the same run uninterrupted here; a watcher thread
    # kills the worker the moment its first checkpoint lands.
    watcher = threading.Thread(target=_kill_at_first_checkpoint, args=(worker, killed))
    watcher.start()
    straight = pretrain(RESUME, tokenizer, build_model("tiny", tokenizer), documents,
                        tmp_path / "straight")
    watcher.join()
    assert straight.resumed_from is None
    assert worker.returncode == -signal.SIGKILL, "the worker ended before it was killed"
    assert not (killed / "result.json").exists(), "the worker finished before the kill"
    checkpoint = torch.load(killed / "checkpoint.pt", weights_only=False)
    saved_step = checkpoint["step"]
    assert 0 < saved_step < RESUME.steps and saved_step % RESUME.checkpoint_every == 0
    assert checkpoint["data"] == {"next_step": saved_step, "seed": 3,
                                  "rows": checkpoint["data"]["rows"]}

    resumed = pretrain(RESUME, tokenizer, build_model("tiny", tokenizer), documents, killed)
    assert resumed.resumed_from == saved_step
    assert resumed.steps == RESUME.steps
    a = AutoModelForCausalLM.from_pretrained(resumed.model_dir).state_dict()
    b = AutoModelForCausalLM.from_pretrained(straight.model_dir).state_dict()
    for name in b:
        assert torch.equal(a[name], b[name]), name
    # The loss curve continues where the checkpoint left off and matches the straight run.
    curve = json.loads(resumed.loss_curve_json.read_text())
    assert curve == json.loads(straight.loss_curve_json.read_text())
