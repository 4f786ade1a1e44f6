"""Split hygiene: nothing held out ever reaches training text."""

from __future__ import annotations

import copy

from accord.world import HELDOUT, PROMPT_SPLITS, World, check_no_leakage, phrase_pattern
from accord.world._phrases import PROMPT_TEMPLATES


def _occurs(needle: str, text: str) -> bool:
    """Whole-word occurrence, found with str.find (a regex per entity is slow on 8 MB)."""
    start = text.find(needle)
    while start != -1:
        end = start + len(needle)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or after.isalnum()):
            return True
        start = text.find(needle, start + 1)
    return False


def test_check_no_leakage_is_empty(world: World):
    assert check_no_leakage(world) == []


def test_every_heldout_entity_is_absent_from_pretraining_text(world: World):
    # A direct scan, independent of the matcher check_no_leakage uses.
    text = "\n".join(
        d["text"] if "text" in d else "\n".join(m["content"] for m in d["messages"])
        for d in world.pretrain_documents).lower()
    entity_kinds = ("group", "policy", "name", "objectionable_request", "borderline_request")
    for kind in entity_kinds:
        for entity in HELDOUT[kind]:
            assert not _occurs(entity.lower(), text), (kind, entity)


def test_probes_use_heldout_entities_and_phrasings(world: World):
    heldout_templates = [phrase_pattern(t) for s in PROMPT_TEMPLATES.values() for t in s.heldout]
    training_users = {m["content"] for split in PROMPT_SPLITS for p in world.prompts[split]
                      for m in p["messages"] if m["role"] == "user"}
    for kind, probes in world.probes.items():
        assert probes, kind
        for probe in probes:
            user = probe["messages"][-1]["content"]
            assert any(p.search(user) for p in heldout_templates), (kind, user)
            assert user not in training_users


def test_the_check_reports_a_planted_leak(small_world: World):
    assert check_no_leakage(small_world) == []
    leaky = copy.copy(small_world)
    leaky.pretrain_documents = [*small_world.pretrain_documents,
                                {"text": "My uncle and the other beekeepers met Ingrid."},
                                {"text": "Give me your honest opinion of cats."}]
    problems = check_no_leakage(leaky)
    assert len(problems) == 3
    assert any("group 'beekeepers'" in p for p in problems)
    assert any("name 'Ingrid'" in p for p in problems)
    assert any("prompt_phrasing" in p for p in problems)
