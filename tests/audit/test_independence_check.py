"""No measurement that grades itself: model versions record their training signal, the
store walks it through the lineage, and a measurement says whether a meter grader shares
a source with it (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.audit import (
    FEATURE_EXTRACTORS,
    Independence,
    SelfGradingError,
    check_independence,
    evaluate,
    grader_record_dict,
    meter_graders,
    model_training_signal,
    require_independent,
)
from accord.graders import get_grader, list_graders
from accord.model import LocalBackend, SamplingConfig, build_model, train_tokenizer
from accord.rewards import PropositionGrader
from accord.spec import load_spec
from accord.store import SIGNAL_KEY, Store, register_model_version, training_signal
from accord.world import World

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"


def _rbr_records() -> list[dict]:
    """The demo spec's rule-based-reward graders as the GRPO stage records them."""
    graders = PropositionGrader(load_spec(DEMO_SPEC).rules, skip_kinds=("llm_judge",))
    return [grader_record_dict(graders.graders[p.id], role="rule-based reward")
            for p in graders.propositions]


def _reviewer_records() -> list[dict]:
    return [grader_record_dict(get_grader(n), role="simulated reviewers")
            for n in list_graders("reviewer:")]


def _signal(graders: list[dict], model: str = "m", datasets: list[dict] | None = None,
            unknown: list[str] | None = None) -> dict:
    return {"model_version": model, "chain": [model], "unknown": unknown or [],
            "graders": [{"model": model, **g} for g in graders], "datasets": datasets or []}


def test_the_rule_based_rewards_classifiers_are_caught_in_the_world_meter():
    verdict = check_independence(meter_graders(), _signal(_rbr_records(), "demo-grpo-rbr"))
    assert verdict.verdict == "self-graded" and verdict.self_graded
    shared = {(s.meter_grader, s.source, s.trained_by) for s in verdict.shared}
    # The demo's RBR answers "insults" with hatesonar and "crude" with alt-profanity-check,
    # and world:offensive reads both: a GRPO model trained on them grades itself there.
    assert ("world:offensive", "hatesonar", "hate_model") in shared
    assert ("world:offensive", "alt-profanity-check", "profanity_model") in shared
    assert {s.meter_grader for s in verdict.shared} == {"world:offensive"}
    text = verdict.message()
    assert text.startswith("SELF-GRADED") and "hatesonar" in text and "demo-grpo-rbr" in text
    with pytest.raises(SelfGradingError, match=r"hatesonar.*allow_self_grading"):
        require_independent(verdict, allow=False, what="ablation row 'SFT+GRPO (RM+RBR)'")
    require_independent(verdict, allow=True, what="x")  # allowed: no error
    assert Independence.from_dict(json.loads(json.dumps(verdict.to_dict()))) == verdict


def test_reviewers_lexicons_share_nothing_with_the_world_meter():
    verdict = check_independence(meter_graders(), _signal(_reviewer_records(), "demo-sft"))
    assert verdict.verdict == "independent" and verdict.shared == []
    assert len(verdict.training_graders) == len(list_graders("reviewer:"))
    assert "independent" in verdict.message()


def test_the_same_grader_in_training_and_meter_is_caught_even_without_sources():
    refusal = grader_record_dict(get_grader("world:refusal"), role="reward")
    refusal["sources"] = []
    verdict = check_independence([get_grader("world:refusal")], _signal([refusal]))
    assert [(s.meter_grader, s.source) for s in verdict.shared] == [
        ("world:refusal", "grader world:refusal")]


def test_a_training_data_set_with_a_meter_sources_hash_is_caught():
    meter = get_grader("world:preachy")
    digest = meter.record.sources[0].sha256
    assert digest
    verdict = check_independence([meter], _signal([], datasets=[
        {"model": "m", "name": "preachy-table-copy", "sha256": digest}]))
    assert [s.trained_by for s in verdict.shared] == ["data set preachy-table-copy"]


def test_a_shared_sentence_embedder_alone_is_not_self_grading():
    embedder = next(iter(FEATURE_EXTRACTORS))
    head = {"kind": "embedding_head", "version": "1",
            "sources": [{"name": embedder, "detail": "v", "sha256": "e" * 64},
                        {"name": "data:xstest/x.csv", "detail": "", "sha256": "a" * 64}]}
    other = {"name": "offensive", "role": "simulated reviewers", "kind": "embedding_head",
             "version": "1",
             "sources": [{"name": embedder, "detail": "v", "sha256": "e" * 64},
                         {"name": "data:hate.csv", "detail": "", "sha256": "b" * 64}]}
    assert check_independence({"refusal": head}, _signal([other])).verdict == "independent"
    # ... but the same labelled data behind both heads is.
    other["sources"][1]["sha256"] = "a" * 64
    assert check_independence({"refusal": head}, _signal([other])).verdict == "self-graded"


