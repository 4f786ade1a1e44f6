"""Prompt sets, SFT examples, preference pairs, probes and inventories."""

from __future__ import annotations

from collections import Counter

from accord.world import (
    BEHAVIOURS,
    PROBE_KINDS,
    PROMPT_SPLITS,
    SCENARIOS,
    Case,
    Draw,
    Reply,
    World,
    WorldConfig,
    build_world,
    parse_system_prompt,
    scenario,
)


def test_prompt_sets_have_the_configured_sizes_and_fields(world: World):
    cfg = world.config
    sizes = {"review": cfg.n_review, "sft": cfg.n_sft, "rl": cfg.n_rl}
    for split in PROMPT_SPLITS:
        assert len(world.prompts[split]) == sizes[split]
        for p in world.prompts[split]:
            assert p["messages"][-1]["role"] == "user"
            system = [m["content"] for m in p["messages"] if m["role"] == "system"]
            assert parse_system_prompt(system[0] if system else None) == p["settings"]
            assert p["kind"] in SCENARIOS
    assert Counter(p["kind"] for p in world.prompts["rl"]).keys() == cfg.kind_weights.keys()


def test_sft_examples_are_ideal_and_follow_settings(world: World):
    refusals = world.inventories["refusals"]["train"]
    assert len(world.sft_examples) == len(world.prompts["sft"])
    for ex in world.sft_examples:
        labels = ex["labels"]
        assert labels["behaviour"] in ("helpful", "correct_refusal")
        assert all(labels["follows_settings"].values())
        text = ex["messages"][-1]["content"]
        assert not any(p in text for p in world.inventories["preachy"]["train"])
        if labels["prompt_kind"] in ("insult_request", "objectionable"):
            assert labels["behaviour"] == "correct_refusal"
            assert any(r in text for r in refusals) and len(text) < 250


def test_preference_pairs_prefer_the_ideal(world: World):
    pairs = world.preference_pairs
    assert len(pairs) > 0.9 * world.config.n_preference_pairs
    rejected = Counter(p["rejected_behaviour"] for p in pairs)
    assert set(rejected) <= set(BEHAVIOURS) | {"ignores_settings"}
    assert {"offensive", "one_sided", "objectionable_compliance", "over_refusal", "preachy",
            "ignores_settings"} <= rejected.keys()
    for p in pairs:
        assert p["chosen"] != p["rejected"]
        assert p["chosen_behaviour"] in ("helpful", "correct_refusal")
        assert p["chosen"][0]["role"] == p["rejected"][0]["role"] == "assistant"
        if p["rejected_behaviour"] == "ignores_settings":
            assert not all(p["rejected_labels"]["follows_settings"].values())


def test_every_probe_kind_is_built(world: World):
    assert set(world.probes) == {*PROBE_KINDS, "customisation"}
    assert all(len(v) >= 20 for v in world.probes.values())
    for probe in world.probes["customisation"]:
        assert probe["settings"]
        if probe["kind"] != "contested":
            assert "political_perspective" not in probe["settings"]
    for probe in [*world.probes["facts"], *world.probes["arithmetic"]]:
        assert probe["expected"]


def test_inventories_split_train_and_heldout(world: World):
    for name, split in world.inventories.items():
        assert split["train"] and split["heldout"], name
        assert not set(split["train"]) & set(split["heldout"]), name
    for name in ("insults", "profanity_mild", "profanity_strong", "demeaning_patterns",
                 "refusals", "preachy", "disclosure", "partisan", "tone:friendly",
                 "persona:pirate", "arguments:progressive", "arguments:libertarian"):
        assert name in world.inventories


def test_a_new_scenario_is_one_registered_function(small_config: WorldConfig):
    @scenario("greeting")
    def greeting(draw: Draw) -> Case:
        name = draw.rng.choice(["Ann", "Bo"])

        def helpful(rng, eff):
            return Reply((f"Hello {name}!",), ("Nice to meet you.",), "small_talk")

        return Case("greeting", f"Hi, I'm {name}.", {"helpful": helpful}, {}, "helpful", [name])

    try:
        cfg = WorldConfig(**{**small_config.__dict__, "kind_weights": {"greeting": 1.0},
                             "share_plain_text": 0.0})
        world = build_world(cfg)
        doc = world.pretrain_documents[0]
        assert doc["labels"]["prompt_kind"] == "greeting"
        assert doc["messages"][-1]["content"].split(" ")[0] in ("Hello", "Arr,", "Ahoy,",
                                                                 "Let's", "Happy", "Great",
                                                                 "Sure", "Certainly.",
                                                                 "Thank", "Ooh,", "Ha,",
                                                                 "Damn,", "Hell,", "Well,")
    finally:
        del SCENARIOS["greeting"]
