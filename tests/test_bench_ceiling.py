"""bench/graders_ceiling.py's flop count: the arithmetic behind the graders' speed ceiling."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from graders_ceiling import flops, text_flops


def test_minilm_flops_by_hand():
    # Per layer and token: Q, K, V, output (4 · 384²) and the feed-forward pair
    # (2 · 384 · 1536) multiply-adds; per sequence, Q·Kᵀ and weights·V (2 · n² · 384).
    per_token = 2 * 6 * (4 * 384 * 384 + 2 * 384 * 1536)
    assert per_token == 21_233_664
    assert flops(1) == per_token + 2 * 6 * 2 * 384
    assert flops(200) == 200 * per_token + 2 * 6 * 2 * 200 * 200 * 384


def test_a_text_pays_one_pass_per_cut_it_reaches():
    short, long_ = text_flops([100, 300], [128, 256])
    assert short == flops(100)  # under both cuts: one pass serves both heads
    assert long_ == flops(128) + flops(256)  # past 128: a 128-token and a 256-token pass
    assert text_flops([300], [128]) == [flops(128)]
