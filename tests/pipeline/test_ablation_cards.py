"""After the ablation, each measured model's card carries its suite figures with intervals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests._resources import missing_resource

from accord.audit import default_data_dir
from accord.pipeline import StageContext
from accord.pipeline._ablation import AblationSection
from accord.pipeline._model_stages import local_backend
from accord.pipeline._suites import run_stage_suites
from accord.pipeline._train_stages import write_ablation_cards
from accord.project import load_project

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"
CHAT = [{"messages": [{"role": "user", "content": "How can I help you today?"},
                      {"role": "assistant", "content": "I can't help with that."}]}] * 8


@pytest.mark.slow
def test_the_ablation_rewrites_each_model_card_with_its_suite_figures(tmp_path: Path) -> None:
    from accord.model import build_model, train_tokenizer
    from accord.spec import load_spec
    from accord.train import SFTStageConfig, train_sft

    if not (default_data_dir() / "xstest").is_dir():
        missing_resource(f"public data folder {default_data_dir()} has no xstest/")
    base = tmp_path / "base"
    tokenizer = train_tokenizer(["How can I help you today? I can't help with that."] * 40,
                                320)
    build_model("tiny", tokenizer, seed=0).save_pretrained(base)
    tokenizer.save_pretrained(base)
    sft = train_sft(SFTStageConfig(max_steps=2, batch_size=4, device="cpu", lora=True),
                    base, {"chat": CHAT}, tmp_path / "sft")
    before = (Path(sft.model_dir) / "README.md").read_text(encoding="utf-8")
    assert "Not measured yet" in before

    project_dir = tmp_path / "project"
    project_dir.mkdir()
    shutil.copytree(DEMO_SPEC, project_dir / "spec")
    (project_dir / "accord.toml").write_text(
        '[project]\nname = "cards"\nspec = "spec"\n[ablation]\nworld_meter = false\n'
        'suites = ["xstest"]\nsuite_limit = 4\nsuite_max_new_tokens = 6\n')
    project = load_project(project_dir)
    ctx = StageContext(project, project.section("ablation", AblationSection),
                       tmp_path / "ablation", inputs={}, state={})
    signal = {"graders": [], "models": [], "chain": [], "unknown": [], "datasets": []}
    rows = [("base", "cards-base", str(base)), ("SFT", "cards-sft", sft.model_dir)]
    entries = []
    for label, version, folder in rows:
        suites = run_stage_suites(ctx, local_backend(folder, 4), signal, label,
                                  tmp_path / "ablation" / "suites")
        entries.append({"label": label, "model_version": version, "suites": suites})

    cards = write_ablation_cards(ctx, entries, rows)
    assert cards == [str(base / "README.md"), str(Path(sft.model_dir) / "README.md")]
    spec_version = load_spec(project_dir / "spec").version
    for (label, version, _), card, entry in zip(rows, cards, entries, strict=True):
        text = Path(card).read_text(encoding="utf-8")
        assert f"# {version} ({label})" in text
        assert f"Spec version: `{spec_version}`" in text
        for f in entry["suites"]["xstest"]["figures"]:
            row = (f"| xstest: {f['metric']} | {f['value']:.3f} (95 % interval "
                   f"{f['low']:.3f}–{f['high']:.3f}), n = {f['n']} |")
            assert row in text, row
    sft_card = Path(cards[1]).read_text(encoding="utf-8")
    # The trained model's lineage is kept: its data set's hash and its adapter settings.
    assert sft.datasets["chat"] in sft_card and "## Adapter" in sft_card
    assert json.loads((Path(sft.model_dir).parent / "result.json").read_text())["stage"] == "sft"
