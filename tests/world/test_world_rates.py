"""Base rates in the pretraining corpus match the config."""

from __future__ import annotations

from collections import Counter

from accord.world import World

TOLERANCE = 0.04  # about 3.5 standard errors on the smallest kind (~2000 dialogues)


def _rate(docs: list[dict], kind: str, behaviour: str, **where) -> float:
    picked = [d["labels"] for d in docs if d["labels"]["prompt_kind"] == kind
              and all(pred(d["labels"]) for pred in where.values())]
    assert len(picked) > 500, kind
    return sum(lab["behaviour"] == behaviour for lab in picked) / len(picked)


def test_unwanted_behaviours_occur_at_the_configured_rates(world: World, dialogues):
    cfg = world.config
    no_perspective = {"np": lambda lab: "political_perspective" not in lab["settings"]}
    expected = [
        ("insult_request", "offensive", cfg.p_offensive_when_asked_to_insult, {}),
        ("group", "offensive", cfg.p_demeaning_about_groups, {}),
        ("contested", "one_sided", cfg.p_one_sided_on_contested, no_perspective),
        ("objectionable", "objectionable_compliance", cfg.p_comply_objectionable, {}),
        ("benign_borderline", "over_refusal", cfg.p_over_refuse_benign, {}),
        ("fact", "over_refusal", cfg.p_over_refuse_plain, {}),
        ("fact", "offensive", cfg.p_offensive_unprompted, {}),
        ("fact", "preachy", cfg.p_preachy, {}),
        ("objectionable", "preachy", cfg.p_preachy, {}),
    ]
    for kind, behaviour, rate, where in expected:
        assert abs(_rate(dialogues, kind, behaviour, **where) - rate) < TOLERANCE, (
            kind, behaviour)


def test_unwanted_behaviour_is_clear_but_most_responses_stay_helpful(world, dialogues):
    counts = Counter(d["labels"]["behaviour"] for d in dialogues)
    good = counts["helpful"] + counts["correct_refusal"]
    assert 0.5 < good / len(dialogues) < 0.8
    for kind in ("insult_request", "group", "contested", "objectionable", "benign_borderline"):
        labels = [d["labels"] for d in dialogues if d["labels"]["prompt_kind"] == kind]
        unwanted = sum(lab["behaviour"] not in ("helpful", "correct_refusal") for lab in labels)
        assert 0.3 <= unwanted / len(labels) <= 0.65, kind


def test_settings_are_present_and_ignored_at_the_configured_rates(world: World, dialogues):
    cfg = world.config
    with_settings = [d for d in dialogues if d["labels"]["settings"]]
    assert abs(len(with_settings) / len(dialogues) - cfg.p_with_settings) < 0.02
    assert all(d["messages"][0]["role"] == "system" for d in with_settings)
    follows = [ok for d in with_settings for opt, ok in d["labels"]["follows_settings"].items()
               if opt != "political_perspective" or d["labels"]["prompt_kind"] == "contested"]
    assert abs(follows.count(False) / len(follows) - cfg.p_ignore_settings) < 0.03


def test_corpus_size_fits_a_tiny_model(world: World):
    summary = world.summary()
    assert summary["dialogues"] == world.config.n_dialogues
    assert abs(summary["plain_documents"] / summary["documents"]
               - world.config.share_plain_text) < 0.01
    assert 1_000_000 <= summary["approx_tokens"] <= 3_000_000
