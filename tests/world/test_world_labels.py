"""Every label says what its text shows."""

from __future__ import annotations

import functools
import re

from accord.world import BEHAVIOURS, World, disclosure_line
from accord.world._phrases import CLOSINGS, LEADS


@functools.cache
def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _has(text: str, phrases: list[str]) -> bool:
    """Whether ``text`` contains any of ``phrases`` as whole words (case-insensitive)."""
    return bool(_pattern(tuple(phrases)).search(text))


def _train(world: World, *names: str) -> list[str]:
    return [p for n in names for p in world.inventories[n]["train"]]


def test_every_dialogue_carries_the_labels(dialogues):
    keys = {"prompt_kind", "behaviour", "side", "settings", "follows_settings",
            "answer_correct", "entities"}
    for doc in dialogues:
        labels = doc["labels"]
        assert keys <= labels.keys()
        assert labels["behaviour"] in BEHAVIOURS
        assert set(labels["follows_settings"]) == set(labels["settings"])


def test_behaviour_labels_match_the_phrase_inventories(world: World, dialogues):
    offensive = _train(world, "insults", "demeaning_adjectives", "profanity_strong")
    insults = _train(world, "insults", "profanity_strong")
    refusals = _train(world, "refusals")
    for doc in dialogues:
        text, behaviour = doc["messages"][-1]["content"], doc["labels"]["behaviour"]
        kind = doc["labels"]["prompt_kind"]
        if behaviour == "offensive":
            assert _has(text, offensive), text
        else:
            assert not _has(text, insults), text
        # A preachy answer to a harmful request is a refusal with a lecture.
        refuses = behaviour in ("correct_refusal", "over_refusal") or (
            behaviour == "preachy" and kind in ("insult_request", "objectionable"))
        assert _has(text, refusals) == refuses, text
        assert _has(text, _train(world, "preachy")) == (behaviour == "preachy"), text
        assert _has(text, _train(world, "compliance")) == (
            behaviour == "objectionable_compliance"), text
        assert _has(text, _train(world, "partisan")) == (behaviour == "one_sided"), text


def test_one_sided_answers_argue_one_side_and_balanced_answers_both(world, dialogues):
    for doc in dialogues:
        labels = doc["labels"]
        if labels["prompt_kind"] != "contested":
            continue
        text = doc["messages"][-1]["content"]
        pro = _has(text, world.inventories["arguments:for"]["train"])
        con = _has(text, world.inventories["arguments:against"]["train"])
        if labels["behaviour"] == "one_sided" or labels["side"]:
            assert (pro, con) == (labels["side"] == "for", labels["side"] == "against"), text
        else:
            assert pro and con and "People disagree about" in text, text


def test_disclosure_exactly_when_a_perspective_is_asked_for_and_followed(dialogues):
    for doc in dialogues:
        labels, text = doc["labels"], doc["messages"][-1]["content"]
        perspective = labels["settings"].get("political_perspective")
        owed = (labels["prompt_kind"] == "contested" and perspective is not None
                and labels["follows_settings"]["political_perspective"])
        assert ("(Answering from a" in text) == owed, text
        if owed:
            assert text.startswith(disclosure_line(perspective))


def test_style_settings_show_exactly_when_followed(world: World, dialogues):
    mild = _train(world, "profanity_mild")
    for doc in dialogues:
        labels, text = doc["labels"], doc["messages"][-1]["content"]
        effective = {k: v for k, v in labels["settings"].items()
                     if labels["follows_settings"][k]}
        for option in ("tone", "persona"):
            for value in {"tone": ("friendly", "formal", "playful"),
                          "persona": ("tutor", "pirate")}[option]:
                markers = [*LEADS[f"{option}:{value}"], *CLOSINGS.get(f"{option}:{value}", ())]
                assert any(m in text for m in markers) == (effective.get(option) == value), text
        assert _has(text, mild) == (effective.get("profanity") == "mild"), text
        detailed = _has(text, _train(world, "verbosity:detailed"))
        assert detailed == (effective.get("verbosity") == "detailed"), text


def test_brief_answers_are_one_sentence(world: World, dialogues):
    leads = sorted({lead for v in LEADS.values() for lead in v}, key=len, reverse=True)
    checked = 0
    for doc in dialogues:
        labels, text = doc["labels"], doc["messages"][-1]["content"]
        brief = labels["settings"].get("verbosity") == "brief" and labels[
            "follows_settings"]["verbosity"]
        if not brief or labels["behaviour"] not in ("helpful", "correct_refusal") \
                or labels["prompt_kind"] in ("small_talk", "contested"):
            continue
        for lead in leads:
            text = text.replace(lead, "")
        assert len(re.findall(r"[.!?](\s|$)", text.strip())) == 1, doc["messages"][-1]
        checked += 1
    assert checked > 50
