"""The world / in-distribution / held-out table: sets drawn right, rates read right."""

from __future__ import annotations

import json

import pytest

from accord.audit import (
    FidelityTable,
    conversation_key,
    fidelity,
    in_distribution_probes,
    measure,
    world_rates,
)
from accord.errors import AccordError
from accord.world import World


def test_in_distribution_sets_come_from_the_training_split(world: World):
    sets = in_distribution_probes(world, split="rl", cap=40, seed=1)
    rl_ids = {p["id"] for p in world.prompts["rl"]}
    assert set(sets) >= {"facts", "contested", "groups", "insult_requests", "objectionable",
                         "customisation"}
    for name, records in sets.items():
        assert 0 < len(records) <= 40, name
        assert {r["id"] for r in records} <= rl_ids, name
    for record in sets["customisation"]:
        assert record["settings"], record["id"]
        if record["kind"] != "contested":
            assert "political_perspective" not in record["settings"], record["id"]
    for record in sets["contested"]:
        assert record["kind"] == "contested" and not record["settings"]
    # Seeded: the same sample twice, another with another seed.
    assert in_distribution_probes(world, split="rl", cap=40, seed=1) == sets
    assert in_distribution_probes(world, split="rl", cap=40, seed=2) != sets


def test_prompts_a_training_stage_used_are_excluded_and_counted(world: World):
    everything = in_distribution_probes(world, cap=None)
    assert everything.excluded == 0
    assert everything.candidates == sum(len(v) for v in everything.values())
    # What the GRPO and CAI stages train on: the first rl prompts (and every SFT prompt).
    used = {conversation_key(p["messages"]) for p in world.prompts["rl"][:300]}
    used |= {conversation_key(p["messages"]) for p in world.prompts["sft"]}
    left = in_distribution_probes(world, cap=None, exclude=used)
    assert left.candidates == everything.candidates
    kept = [r for records in left.values() for r in records]
    assert left.excluded > 0 and len(kept) == left.candidates - left.excluded
    assert not {conversation_key(r["messages"]) for r in kept} & used
    # Excluding by conversation, not by record id: a prompt repeated later in the split
    # is dropped too (the templated world repeats prompts).
    dropped = {p["id"] for p in world.prompts["rl"][300:]
               if conversation_key(p["messages"]) in used}
    assert dropped and not dropped & {r["id"] for r in kept}
    capped = in_distribution_probes(world, cap=5, exclude=used)
    assert capped.excluded == left.excluded and all(len(v) <= 5 for v in capped.values())


def test_the_conversation_key_is_the_stores_prompt_hash(world: World):
    from accord.store import prompt_hash

    messages = world.prompts["rl"][0]["messages"]
    assert conversation_key(messages) == prompt_hash(messages)


def test_unknown_split_is_refused(world: World):
    with pytest.raises(AccordError, match=r"no prompt split 'test'.*'rl'"):
        in_distribution_probes(world, split="test")


def test_world_rates_follow_the_configured_knobs(world: World):
    rates = world_rates(world)
    cfg = world.config
    # One-sided and objectionable compliance are single knobs on their kinds; the rest of
    # the mass is helpful/refusing or preachy, so the label rate is the knob (± sampling).
    rate, n = rates["one_sided_by_default"]
    assert n > 300 and abs(rate - cfg.p_one_sided_on_contested) < 0.07
    rate, n = rates["objectionable_compliance"]
    assert n > 300 and abs(rate - cfg.p_comply_objectionable) < 0.07
    rate, _ = rates["preachy"]
    assert abs(rate - cfg.p_preachy) < 0.04
    # Offensive on insult requests and group questions lies between the two knobs.
    rate, _ = rates["offensive"]
    lo, hi = sorted((cfg.p_offensive_when_asked_to_insult, cfg.p_demeaning_about_groups))
    assert lo - 0.05 < rate < hi + 0.05
    assert rates["helpfulness"][0] > 0.85


def test_fidelity_table_puts_both_meter_runs_beside_the_world(world, sft_probes,
                                                              always_chosen, always_rejected):
    good = measure(always_chosen, world, probes=sft_probes)
    bad = measure(always_rejected, world, probes=sft_probes)
    table = fidelity(world, bad, good)
    assert table["one_sided_by_default"].in_distribution == bad["one_sided_by_default"].rate
    assert table["one_sided_by_default"].held_out == good["one_sided_by_default"].rate == 0.0
    assert table["one_sided_by_default"].world == pytest.approx(
        world_rates(world)["one_sided_by_default"][0])
    assert table["steerability"].world is None  # the world has no label rate for it
    again = FidelityTable.from_dict(json.loads(json.dumps(table.to_dict())))
    assert again == table
    text = table.render_text()
    assert "in-distribution" in text and "one_sided_by_default" in text
    assert table.to_html().count("<tr>") == len(table.rows) + 1
