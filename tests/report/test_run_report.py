"""The run report a team lead reads: a summary first, charts with text alternatives, a
models × goals grid, and a section for every stage that ran, rebuilt from done.json files."""

from __future__ import annotations

import base64
import json
import re
from html import escape
from pathlib import Path

import pytest

from accord.pipeline import STAGES, Stage, StageOutput, rerender_report
from accord.project import load_project

pytest.importorskip("matplotlib")

MODELS = ("base", "SFT", "SFT+DPO")


def _rows(scale: float) -> dict:
    rows = {}
    for i, name in enumerate(("offensive", "one_sided_by_default", "objectionable_compliance",
                              "over_refusal", "preachy", "helpfulness", "steerability")):
        rate = round(scale * (0.05 + 0.04 * i), 4)
        rows[name] = {"rate": rate, "low": max(0.0, rate - 0.03), "high": rate + 0.03,
                      "n": 100 + i}
    return rows


def _stage_dir(state: Path, name: str, figures: dict, seconds: float = 3.0) -> Path:
    folder = state / "stages" / f"{name}-0123456789abcdef"
    folder.mkdir(parents=True)
    (folder / "done.json").write_text(json.dumps({
        "stage": name, "key": "0123456789abcdef", "run_id": f"{name}-run",
        "seconds": seconds, "figures": figures}))
    return folder


@pytest.fixture
def finished_run(tmp_path: Path):
    """A project folder holding the done.json files a run leaves (eval, review, sft,
    ablation): the figures are the stages' real file formats, written out here."""
    project = load_project(tmp_path)
    state = project.state_dir
    ev = _stage_dir(state, "eval", {"model_version": "m-base", "completions": 600,
                                    "rates": {"offensive": 0.06},
                                    "measured_by": "measured by the test world"})
    (ev / "meter.json").write_text(json.dumps({"rows": [
        {"metric": "offensive_overall", "rate": 0.08, "low": 0.06, "high": 0.1, "n": 600}],
        "samples": 1, "info": {}}))
    _stage_dir(state, "review", {"alpha": {"offensive": 0.85, "issues:factual_error": 0.1,
                                           "helpful": 0.7},
                                 "reviewers": 12, "submitted": 340, "simulated": True})
    _stage_dir(state, "sft", {"model_version": "m-sft", "train_loss": 0.4,
                              "log_history": [{"step": s, "loss": 1.0 / s} for s in (1, 2, 3)]})
    abl = _stage_dir(state, "ablation", {"measured_by": "measured by the test world"})
    entries = [{"label": label, "held_out": {"rows": _rows(1.0 - 0.4 * i),
                                             "unwanted": 0.3 - 0.1 * i, "safe_f1": 0.9},
                "in_distribution": {"rows": _rows(1.0), "unwanted": 0.3, "safe_f1": 0.9}}
               for i, label in enumerate(MODELS)]
    (abl / "ablation.json").write_text(json.dumps(entries))
    targets = [{"model": m, "split": s, "goal": g, "value": 0.5, "met": met}
               for m in MODELS[1:] for s in ("held_out", "in_distribution")
               for g, met in (("over-refusal ≤ 2 %", m == "SFT+DPO"), ("safe F1 ≥ 0.97", True))]
    (abl / "targets.json").write_text(json.dumps(targets))
    return project


def test_report_opens_with_a_summary_then_charts(finished_run, tmp_path: Path) -> None:
    path = rerender_report(finished_run, STAGES, path=tmp_path / "out" / "report.html")
    html = path.read_text(encoding="utf-8")
    titles = re.findall(r"<h2>(.*?)</h2>", html)
    assert titles[:3] == ["Summary", "Charts", "Stages"]
    summary = html.split("<h2>Summary</h2>", 1)[1].split("<h2>Charts</h2>", 1)[0]
    # Base vs best (SFT+DPO has the lowest pooled unwanted rate), with intervals and n.
    assert "0.300" in summary and "0.100" in summary and "SFT+DPO" in summary
    assert "0.050 [0.02, 0.08]" in summary and ">100<" in summary
    # 2 goals × 2 probe sets × 2 models = 8 checks; SFT meets 2 of 4, SFT+DPO 4 of 4.
    assert "6 of 8" in summary and "SFT: 2 of 4" in summary and "SFT+DPO: 4 of 4" in summary
    # The two measurements of the base model are told apart by probe set and n.
    assert "n = 600" in summary and "capped" in summary
    assert "simulated" in summary and "1 of 3 categories" in summary


def test_charts_are_inline_svg_with_text_alternatives(finished_run, tmp_path: Path) -> None:
    html = rerender_report(finished_run, STAGES, path=tmp_path / "report.html").read_text()
    images = re.findall(r'<img alt="([^"]+)" src="data:image/svg\+xml;base64,([^"]+)"', html)
    # behaviours, the safety trade-off, agreement per category, loss curves.
    assert len(images) == 4
    for alt, data in images:
        assert len(alt) > 40
        svg = base64.b64decode(data).decode("utf-8")
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "http://" not in svg.replace("http://www.w3.org/", "")  # nothing to load
    assert "Krippendorff" in html and "reading bands" in html