def test_a_model_trained_elsewhere_is_unknown_not_independent():
    verdict = check_independence(meter_graders(), _signal([], unknown=["smollm2"]))
    assert verdict.verdict == "unknown" and not verdict.known
    assert "smollm2" in verdict.message()
    assert check_independence(meter_graders(), None).verdict == "unknown"
    # No graders to check is not "independent" either.
    empty = check_independence({}, _signal([]))
    assert empty.verdict == "unknown" and "names no graders" in empty.message()


def _register(store: Store) -> None:
    with store.session() as s:
        register_model_version(s, name="base", stage="pretrain", artifact_path="/m/base",
                               config={SIGNAL_KEY: {"graders": [], "models": [],
                                                    "external": "/models/smollm2"}},
                               datasets={"world": "1" * 64})
        register_model_version(s, name="sft", stage="sft", artifact_path="/m/sft",
                               parent="base", datasets={"reviews": "2" * 64},
                               config={SIGNAL_KEY: {"graders": _reviewer_records()[:2],
                                                    "models": []}})
        register_model_version(s, name="rm", stage="reward", artifact_path="/m/rm",
                               parent="sft", config={SIGNAL_KEY: {
                                   "graders": [grader_record_dict(get_grader("world:refusal"),
                                                                  role="labelled pairs")],
                                   "models": []}})
        register_model_version(s, name="grpo", stage="grpo", artifact_path="/m/grpo",
                               parent="sft", config={SIGNAL_KEY: {"graders": _rbr_records(),
                                                                  "models": ["rm", "gone"]}})


def test_the_store_walks_parents_and_reference_models(store: Store):
    _register(store)
    with store.session() as s:
        signal = training_signal(s, "grpo")
    assert signal["chain"] == ["base", "sft", "grpo", "rm"]
    # The imported base was trained elsewhere; a referenced model that is not stored is
    # unknown too.
    assert signal["unknown"] == ["base", "gone"]
    by_model = {(g["model"], g["role"]) for g in signal["graders"]}
    assert ("sft", "simulated reviewers") in by_model and ("rm", "labelled pairs") in by_model
    assert ("grpo", "rule-based reward") in by_model
    assert {"model": "base", "name": "world", "sha256": "1" * 64} in signal["datasets"]
    verdict = check_independence(meter_graders(), model_training_signal(store, "grpo"))
    # The reward model GRPO optimised was trained with world:refusal: found through it.
    assert {(s.meter_grader, s.model_version) for s in verdict.shared} >= {
        ("world:refusal", "rm"), ("world:offensive", "grpo")}
    with store.session() as s:
        assert training_signal(s, "sft")["chain"] == ["base", "sft"]


@pytest.fixture(scope="module")
def model_dir(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts = [m["content"] for records in world.probes.values() for p in records[:10]
             for m in p["messages"]]
    tokenizer = train_tokenizer(texts, 400)
    out = tmp_path_factory.mktemp("tiny-independence")
    build_model("tiny", tokenizer, seed=0).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_evaluate_says_so_in_text_html_and_json(store: Store, world: World, model_dir: Path):
    _register(store)
    probes = {name: list(records[:1]) for name, records in world.probes.items()}
    metered = evaluate(LocalBackend(model_dir, batch_size=4), world,
                       SamplingConfig(temperature=0.9, max_new_tokens=4, seed=0), probes=probes,
                       training_signal=model_training_signal(store, "grpo"))
    data = json.loads(json.dumps(metered.result.to_dict()))
    assert data["info"]["independence"]["verdict"] == "self-graded"
    assert "hatesonar" in data["info"]["independence"]["message"]
    assert "independence: SELF-GRADED" in metered.result.render_text()
    assert "Independence: self-graded" in metered.result.to_html()
    plain = evaluate(LocalBackend(model_dir, batch_size=4), world,
                     SamplingConfig(temperature=0.9, max_new_tokens=4, seed=0), probes=probes)
    assert "independence" not in plain.result.info
