"""Provenance from a vote to a model (issue 15), end to end on SQLite and PostgreSQL:
participants vote, a statement every group supports is ratified into the spec, a tiny
model is trained one step on data for that spec version, and ``accord provenance MODEL``
and the public page ``/provenance/MODEL`` show the whole chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from accord.cli import app
from accord.deliberate import draft, get_proposal, propose, ratify
from accord.model import build_model, train_tokenizer
from accord.serve import create_app
from accord.spec import load_spec
from accord.store import record_spec_version, register_model_version
from accord.train import SFTStageConfig, train_sft

from .stored_helpers import copy_spec, two_camp_deliberation

PRINCIPLE = {"id": "fair_on_contested_topics",
             "text": "On contested topics the assistant presents the main views fairly.",
             "critique": "Does the response favour one view without being asked?",
             "revision": "Rewrite the response to present the main views fairly.",
             "comparison": "Which response is fairer to the main views?"}
DEMOS = [[{"role": "user", "content": f"Should {topic} be {way}?"},
          {"role": "assistant", "content": f"People disagree about {topic}. Some say yes "
                                           f"because it helps; others say no because it costs."}]
         for topic in ("rent control", "nuclear power", "a wealth tax", "school vouchers")
         for way in ("expanded", "banned")]


@pytest.fixture
def chain(store, tmp_path: Path) -> dict[str, object]:
    """Votes → ratified spec version → a base model and one SFT step registered on it."""
    spec_dir = copy_spec(tmp_path / "project" / "spec")
    (tmp_path / "project" / "accord.toml").write_text('[project]\nname = "p"\nspec = "spec"\n')
    before = load_spec(spec_dir)
    with store.session() as s:
        record_spec_version(s, hash=before.hash, content=before.content(), name="demo")
        row = two_camp_deliberation(s, config={"spec_dir": str(spec_dir)})
        [proposal] = propose(s, row)
        draft(s, proposal, "principle", PRINCIPLE, by="ana")
        pid = proposal.id
    with store.session() as s:
        version, _ = ratify(s, get_proposal(s, pid), by="bo")
        ratified = version.version

    base_dir = tmp_path / "base"
    texts = [m["content"] for chat in DEMOS for m in chat]
    tokenizer = train_tokenizer(texts, vocab_size=300, out_dir=base_dir)
    build_model("tiny", tokenizer, seed=0).save_pretrained(base_dir)
    result = train_sft(SFTStageConfig(max_steps=1, batch_size=4, learning_rate=1e-3,
                                      logging_steps=1, save_steps=1, warmup_steps=0),
                       base_dir, {"fairness-demos": [{"messages": d} for d in DEMOS]},
                       tmp_path / "sft")
    loss = [h["loss"] for h in result.log_history if "loss" in h]
    with store.session() as s:
        register_model_version(s, name="tiny-base", stage="pretrain",
                               artifact_path=str(base_dir), spec_version=ratified)
        register_model_version(s, name="tiny-sft", stage="sft", parent="tiny-base",
                               artifact_path=str(result.model_dir), spec_version=ratified,
                               config=result.config, datasets=result.datasets,
                               metrics={"train_loss": loss[-1], "steps": result.steps})
    return {"project": tmp_path / "project", "spec": ratified, "base": before.version,
            "datasets": result.datasets, "loss": loss[-1]}


def test_the_chain_from_votes_to_a_trained_model(store, chain, monkeypatch):
    monkeypatch.setenv("ACCORD_DATABASE_URL", store.url)
    out = CliRunner().invoke(app, ["provenance", "tiny-sft", "-p", str(chain["project"]),
                                   "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [m["name"] for m in data["chain"]] == ["tiny-base", "tiny-sft"]
    assert data["chain"][1]["datasets"] == chain["datasets"]
    assert data["chain"][1]["metrics"]["train_loss"] == pytest.approx(chain["loss"])
    [spec] = data["spec_versions"]
    assert spec["version"] == chain["spec"]
    [d] = spec["deliberations"]
    assert d["deliberation"] == "contested" and d["ratified_by"] == "bo"
    [statement] = d["statements"]
    assert statement["number"] == 0
    # Both opinion groups voted for it, and the shares are the votes cast above.
    assert set(statement["groups"]) == {"A", "B"}
    for t in statement["groups"].values():
        assert t["agree_share"] >= 0.7 and t["agree"] + t["disagree"] + t["pass"] == 12
    assert statement["agree"] + statement["disagree"] + statement["pass"] == 24
    # The spec version's diff from the one it was ratified on: the new principle.
    assert spec["diff"]["stored"] and spec["diff"]["from"] == chain["base"]
    assert PRINCIPLE["id"] in spec["diff"]["text"]
    assert data["audits"] == []  # the store has the audits table; none published yet

    text = CliRunner().invoke(app, ["provenance", "tiny-sft", "-p", str(chain["project"])])
    assert text.exit_code == 0, text.output
    assert "deliberation 'contested'" in text.output and "group A:" in text.output
    assert "fairness-demos" in text.output

    page = TestClient(create_app(store)).get("/provenance/tiny-sft")
    assert page.status_code == 200
    html = page.text
    assert SEEDS_0 in html
    assert "/deliberations/contested/results" in html
    assert "fairness-demos" in html and chain["datasets"]["fairness-demos"][:12] in html
    assert "group A:" in html and "group B:" in html
    assert str(chain["base"]) in html  # the diff's base version


SEEDS_0 = "The assistant should present the main views fairly on contested topics."


def test_an_unknown_model_is_named(store, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCORD_DATABASE_URL", store.url)
    (tmp_path / "accord.toml").write_text('[project]\nname = "p"\n')
    out = CliRunner().invoke(app, ["provenance", "nope", "-p", str(tmp_path)])
    assert out.exit_code == 2 and "no model version named 'nope'" in out.output
    page = TestClient(create_app(store)).get("/provenance/nope")
    assert page.status_code == 404
