"""SL-CAI with a tiny model that learned the critique/revision format from the world."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.cai import (
    LocalModel,
    as_principles,
    critique_revise,
    revision_quality,
    sft_rows,
    vet_revisions,
)
from accord.errors import AccordError
from accord.model import SamplingConfig
from accord.spec import load_spec
from accord.world import PRINCIPLES, World, critique_dialogue, parse_critique_dialogue

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"


def test_revisions_have_the_sft_shape(cai_world: World, cai_model: LocalModel):
    prompts = cai_world.prompts["sft"][:12]
    records = critique_revise(cai_model.generate, prompts, PRINCIPLES, rounds=2, seed=3)
    assert len(records) == 12
    for prompt, record in zip(prompts, records, strict=True):
        assert record["id"] == prompt["id"] and record["kind"] == prompt["kind"]
        assert record["messages"][:-1] == prompt["messages"]
        assert record["messages"][-1] == {"role": "assistant", "content": record["revision"]}
        assert [r["round"] for r in record["rounds"]] == [1, 2]
        assert record["principles"] == [r["principle"] for r in record["rounds"]]
        assert record["revision"] == record["rounds"][-1]["revision"] != ""
        assert all(p in {q.id for q in PRINCIPLES} for p in record["principles"])
    rows = sft_rows(records)
    assert rows == [{"messages": r["messages"]} for r in records]
    assert all(r["messages"][-1]["role"] == "assistant" for r in rows)
    # The model learned the critique format: critiques read like the world's.
    assert sum(r["rounds"][0]["critique"].startswith(("The response", "Nothing"))
               for r in records) >= 6


def test_same_seed_same_principles_and_revisions(cai_world: World, cai_model_dir):
    prompts = cai_world.prompts["sft"][:6]
    spec = load_spec(DEMO_SPEC)  # principles straight from a spec work as well

    def run(seed: int) -> list[dict]:
        # A fresh back end (its call counter restarts), sampling at temperature 0.7.
        model = LocalModel(str(cai_model_dir), sampling=SamplingConfig(
            temperature=0.7, max_new_tokens=32, seed=4))
        return critique_revise(model.generate, prompts, spec, rounds=1, seed=seed)

    first = run(0)
    assert first == run(0)
    assert [r["principles"] for r in run(1)] != [r["principles"] for r in first]


def test_given_responses_are_critiqued_and_the_transcript_parses(cai_world: World,
                                                                  cai_model: LocalModel):
    pairs = cai_world.preference_pairs[:4]
    bad = [p["rejected"][0]["content"] for p in pairs]
    records = critique_revise(cai_model.generate, [p["prompt"] for p in pairs], PRINCIPLES,
                              responses=bad)
    assert [r["initial"] for r in records] == bad
    quality = revision_quality(records)
    assert set(quality) >= {"offensive", "one_sided", "objectionable_compliance", "unwanted",
                            "changed"}
    assert quality["unwanted"]["n"] == 4 and 0.0 <= quality["changed"] <= 1.0
    # A record turns back into a world-format transcript.
    r = records[0]
    principle = {p.id: p for p in PRINCIPLES}[r["principles"][0]]
    transcript = critique_dialogue(r["prompt"], r["initial"], principle,
                                   r["rounds"][0]["critique"], r["revision"])
    assert parse_critique_dialogue(transcript)["revision"] == r["revision"]


def test_revision_quality_counts_fixes_with_the_meter(cai_world: World):
    # World ground truth as "model output": a flawed response revised into the ideal one.
    prompts = {p["id"]: p for p in cai_world.prompts["sft"]}
    pairs = [p for p in cai_world.preference_pairs
             if p["rejected_behaviour"] in ("offensive", "one_sided", "objectionable_compliance",
                                            "over_refusal")][:40]
    records = [{"prompt": p["prompt"], "initial": p["rejected"][0]["content"],
                "revision": p["chosen"][0]["content"], "kind": p["chosen_labels"]["prompt_kind"],
                "expected": prompts[p["prompt_id"]]["expected"]} for p in pairs]
    quality = revision_quality(records)
    unwanted = sum(p["rejected_behaviour"] != "over_refusal" for p in pairs)
    assert quality["unwanted"]["before"] == unwanted and quality["unwanted"]["after"] == 0
    assert quality["unwanted"]["fixed_share"] == 1.0
    # Wanted behaviour comes back: refused facts answered, harmful requests refused.
    facts = quality["fact_correct"]
    assert facts["n"] > 0 and facts["after"] == facts["n"] and facts["broken"] == 0
    refusals = quality["refuses_harmful"]
    assert refusals["n"] > 0 and refusals["after"] == refusals["n"]
    assert quality["over_refusal"]["after"] == 0
    swapped = [{**r, "initial": r["revision"], "revision": r["initial"]} for r in records]
    assert revision_quality(swapped)["unwanted"]["broken"] == unwanted


def test_ai_feedback_vets_revisions(cai_world: World, cai_model: LocalModel):
    pairs = cai_world.preference_pairs[:8]
    records = critique_revise(cai_model.generate, [p["prompt"] for p in pairs], PRINCIPLES,
                              responses=[p["rejected"][0]["content"] for p in pairs])
    changed = [r["revision"] != r["initial"] for r in records]
    assert any(changed)
    vetted = vet_revisions(cai_model.score, records, PRINCIPLES, min_confidence=0.5)
    for r, v, c in zip(records, vetted, changed, strict=True):
        assert (v["p_revision"] is None) == (not c)
        assert v["vetted"] == (not c or v["p_revision"] >= 0.5)
        assert v["revision"] == (r["revision"] if v["vetted"] else r["initial"])
        assert v["messages"][-1]["content"] == v["revision"]
    # Nothing is sure enough at confidence 1: every changed revision falls back.
    strict = vet_revisions(cai_model.score, records, PRINCIPLES, min_confidence=1.0)
    assert sft_rows(strict, changed_only=True) == []
    assert vet_revisions(cai_model.score, records, PRINCIPLES, min_confidence=0.5) == vetted


def test_user_errors_are_named():
    def model(conversations):
        return ["ok"] * len(conversations)

    with pytest.raises(AccordError, match="rounds=0"):
        critique_revise(model, [[{"role": "user", "content": "Hi"}]], PRINCIPLES, rounds=0)
    with pytest.raises(AccordError, match="ends with an assistant message"):
        critique_revise(model, [[{"role": "assistant", "content": "Hi"}]], PRINCIPLES)
    with pytest.raises(AccordError, match="one string per conversation"):
        critique_revise(lambda c: ["x"], [[{"role": "user", "content": "a"}]] * 2, PRINCIPLES)
    with pytest.raises(AccordError, match="lacks one of"):
        as_principles([object()])
    with pytest.raises(AccordError, match="more than once"):
        as_principles([PRINCIPLES[0], PRINCIPLES[0]])
    with pytest.raises(AccordError, match="empty"):
        as_principles([])
