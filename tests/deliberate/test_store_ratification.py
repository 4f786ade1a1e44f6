"""Ratification, on SQLite and PostgreSQL: proposals with tallies, drafted changes of each
kind, the spec folder edited with its comments kept, a new spec version with provenance in
the folder and the store, invalid changes refused with nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accord.deliberate import (
    SpecChangeError,
    check_change,
    draft,
    get_deliberation,
    list_proposals,
    propose,
    ratify,
    reject,
)
from accord.errors import AccordError
from accord.spec import load_spec
from accord.store import SpecVersion

from .stored_helpers import copy_spec, two_camp_deliberation

PRINCIPLE = {"id": "fair_on_contested_topics",
             "text": "On contested topics the assistant presents the main views fairly.",
             "critique": "Does the response favour one view without being asked?",
             "revision": "Rewrite the response to present the main views fairly.",
             "comparison": "Which response is fairer to the main views?"}


def _comments(path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip().startswith("#")]


def _proposal(store, spec_dir):
    with store.session() as s:
        row = two_camp_deliberation(s, config={"spec_dir": str(spec_dir)})
        new = propose(s, row)
        assert [p.statement_numbers for p in new] == [[0]]  # only the statement all share
        assert propose(s, row) == []  # not proposed twice
        return new[0].id


def test_a_ratified_principle_becomes_a_new_spec_version_with_provenance(store, tmp_path):
    spec_dir = copy_spec(tmp_path / "spec")
    before = load_spec(spec_dir)
    comments = {f: _comments(spec_dir / f) for f in ("constitution.yaml", "spec.yaml")}
    pid = _proposal(store, spec_dir)
    with store.session() as s:
        proposal = list_proposals(s, get_deliberation(s, "contested"))[0]
        tally = proposal.tallies["0"]
        assert tally["tally"]["agree"] >= 20 and set(tally["groups"]) == {"0", "1"}
        assert all(g["agree_share"] >= 0.7 for g in tally["groups"].values())
        assert tally["bridging"]["low"] < tally["bridging"]["intercept"]
        with pytest.raises(AccordError, match="only a drafted proposal"):
            ratify(s, proposal, by="ana")
        draft(s, proposal, "principle", PRINCIPLE, by="ana", summary="Fairness, by consensus")
        version, spec = ratify(s, proposal, by="bo")
        version_id = version.id
    after = load_spec(spec_dir)  # the folder validates
    assert after.hash == spec.hash != before.hash
    assert [p.id for p in after.constitution.principles][-1] == "fair_on_contested_topics"
    for f, lines in comments.items():  # every comment survives the edit
        assert _comments(spec_dir / f) == lines
    record = after.manifest.provenance[-1]
    assert record.kind == "deliberation" and record.ratified_by == "bo" and record.ratified_at
    details = record.details
    assert details["deliberation"] == "contested" and details["proposal"] == pid
    assert details["base_spec_hash"] == before.hash and details["drafted_by"] == "ana"
    assert details["statements"][0]["number"] == 0
    assert details["statements"][0]["tally"]["agree"] == tally["tally"]["agree"]
    with store.session() as s:
        row = s.get(SpecVersion, version_id)
        assert row.hash == after.hash and row.content == after.content()
        assert row.provenance[0]["details"]["statements"][0]["text"].startswith("The assistant")
        proposal = list_proposals(s, get_deliberation(s, "contested"))[0]
        assert (proposal.status, proposal.decided_by, proposal.spec_version_id) == (
            "ratified", "bo", version_id)
        with pytest.raises(AccordError, match="already ratified"):
            draft(s, proposal, "principle", PRINCIPLE, by="ana")


@pytest.mark.parametrize(("kind", "item", "check"), [
    # A changed default: the tied option's default follows.
    ("default", {"id": "neutral_tone", "description": "A friendly register.", "option": "tone",
                 "value": "friendly"},
     lambda spec: spec.bounds.option("tone").default == "friendly"),
    # A narrowed bound: a lower threshold.
    ("bound", {"id": "no_insults", "description": "Never insult anyone.",
               "check": {"proposition": "insults_person_or_group", "threshold": 0.3},
               "safe_completion": "I'd rather not put anyone down."},
     lambda spec: next(b for b in spec.bounds.hard_bounds if b.id == "no_insults"
                       ).check.threshold == 0.3),
    ("option", {"id": "citations", "description": "Cite sources on contested topics.",
                "values": ["off", "on"], "default": "off"},
     lambda spec: spec.bounds.option("citations").values == ["off", "on"]),
])
def test_each_kind_of_change(store, tmp_path, kind, item, check):
    spec_dir = copy_spec(tmp_path / "spec")
    comments = _comments(spec_dir / "bounds.yaml")
    _proposal(store, spec_dir)
    with store.session() as s:
        proposal = list_proposals(s, get_deliberation(s, "contested"))[0]
        draft(s, proposal, kind, item, by="ana")
        ratify(s, proposal, by="ana")
    spec = load_spec(spec_dir)
    assert check(spec)
    assert _comments(spec_dir / "bounds.yaml") == comments


def test_an_invalid_change_writes_nothing(store, tmp_path):
    spec_dir = copy_spec(tmp_path / "spec")
    files = {f.name: f.read_bytes() for f in spec_dir.iterdir()}
    _proposal(store, spec_dir)
    bad = {"id": "neutral_tone", "description": "x", "option": "tone", "value": "shouting"}
    with store.session() as s:
        proposal = list_proposals(s, get_deliberation(s, "contested"))[0]
        draft(s, proposal, "default", bad, by="ana")
        with pytest.raises(SpecChangeError, match=r"bounds\.yaml:\d+:\d+: .*shouting"):
            ratify(s, proposal, by="ana")
    assert {f.name: f.read_bytes() for f in spec_dir.iterdir()} == files
    with store.session() as s:
        assert list_proposals(s, get_deliberation(s, "contested"))[0].status == "drafted"
        assert s.scalars(select(SpecVersion)).all() == []


def test_a_ratification_whose_commit_failed_is_completed_once_on_retry(store, tmp_path):
    spec_dir = copy_spec(tmp_path / "spec")
    _proposal(store, spec_dir)
    with store.session() as s:
        draft(s, list_proposals(s, get_deliberation(s, "contested"))[0], "principle",
              PRINCIPLE, by="ana")
    with pytest.raises(RuntimeError), store.session() as s:
        ratify(s, list_proposals(s, get_deliberation(s, "contested"))[0], by="ana")
        raise RuntimeError("the process died before the commit")
    written = load_spec(spec_dir)  # the files were written, the store rolled back
    with store.session() as s:
        version, _ = ratify(s, list_proposals(s, get_deliberation(s, "contested"))[0],
                               by="ana")
        assert version.hash == written.hash
    after = load_spec(spec_dir)
    assert after.hash == written.hash
    assert [p.id for p in after.constitution.principles].count("fair_on_contested_topics") == 1


def test_drafts_are_checked_field_by_field_and_proposals_can_be_rejected(store, tmp_path):
    with pytest.raises(SpecChangeError, match="constitution principle: critique: Field required"):
        check_change("principle", {"id": "x", "text": "t", "revision": "r", "comparison": "c"})
    with pytest.raises(SpecChangeError, match="unknown field; allowed"):
        check_change("option", {"id": "x", "description": "d", "values": ["a"], "default": "a",
                                "colour": "red"})
    with pytest.raises(SpecChangeError, match="not one of principle, default, bound, option"):
        check_change("rule", {})
    _proposal(store, copy_spec(tmp_path / "spec"))
    with store.session() as s:
        proposal = list_proposals(s, get_deliberation(s, "contested"))[0]
        with pytest.raises(AccordError, match="--by"):
            draft(s, proposal, "principle", PRINCIPLE, by=" ")
        reject(s, proposal, by="ana")
        assert proposal.status == "rejected"
        with pytest.raises(AccordError, match="already rejected"):
            reject(s, proposal, by="ana")
