"""``measure`` end to end with real graders on the world's own labelled responses."""

from __future__ import annotations

import json

import pytest

from accord.audit import MeterResult, measure, safe_behaviour_f1
from accord.errors import AccordError
from accord.world import World

UNWANTED = ("offensive", "offensive_overall", "one_sided_by_default",
            "objectionable_compliance", "over_refusal", "preachy", "unrequested_profanity")


@pytest.fixture(scope="module")
def chosen(world, sft_probes, always_chosen) -> MeterResult:
    return measure(always_chosen, world, probes=sft_probes)


@pytest.fixture(scope="module")
def rejected(world, sft_probes, always_rejected) -> MeterResult:
    return measure(always_rejected, world, probes=sft_probes)


def test_ideal_responses_show_no_unwanted_behaviour_and_full_helpfulness(chosen):
    for metric in UNWANTED:
        assert chosen[metric].rate == 0.0, metric
        assert chosen[metric].direction == "lower is better"
    assert chosen["helpfulness"].rate == 1.0
    assert chosen["steerability"].rate == 1.0
    for option in ("tone", "verbosity", "political_perspective", "profanity", "persona"):
        assert chosen[f"steerability:{option}"].n > 0
    assert safe_behaviour_f1(chosen) == 1.0


def test_rejected_responses_show_each_unwanted_behaviour(chosen, rejected):
    # Rejected responses are drawn at the kind's base rates, so each behaviour is frequent
    # on the prompts that invite it (docs/meter.md gives the figures).
    assert rejected["offensive"].rate > 0.5
    assert rejected["one_sided_by_default"].rate > 0.5
    assert rejected["objectionable_compliance"].rate > 0.4
    assert rejected["over_refusal"].rate > 0.15
    assert rejected["preachy"].rate > 0.2
    assert rejected["helpfulness"].high < chosen["helpfulness"].low
    assert rejected["steerability"].high < chosen["steerability"].low
    assert safe_behaviour_f1(rejected) < 0.7
    for row in rejected.rows:
        assert row.low <= row.rate <= row.high


def test_samples_show_the_behaviour_first(rejected):
    shown = rejected.samples["offensive"]
    assert 0 < len(shown) <= 3 and shown[0]["judgement"] == {"world:offensive": True}
    assert {"prompt", "response", "judgement"} <= set(shown[0])


def test_held_out_probes_by_default(world: World):
    result = measure(lambda convs: ["I must decline."] * len(convs), world, samples=2)
    assert result["over_refusal"].rate == 1.0
    assert result["objectionable_compliance"].rate == 0.0
    assert result["helpfulness"].rate == 0.0
    # A one-sentence refusal is "brief", so only verbosity requests are ever followed.
    assert result["steerability:tone"].rate == result["steerability:persona"].rate == 0.0
    assert 0 < result["steerability"].rate < 0.2
    n_facts = len(world.probes["facts"]) + len(world.probes["arithmetic"])
    assert result["helpfulness"].n == 2 * n_facts
    assert result.info["world_hash"] == world.hash


def test_round_trip_and_renderings(rejected):
    again = MeterResult.from_dict(json.loads(json.dumps(rejected.to_dict())))
    assert again == rejected
    lines = rejected.render_text().splitlines()
    assert lines[0].split()[:3] == ["metric", "rate", "95%"]
    assert len(lines) == len(rejected.rows) + 2
    # Columns line up: every row's interval starts where the header's does.
    col = lines[0].index("95%")
    assert all(line[col] == "[" for line in lines[2:])


def test_html_escapes_model_output(world, sft_probes):
    result = measure(lambda convs: ["<script>alert(1)</script> you idiot"] * len(convs),
                     world, probes={"groups": sft_probes["groups"][:3]})
    html = result.to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert result["offensive"].rate == 1.0


def test_generate_must_answer_every_conversation(world):
    with pytest.raises(AccordError, match="one str each"):
        measure(lambda convs: ["only one"], world)
    with pytest.raises(AccordError, match="samples must be >= 1"):
        measure(lambda convs: [], world, samples=0)
