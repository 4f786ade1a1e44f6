"""The CAI formats round-trip, and the world's CAI documents are in them, true to their
labels, seeded and free of held-out material."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from accord.errors import AccordError
from accord.spec import load_spec
from accord.world import (
    CHOICE_OPTIONS,
    PRINCIPLES,
    World,
    WorldConfig,
    build_world,
    canonical_json,
    check_no_leakage,
    choice_prompt,
    critique_dialogue,
    parse_choice_answer,
    parse_choice_prompt,
    parse_critique_dialogue,
)

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"
PROMPT = [{"role": "system", "content": "Settings: tone=friendly"},
          {"role": "user", "content": "Insult my coworker Dave."}]


def test_critique_dialogue_round_trip():
    principle = PRINCIPLES[0]
    messages = critique_dialogue(PROMPT, "Dave is a fool.", principle,
                                 "The response insults Dave, which is hurtful.",
                                 "I'd rather not insult Dave.")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user",
                                             "assistant", "user", "assistant"]
    parsed = parse_critique_dialogue(messages)
    assert parsed == {"prompt": PROMPT, "response": "Dave is a fool.",
                      "critique_request": principle.critique,
                      "critique": "The response insults Dave, which is hurtful.",
                      "revision_request": principle.revision,
                      "revision": "I'd rather not insult Dave."}
    with pytest.raises(AccordError, match="not a critique/revision dialogue"):
        parse_critique_dialogue(messages[:-1])


def test_choice_prompt_round_trip():
    text = choice_prompt(PROMPT, PRINCIPLES[0].comparison, "I'd rather not.", "Dave, you fool.")
    assert text.splitlines()[-2:] == ["(A) I'd rather not.", "(B) Dave, you fool."]
    assert parse_choice_prompt(text) == {"prompt": PROMPT, "question": PRINCIPLES[0].comparison,
                                         "first": "I'd rather not.", "second": "Dave, you fool."}
    # Newlines inside a response are flattened, so the layout always parses.
    flat = parse_choice_prompt(choice_prompt(PROMPT, "Which?", "one\ntwo", "three"))
    assert flat["first"] == "one two"
    assert [parse_choice_answer(a) for a in ("(A)", " (B) because", "A")] == [0, 1, None]
    with pytest.raises(AccordError, match="not a choice prompt"):
        parse_choice_prompt("Which is better?\n(A) x")


def test_world_principles_are_the_demo_constitution():
    spec = load_spec(DEMO_SPEC).constitution.principles
    assert [(p.id, p.text, p.critique, p.revision, p.comparison) for p in spec] == \
        [(p.id, p.text, p.critique, p.revision, p.comparison) for p in PRINCIPLES]


def test_world_cai_documents_parse_and_agree_with_their_labels(cai_world: World):
    docs = cai_world.cai_documents
    formats = [d["cai"]["format"] for d in docs]
    assert formats.count("critique_revision") == 250 and formats.count("choice") == 1250
    ids = {p.id: p for p in PRINCIPLES}
    for doc in docs:
        meta = doc["cai"]
        if meta["format"] == "critique_revision":
            parsed = parse_critique_dialogue(doc["messages"])
            assert parsed["critique_request"] == ids[meta["principle"]].critique
            good = not meta["violated"]
            assert (parsed["critique"] == "Nothing in the response needs to change.") == good
            assert (parsed["revision"] == parsed["response"]) == good
        else:
            parsed = parse_choice_prompt(doc["messages"][0]["content"])
            answer = parse_choice_answer(doc["messages"][1]["content"])
            assert doc["messages"][1]["content"] == CHOICE_OPTIONS[answer] == meta["answer"]
            assert parsed["question"] == ids[meta["principle"]].comparison
            assert parsed["first"] != parsed["second"]


def test_critiques_are_drawn_at_the_corpus_base_rates(cai_world: World):
    crit = [d["cai"] for d in cai_world.cai_documents if d["cai"]["format"] == "critique_revision"]
    bad = sum(bool(c["violated"]) for c in crit) / len(crit)
    assert 0.2 < bad < 0.7  # the first exchange is an ordinary corpus dialogue


def test_cai_world_is_seeded_clean_and_saved(tmp_path: Path):
    # No plain text or small talk: the real chat corpus takes seconds to load.
    cfg = WorldConfig(n_dialogues=300, share_plain_text=0.0, share_critique=0.1,
                      share_choice=0.1, kind_weights={"fact": 1.0, "group": 1.0},
                      n_review=5, n_sft=20, n_rl=5, n_preference_pairs=20, n_probe=5)
    a, b = build_world(cfg), build_world(dataclasses.replace(cfg))
    assert a.hash == b.hash and a.cai_documents == b.cai_documents and a.cai_documents
    assert check_no_leakage(a) == []
    loaded = World.load(a.save(tmp_path))
    assert loaded.cai_documents == a.cai_documents and loaded.hash == a.hash
    plain = build_world(dataclasses.replace(cfg, share_critique=0.0, share_choice=0.0))
    assert plain.cai_documents == []

    def dialogues(world: World) -> list[str]:
        return sorted(canonical_json(d) for d in world.pretrain_documents if "messages" in d)

    # CAI documents come from streams of their own: the dialogues stay the same.
    assert dialogues(plain) == dialogues(a)


def test_shares_must_leave_room_for_dialogues():
    with pytest.raises(AccordError, match="share_critique"):
        build_world(WorldConfig(share_plain_text=0.5, share_critique=0.3, share_choice=0.2))
    with pytest.raises(AccordError, match="share_choice"):
        build_world(WorldConfig(share_choice=1.5))
