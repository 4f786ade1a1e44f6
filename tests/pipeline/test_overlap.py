"""Training prompts never come from the public suites: the check on the real data sets."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest
from tests._resources import missing_resource

from accord.audit import default_data_dir, hh_first_prompt, hh_suite_split
from accord.errors import AccordError
from accord.pipeline import StageContext, prompt_overlap
from accord.pipeline._overlap import check_data_overlap
from accord.project import load_project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "smollm2"


@pytest.fixture(scope="module")
def data_dir() -> Path:
    folder = default_data_dir()
    if not (folder / "xstest").is_dir() or not (folder / "hh-rlhf").is_dir():
        missing_resource(f"public data folder {folder} (xstest/, hh-rlhf/, ...) not found")
    return folder


def _hh_rows(data_dir: Path) -> list[dict]:
    with gzip.open(data_dir / "hh-rlhf/harmless-base-test-part1.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_hh_training_prompts_do_not_overlap_and_suite_prompts_are_caught(data_dir: Path,
                                                                         ) -> None:
    suite_rows, training_rows = hh_suite_split(_hh_rows(data_dir))
    training = [hh_first_prompt(r["chosen"]) for r in training_rows[:300]]
    suites = ["xstest", "evenhandedness", "bbq", "offensive"]
    clean = prompt_overlap(training, suites, data_dir)
    assert clean == {s: [] for s in suites}
    with (data_dir / "xstest/xstest_prompts.csv").open(newline="") as f:
        xs = next(csv.DictReader(f))["prompt"]
    offensive = hh_first_prompt(suite_rows[0]["chosen"])
    # Case and spacing do not hide a suite prompt; a message list is read by its user turns.
    mixed = [*training[:20], "  " + xs.upper() + " ",
             [{"role": "system", "content": "Be kind."}, {"role": "user", "content": offensive}]]
    found = prompt_overlap(mixed, suites, data_dir)
    assert found["xstest"] == [" ".join(xs.lower().split())]
    assert found["offensive"] == [" ".join(offensive.lower().split())]
    assert found["bbq"] == [] and found["evenhandedness"] == []


def test_a_bbq_context_inside_a_training_prompt_is_caught(data_dir: Path) -> None:
    with (data_dir / "bbq/Age.jsonl").open() as f:
        row = json.loads(f.readline())
    found = prompt_overlap([f"Read this: {row['context']} Who is to blame?"], ["bbq"],
                           data_dir)
    assert len(found["bbq"]) == 1


def test_the_example_projects_data_has_no_suite_prompt(data_dir: Path) -> None:
    if not (EXAMPLE / "accord.toml").is_file():
        pytest.fail(f"{EXAMPLE} has no accord.toml")
    project = load_project(EXAMPLE)
    ctx = StageContext(project, None, EXAMPLE, inputs={}, state={})
    result = check_data_overlap(ctx, ["xstest", "evenhandedness", "bbq", "offensive"])
    assert result["training_prompts"] > 100
    assert result["overlap"] == {"xstest": 0, "evenhandedness": 0, "bbq": 0, "offensive": 0}


def test_a_project_training_on_suite_prompts_is_refused(data_dir: Path,
                                                        tmp_path: Path) -> None:
    with (data_dir / "xstest/xstest_prompts.csv").open(newline="") as f:
        xs = [r["prompt"] for r in csv.DictReader(f)][:3]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"prompt": p}) + "\n" for p in xs))
    (tmp_path / "accord.toml").write_text('[data]\nprompts = "p.jsonl"\n')
    ctx = StageContext(load_project(tmp_path), None, tmp_path, inputs={}, state={})
    with pytest.raises(AccordError, match="xstest: 3 prompt"):
        check_data_overlap(ctx, ["xstest", "bbq"])
