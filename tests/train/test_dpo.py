"""DPO: the chosen-vs-rejected log-probability margin grows relative to the reference."""

from __future__ import annotations

from accord.train import DPOStageConfig, preference_margin, split_pair, train_dpo


def test_dpo_raises_the_margin_over_the_reference(base_dir, pairs_maker, tmp_path):
    train = pairs_maker(32, seed=3)
    held_out = pairs_maker(8, seed=4)
    assert abs(preference_margin(base_dir, held_out, ref_model_dir=base_dir)) < 1e-4

    config = DPOStageConfig(max_steps=8, batch_size=8, learning_rate=2e-3, logging_steps=2,
                            warmup_steps=0, beta=0.1)
    result = train_dpo(config, base_dir, {"comparisons": train}, tmp_path / "dpo")

    assert result.references == {"reference": str(base_dir)}
    # log p(chosen) − log p(rejected) rose well beyond the reference's, on unseen pairs too.
    assert preference_margin(result.model_dir, held_out, ref_model_dir=base_dir) > 2.0
    assert (preference_margin(result.model_dir, held_out)
            > preference_margin(base_dir, held_out) + 2.0)
    margins = [h["rewards/margins"] for h in result.log_history if "rewards/margins" in h]
    assert margins[-1] > margins[0]


def test_split_pair_finds_the_shared_prompt():
    user = {"role": "user", "content": "Hi"}
    a = {"role": "assistant", "content": "Hello!"}
    b = {"role": "assistant", "content": "Go away."}
    assert split_pair({"chosen": [user, a], "rejected": [user, b]}) == ([user], [a], [b])
    assert split_pair({"prompt": [user], "chosen": [a], "rejected": [b]}) == ([user], [a], [b])
