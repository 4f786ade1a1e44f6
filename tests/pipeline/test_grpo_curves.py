"""The GRPO stage's curves: every step's reward, KL, length and zero-spread share read
from a trainer's log history, start and end figures, and the report section drawing them."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from accord.model import build_model, train_tokenizer
from accord.pipeline._rl_stages import CURVE_KEYS, curve_figures, grpo_curves, report_grpo
from accord.pipeline._runner import StageOutput
from accord.train import GRPOStageConfig, train_grpo

TARGET_IDS = range(4, 54)


def target_fraction(prompts, completions, completion_ids, **kwargs) -> list[float]:
    """A TRL reward function: the fraction of a completion's tokens that are ordinary ids."""
    return [sum(t in TARGET_IDS for t in ids) / max(1, len(ids)) for ids in completion_ids]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A real GRPO run of a fresh tiny Llama: 4 steps, held-out prompts scored every 2."""
    import torch

    questions = [f"Where is the {thing} of {place}?" for thing in ("river", "market")
                 for place in ("Alba", "Borin", "Cedra", "Dovan", "Elmira", "Fenwick",
                               "Galor", "Hestia")]
    base = tmp_path_factory.mktemp("base")
    tokenizer = train_tokenizer([*questions, "It lies east of the hills."], vocab_size=300,
                                out_dir=base)
    build_model("tiny", tokenizer, seed=0).save_pretrained(base)
    prompts = [{"prompt": [{"role": "user", "content": q}]} for q in questions]
    config = GRPOStageConfig(max_steps=4, batch_size=4, num_generations=2,
                             max_completion_length=6, eval_steps=2, eval_generations=2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model gains nothing from threads on shared cores
    try:
        return train_grpo(config, base, prompts[:12], [target_fraction],
                          tmp_path_factory.mktemp("grpo"), eval_prompts=prompts[12:])
    finally:
        torch.set_num_threads(threads)


def test_curves_have_a_point_per_step_and_the_held_out_reward_from_step_0(trained):
    curves = grpo_curves(trained.log_history)
    for name in CURVE_KEYS:
        assert [p[0] for p in curves[name]] == [1, 2, 3, 4], name
    assert [p[0] for p in curves["eval_reward"]] == [0, 2, 4]
    # The held-out points are not mixed into the training curves (same step numbers).
    train_rewards = {p[0]: p[1] for p in curves["reward"]}
    logged = {h["step"]: h["reward"] for h in trained.log_history if "reward" in h}
    assert train_rewards == logged


def test_start_and_end_figures_average_a_quarter_of_the_steps():
    curves = {"reward": [[s, float(s)] for s in range(1, 9)],
              "kl": [[s, 0.1 * s] for s in range(1, 9)],
              "eval_reward": [[0, 1.0], [4, 1.5], [8, 2.0]]}
    figures = curve_figures(curves)
    assert figures["reward_start"] == pytest.approx(1.5)   # steps 1-2
    assert figures["reward_end"] == pytest.approx(7.5)     # steps 7-8
    assert (figures["eval_reward_start"], figures["eval_reward_end"]) == (1.0, 2.0)
    assert figures["kl_end"] == pytest.approx(0.75)
    assert curve_figures({})["reward_start"] is None


def test_the_report_section_draws_the_curves_with_a_text_alternative(trained, tmp_path):
    pytest.importorskip("matplotlib")
    curves = grpo_curves(trained.log_history)
    figures = {"prompts": 12, "eval_prompts": 4, "variants": {
        "rm": {"steps": 4, "curves": curves, "seconds": 1.0, **curve_figures(curves)}}}
    out = StageOutput(name="grpo", key="0" * 16, run_id="r", dir=Path(tmp_path),
                      seconds=1.0, figures=figures, cached=False)
    html = "".join(str(part) for part in report_grpo(out))
    assert "held-out reward, start" in html and "KL, last ¼" in html
    images = re.findall(r'<img alt="([^"]+)" src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(images) == 1
    alt, data = images[0]
    assert "KL to the SFT model" in alt
    assert "<svg" in base64.b64decode(data).decode("utf-8")


def test_a_short_prompt_pool_keeps_its_held_out_prompts():
    from accord.pipeline._rl_stages import split_held_out

    pool = [{"i": i} for i in range(20)]
    # Enough prompts: the first n train, the next held_out are measured.
    train, held = split_held_out(pool, 8, 4)
    assert [r["i"] for r in train] == list(range(8)) and [r["i"] for r in held] == [8, 9, 10, 11]
    # Short pool (e.g. 172 prompts fit for 200 + 12 asked): the held-out rows are kept.
    train, held = split_held_out(pool, 30, 4)
    assert [r["i"] for r in train] == list(range(16)) and [r["i"] for r in held] == [16, 17, 18, 19]
    # ... but at most a quarter of the pool is reserved; rows after training still measure.
    train, held = split_held_out(pool, 8, 16)
    assert len(train) == 8 and [r["i"] for r in held] == list(range(8, 20))
    train, held = split_held_out(pool, 30, 16)
    assert len(train) == 15 and [r["i"] for r in held] == list(range(15, 20))
    # Nothing held out when asked for none, or when the pool is too small to spare a row.
    assert split_held_out(pool, 30, 0) == (pool, None)
    assert split_held_out(pool[:3], 5, 3) == (pool[:3], None)