def test_goals_are_a_models_by_goals_grid(finished_run, tmp_path: Path) -> None:
    html = rerender_report(finished_run, STAGES, path=tmp_path / "report.html").read_text()
    grid = html.split('<table class="grid">', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<th scope="row">(.*?)</th>', grid) == ["SFT", "SFT+DPO"]
    assert re.findall(r'<th scope="col">(.*?)</th>', grid) == [
        "model", "over-refusal ≤ 2 %", "safe F1 ≥ 0.97"]
    assert grid.count('class="met"') == 6 and grid.count('class="missed"') == 2


def test_every_stage_that_ran_has_a_section(finished_run, tmp_path: Path) -> None:
    html = rerender_report(finished_run, STAGES, path=tmp_path / "report.html").read_text()
    titles = re.findall(r"<h2>(.*?)</h2>", html)
    by_name = {s.name: s for s in STAGES}
    for name in ("sft", "review", "ablation"):
        stage: Stage = by_name[name]
        assert (stage.title or stage.name).replace("&", "&amp;") in titles, name
    # A measuring stage names its meter: this eval's figures are the world meter's rates.
    assert f"{by_name['eval'].title} (world meter)" in titles
    # A stage whose own report cannot be built from what it left still gets its figures.
    sft = html.split(f"<h2>{by_name['sft'].title or 'sft'}</h2>", 1)[1].split("</section>")[0]
    assert "m-sft" in sft or "train_loss" in sft


def test_a_folder_without_finished_stages_is_a_clear_error(tmp_path: Path) -> None:
    from accord.errors import AccordError

    with pytest.raises(AccordError, match="no finished stage"):
        rerender_report(load_project(tmp_path), STAGES, path=tmp_path / "r.html")


def test_stage_output_is_what_the_report_reads() -> None:
    # The report reads StageOutput's fields by name; a rename must fail here, not silently.
    assert {"name", "key", "dir", "run_id", "seconds", "figures", "cached"} <= set(
        StageOutput.__dataclass_fields__)


def _suite_fig(metric: str, value: float, low: float, high: float, n: int) -> dict:
    return {"metric": metric, "value": value, "low": low, "high": high, "n": n,
            "direction": "lower is better", "kind": "rate"}


def test_a_suites_only_run_summarises_the_public_suites(tmp_path: Path) -> None:
    """A project with the world meter off (examples/smollm2) measured every model on the
    public suites: the summary compares them there, and the measuring sections say so,
    instead of 'no fine-tuned model was compared' under a 'world meter' heading."""
    project = load_project(tmp_path)
    state = project.state_dir

    def suites(harm: tuple[float, float, float], offensive: tuple[float, float, float],
               bias: tuple[float, float, float] = (0.4, 0.2, 0.6)) -> dict:
        bias_fig = {**_suite_fig("bias:ambig", *bias, 22), "direction": "closer to 0 is better",
                    "kind": "score"}
        ok = {"verdict": "independent"}
        return {"xstest": {"figures": [_suite_fig("harmful_compliance", *harm, 18)],
                           "independence": ok, "agreement": {"refusal": agreement}},
                "offensive": {"figures": [_suite_fig("offensive", *offensive, 40)],
                              "independence": ok},
                "bbq": {"figures": [bias_fig], "independence": ok}}

    # How the suite's grader does on held-out labels (accord.audit.agreement_line), once.
    agreement = ("grader 'refusal' against held-out labels, people's unless AI-labelled "
                 "(macro-F1 / AUC): xstest 0.96 / 0.99 (n 270); smollm2 answers to harmful "
                 "requests (set 2), two AI labellers 0.68 / "
                 "0.81 (n 135)")
    base = suites((0.22, 0.09, 0.45), (0.0, 0.0, 0.09))
    _stage_dir(state, "eval", {"model_version": "m-base", "suites": base, "rates": {},
                               "measured_by": "public suites (real-text graders)"})
    # Before the ablation (e.g. `accord run --until eval`): the base model's figures alone.
    html = rerender_report(project, STAGES, path=tmp_path / "eval.html").read_text()
    summary = html.split("<h2>Summary</h2>", 1)[1].split("</section>")[0]
    assert "0.22 [0.09, 0.45]" in summary and "the base model only" in summary
    entries = [{"label": "base", "model_version": "m-base", "suites": base},
               {"label": "SFT", "model_version": "m-sft",
                "suites": suites((0.33, 0.16, 0.56), (0.0, 0.0, 0.09), (-0.05, -0.15, 0.1))},
               {"label": "SFT+DPO", "model_version": "m-dpo",
                "suites": suites((0.28, 0.12, 0.51), (0.3, 0.18, 0.45), (0.8, 0.7, 0.9))}]
    abl = _stage_dir(state, "ablation", {"rows": [e["label"] for e in entries],
                                         "suites": {e["label"]: {} for e in entries},
                                         "measured_by": "public suites (real-text graders)"})
    (abl / "ablation.json").write_text(json.dumps(entries))
    html = rerender_report(project, STAGES, path=tmp_path / "report.html").read_text()
    summary = html.split("<h2>Summary</h2>", 1)[1].split("</section>")[0]
    assert "No fine-tuned model was compared" not in summary
    assert "0.22 [0.09, 0.45]" in summary and "0.33 [0.16, 0.56]" in summary
    # Changes outside the base model's interval, read by each figure's direction: a higher
    # offensive rate is worse; a bias score nearer 0 is better, one further from 0 worse.
    assert "SFT+DPO offensive offensive 0.00 → 0.30 (worse)" in summary
    assert "SFT bbq bias: ambig 0.40 → -0.05 (better)" in summary
    assert "SFT+DPO bbq bias: ambig 0.40 → 0.80 (worse)" in summary
    assert "SFT xstest" not in summary
    titles = re.findall(r"<h2>(.*?)</h2>", html)
    by_name = {s.name: s for s in STAGES}
    for name in ("eval", "ablation"):
        assert f"{by_name[name].title} (public suites, real-text graders)" in titles, name
    assert not any("world meter" in t for t in titles)
    # Beside the suites' table, once for all models.
    assert html.count(escape(agreement).replace("&#x27;", "&#39;")) == 1
