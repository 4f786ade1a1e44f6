"""`accord run` end to end on a tiny configuration: every stage, caching, the report."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accord.audit import SelfGradingError, conversation_key
from accord.pipeline import evaluate_model, run_project
from accord.store import Completion, ModelVersion, model_path, open_store, training_signal

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"

TINY = """
[project]
name = "tiny"
[world]
n_dialogues = 600
n_review = 20
n_sft = 40
n_rl = 20
n_preference_pairs = 60
[tokenizer]
vocab_size = 512
[pretrain]
size = "tiny"
steps = 12
checkpoint_every = 6
warmup_steps = 2
[eval]
max_new_tokens = 8
max_per_set = 2
in_distribution = 2
agreement_sample = 200
[review.run]
rating_prompts = 6
comparison_prompts = 4
completions_per_prompt = 2
overlap = 2
comparison_overlap = 2
reviewers = 4
max_new_tokens = 8
[sft]
max_steps = 2
batch_size = 4
demonstrations = 20
[reward]
max_steps = 2
batch_size = 4
[rules]
pairs = 40
[dpo]
max_steps = 2
batch_size = 4
[grpo]
max_steps = 1
batch_size = 4
num_generations = 2
max_completion_length = 6
prompts = 8
[cai]
prompts = 4
feedback_prompts = 4
agreement_pairs = 4
sft_steps = 1
dpo_steps = 1
max_new_tokens = 6
min_confidence = 0.5
vet = false
[ablation]
max_new_tokens = 4
max_per_set = 1
in_distribution = 1
agreement_sample = 10
"""

TINY_ALLOWED = TINY + "allow_self_grading = true\n"  # [ablation] is the last table

STAGES = ["spec", "world", "tokenizer", "pretrain", "eval", "review", "sft", "reward", "rules",
          "dpo", "grpo", "cai", "ablation"]


class Outline(HTMLParser):
    """Collects section titles, table header cells and embedded images of a report."""

    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self.th: list[str] = []
        self.images: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"h2", "th"}:
            self._in = tag
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        if tag in {"script", "link"}:
            src = dict(attrs).get("src") or dict(attrs).get("href") or ""
            assert not src.startswith("http"), f"report loads {src} from the network"

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "h2":
            self.h2.append(data.strip())
        elif self._in == "th":
            self.th.append(data.strip())


@pytest.mark.slow
def test_main_job_runs_caches_and_reports(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    project = tmp_path / "tiny"
    project.mkdir()
    shutil.copytree(DEMO_SPEC, project / "spec")
    (project / "accord.toml").write_text(TINY)
    lines: list[str] = []

    # The demo spec's rule-based reward reads hatesonar and alt-profanity-check, and so
    # does the world meter's offensive grader: the ablation refuses to grade the RM+RBR
    # model with them unless told to (issue 12), after every other stage has run.
    with pytest.raises(SelfGradingError, match=r"SFT\+GRPO \(RM\+RBR\).*hatesonar"):
        run_project(project, log=lines.append)
    print("\n".join(line for line in lines if "] done in" in line))
    assert [line.split("]")[0][1:] for line in lines if "] done in" in line] == STAGES[:-1]
    (project / "accord.toml").write_text(TINY_ALLOWED)
    first = run_project(project, log=lines.append)
    assert first.ran == ["ablation"] and set(first.outputs) == set(STAGES)
    pretrain = first.outputs["pretrain"].figures
    assert pretrain["steps"] == 12 and pretrain["parameters"] > 0
    rates = first.outputs["eval"].figures["rates"]
    assert {"offensive", "one_sided_by_default", "objectionable_compliance", "over_refusal",
            "helpfulness", "steerability"} <= set(rates)

    report = project / ".accord" / "run" / "report.html"
    outline = Outline()
    outline.feed(report.read_text(encoding="utf-8"))
    assert outline.h2[0] == "Summary"  # a team lead's minute comes first (issue 17)
    stages_at = outline.h2.index("Stages")
    assert outline.h2[stages_at:stages_at + 7] == ["Stages", "Behaviour spec", "Demo world",
                                                 "Tokenizer", "Pretraining",
                                                 "Behaviour of the base model (world meter)",
                                                 "Human review"]
    # The review stage: simulated reviewers through HTTP, agreement, clarity, demographics.
    review = first.outputs["review"].figures
    assert review["simulated"] is True and review["reviewers"] == 4
    assert review["submitted"] >= 6 * 2 + 4 * 2  # every item by `overlap` reviewers
    assert set(review["alpha"]) >= {"offensive", "helpful"}
    assert any(h.startswith("Guideline clarity") for h in outline.h2)
    assert "Who reviews" in outline.h2
    # Exports are whatever the (random-ish) reviews support; each written one loads back
    # with its recorded hash.
    from accord.review import load_export

    for kind, export in review["exports"].items():
        if export["rows"]:
            rows, manifest = load_export(export["dir"])
            assert manifest.kind == kind and manifest.hash == export["hash"]
            assert len(rows) == export["rows"]
            assert manifest.meta["batch_ids"] == [review["batches"]["rating"],
                                                  review["batches"]["comparison"]]
    assert "95% CI (Wilson)" in outline.th or any("CI" in t for t in outline.th)
    # The world / in-distribution / held-out table sits beside the held-out meter.
    assert {"world (labels)", "in-distribution", "held-out"} <= set(outline.th)
    assert set(first.outputs["eval"].figures["in_distribution_rates"]) >= {"offensive",
                                                                            "helpfulness"}
    assert any(src.startswith("data:image/png;base64,") for src in outline.images), \
        "the loss curve is embedded"

    # The model version, its lineage and the probe completions are in the store.
    with open_store(project) as store, store.session() as session:
        # (the review stage's gold items are stored under a "spec-examples" version)
        model = session.scalars(select(ModelVersion).where(ModelVersion.stage == "pretrain")
                                ).one()
        assert model.stage == "pretrain" and model.spec_version_id is not None
        assert model.datasets["world"] == first.outputs["world"].figures["hash"]
        assert "meter" in model.metrics
        n = session.scalar(select(func.count()).select_from(Completion)
                           .where(Completion.model_version_id == model.id))
        # the meter's probes (eval, then the ablation's base row) and the review samples
        assert n > (first.outputs["eval"].figures["completions"]
                    + first.outputs["review"].figures["sampled_completions"]) > 0

    second = run_project(project, log=lines.append)
    assert second.ran == [] and len(second.skipped) == len(STAGES)

    # A knob of the last stage re-runs only that stage.
    (project / "accord.toml").write_text(TINY_ALLOWED.replace("max_per_set = 2",
                                                              "max_per_set = 1"))
    third = run_project(project, log=lines.append)
    assert third.ran == ["eval"]  # review reads the model, not the meter

    # Fine-tuning: every model version registered with its parent; the ablation measured
    # each one on both probe splits.
    with open_store(project) as store, store.session() as session:
        versions = {m.name: m for m in session.scalars(select(ModelVersion))}
        by_id = {m.id: m for m in versions.values()}
        stages = sorted(m.stage for m in versions.values())
        assert stages.count("grpo") == 2 and {"sft", "reward", "dpo"} <= set(stages)
        sft_name = first.outputs["sft"].figures["model_version"]
        assert by_id[versions[sft_name].parent_id].stage == "pretrain"
        dpo = versions[first.outputs["dpo"].figures["model_version"]]
        assert by_id[dpo.parent_id].name == sft_name
        assert "meter" in versions[sft_name].metrics
    assert first.outputs["ablation"].figures["rows"] == [
        "base", "SFT", "SFT+DPO", "SFT+GRPO (RM only)", "SFT+GRPO (RM+RBR)", "SFT+SL-CAI",
        "SFT+SL-CAI+RL-CAI"]
    # Every training stage lists its models the same way; the ablation reads only that.
    trained = {label: m for stage in ("pretrain", "sft", "reward", "dpo", "grpo", "cai")
               for label, m in first.outputs[stage].models.items()}
    assert set(trained) == {*first.outputs["ablation"].figures["rows"], "reward model"}
    for model in trained.values():
        assert model["model_version"] in versions and Path(model["model_dir"]).is_dir()
    cai = first.outputs["cai"].figures
    assert cai["revisions"] == 4 and "unwanted" in cai["revision_quality"]
    assert cai["agreement"]["world_truth"]["n"] > 0
    assert "Ablation: what each fine-tuning step changes (world meter)" in outline.h2
    assert {"safe F1", "unwanted (pooled)", "independence"} <= set(outline.th)
    _check_independence_records(project, first)

    # `accord eval MODEL` measures a stored model version outside the pipeline.
    name = first.outputs["pretrain"].figures["model_version"]
    result = evaluate_model(project, name, seed=1, log=lines.append)
    assert {r.metric for r in result.rows} >= {"offensive", "helpfulness", "steerability"}
    assert all(r.n > 0 and 0.0 <= r.low <= r.rate <= r.high <= 1.0 for r in result.rows)


def _check_independence_records(project: Path, run: object) -> None:
    """Lineage, verdicts, excluded prompts and the world-meter marks of a finished run."""
    out = run.outputs  # type: ignore[attr-defined]
    verdicts = out["ablation"].figures["independence"]
    assert verdicts["SFT+GRPO (RM+RBR)"] == "self-graded"
    assert {v for k, v in verdicts.items() if k != "SFT+GRPO (RM+RBR)"} == {"independent"}
    assert out["eval"].figures["independence"] == "independent"
    with open_store(project) as store, store.session() as session:
        rbr = training_signal(session, out["grpo"].models["SFT+GRPO (RM+RBR)"]["model_version"])
        roles = {(g["role"], g["name"]) for g in rbr["graders"]}
        assert ("rule-based reward", "hate_model") in roles
        # Through the reward model it optimised and its SFT parent: the reviewers' lexicons,
        # when their exports had rows (a tiny run's random reviews may approve nothing).
        assert out["reward"].figures["model_version"] in rbr["chain"]
        exports = out["review"].figures["exports"]
        used_reviews = exports["sft"]["rows"] or exports["preference"]["rows"]
        assert any(role == "simulated reviewers" for role, _ in roles) == bool(used_reviews)
        assert rbr["unknown"] == []
    # Every prompt a training or review stage used is recorded and kept out of the
    # in-distribution probes.
    inside = out["ablation"].figures["in_distribution"]
    assert inside["excluded"] > 0 and inside["candidates"] > inside["excluded"]
    from accord.world import World

    world = World.load(out["world"].dir / "world")
    grpo_used = set(json.loads((out["grpo"].dir / "prompts_used.json").read_text()))
    assert len(grpo_used) == out["grpo"].figures["prompts_used"] > 0
    assert {conversation_key(p["messages"]) for p in world.prompts["rl"][:8]} == grpo_used
    for stage in ("review", "sft", "reward", "dpo", "cai"):
        assert (out[stage].dir / "prompts_used.json").is_file(), stage
    report = (project / ".accord" / "run" / "report.html").read_text(encoding="utf-8")
    assert report.count("measured by the demo world&#39;s own inventories") >= 3 or \
        report.count("measured by the demo world's own inventories") >= 3
    assert "SELF-GRADED" in report and "hatesonar" in report
    # `accord eval` on a stored version says it too, in JSON and as a warning.
    from accord.pipeline._evaluate import evaluate_suites

    rbr_version = out["grpo"].models["SFT+GRPO (RM+RBR)"]["model_version"]
    run = evaluate_suites(rbr_version, project_dir=project, suites="world", limit=2,
                          max_new_tokens=4, log=lambda _: None)
    (world_suite,) = run.results
    assert world_suite.info["independence"]["verdict"] == "self-graded"
    assert any(w.startswith("SELF-GRADED") for w in world_suite.warnings)
    assert "SELF-GRADED" in world_suite.render_text()


@pytest.mark.slow
def test_base_model_skips_pretraining(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.model import build_model, train_tokenizer

    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    # Any local Hugging Face causal LM with a chat template will do; build a tiny one.
    base = tmp_path / "base"
    tokenizer = train_tokenizer(["hello there, how are you?", "fine thanks"] * 50, 320)
    model = build_model("tiny", tokenizer)
    model.save_pretrained(base)
    tokenizer.save_pretrained(base)

    project = tmp_path / "p"
    project.mkdir()
    shutil.copytree(DEMO_SPEC, project / "spec")
    (project / "accord.toml").write_text(TINY)
    result = run_project(project, until="pretrain", base_model=base, log=lambda _: None)
    figures = result.outputs["pretrain"].figures
    assert figures["base_model"] == str(base.resolve())
    assert "steps" not in figures, "no pretraining happened"
    # The imported model brings its tokenizer: none is trained.
    assert result.outputs["tokenizer"].skipped == "the imported base model brings its tokenizer"
    imported = Path(figures["model_dir"])
    assert (imported / "config.json").is_file()
    with open_store(project) as store, store.session() as session:
        row = session.scalars(select(ModelVersion)).one()
        # Kept relative to the project folder (a copied project serves its own models).
        assert not Path(row.artifact_path).is_absolute()
        assert model_path(session, row) == imported.resolve()
        # Trained elsewhere: its training signal is unknown, and a measurement says so.
        signal = training_signal(session, figures["model_version"])
        assert signal["unknown"] == [figures["model_version"]]
    from accord.audit import check_independence, meter_graders

    assert check_independence(meter_graders(), signal).verdict == "unknown"

    # Its answers are real text: the simulated reviewers read them with the real-text
    # graders too, and say so for the lineage of what their reviews train.
    from accord.errors import AccordError
    from accord.graders import get_grader
    from accord.review import REAL_TEXT_GRADERS

    try:
        for name in REAL_TEXT_GRADERS:
            get_grader(name)
    except AccordError as exc:
        from _resources import missing_resource

        missing_resource(f"real-text grader heads not built: {exc}")
    # Outside the demo review defaults to people; simulated reviewers are asked for.
    (project / "accord.toml").write_text(TINY.replace("[review.run]\n",
                                                      '[review.run]\nmode = "simulated"\n'))
    reviewed = run_project(project, until="review", base_model=base, log=lambda _: None)
    review = reviewed.outputs["review"].figures
    assert review["simulated"] is True and review["real_text"] is True
    assert set(REAL_TEXT_GRADERS) <= set(review["graders"])
