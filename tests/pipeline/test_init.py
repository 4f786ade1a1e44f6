"""``accord init``: a ready-to-run project; review defaults to people outside the demo;
presets (``--profile``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.errors import AccordError
from accord.pipeline import STAGES, StageContext, init_project, load_data
from accord.pipeline._review_stage import review_mode
from accord.pipeline._runner import StageOutput
from accord.pipeline._stages import SERVICE_TABLES
from accord.project import ProjectError, load_project
from accord.spec import load_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "smollm2"


def _validates(root: Path, profile: str | None = None) -> None:
    """Every table of the project checks as ``accord run`` checks it before a stage runs."""
    project = load_project(root, profile=profile)
    for stage in STAGES:
        project.section(stage.name, stage.config)
    for table, model in SERVICE_TABLES.items():
        project.section(table, model())
    known = {s.name for s in STAGES} | {"project", "data"} | set(SERVICE_TABLES)
    assert set(project.tables) <= known, set(project.tables) - known


def test_init_writes_a_project_that_validates_with_its_data_and_spec(tmp_path: Path) -> None:
    root = init_project(tmp_path / "my assistant")
    assert (root / "accord.toml").is_file() and (root / "spec" / "bounds.yaml").is_file()
    text = (root / "accord.toml").read_text()
    assert 'base_model = "smollm2"' in text and 'mode = "human"' in text
    assert text.count("#") > 20  # every table commented
    _validates(root)
    _validates(root, "quick")
    project = load_project(root)
    assert project.project.name == "my-assistant"
    data = load_data(project)
    assert set(data.files) == {"sft", "preference", "prompts", "probes"}
    assert all(f.sha256 and f.rows for f in data.files.values())
    load_spec(project.spec_dir)
    assert project.section("review", SERVICE_TABLES.get("review", _review_model)()
                           ).run.mode == "human"


def _review_model() -> type:
    from accord.review import ReviewSettings

    return ReviewSettings


def test_init_refuses_an_existing_project_and_a_missing_base_model(tmp_path: Path) -> None:
    init_project(tmp_path / "p")
    with pytest.raises(AccordError, match=r"already holds accord\.toml, spec, data"):
        init_project(tmp_path / "p")
    with pytest.raises(AccordError, match=r"--base-model .*no such file"):
        init_project(tmp_path / "q", base_model=str(tmp_path / "nope.gguf"))
    assert not (tmp_path / "q").exists()
    model = tmp_path / "model"
    model.mkdir()
    root = init_project(tmp_path / "r", base_model=str(model))
    assert f'base_model = "{model.resolve()}"' in (root / "accord.toml").read_text()


def test_the_init_command_and_its_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["init", str(tmp_path / "proj"), "--name", "helper"])
    assert done.exit_code == 0, done.output
    assert "accord run" in done.output
    again = runner.invoke(app, ["init", str(tmp_path / "proj")])
    assert again.exit_code == 2 and "already holds" in again.output
    assert "Traceback" not in again.output


def _ctx(root: Path, imported: bool) -> StageContext:
    project = load_project(root)
    config = project.section("review", _review_model())
    pre = StageOutput("pretrain", "k", root, "run", 0.0,
                      {"base_model": "/models/x"} if imported else {})
    return StageContext(project, config, root, {"pretrain": pre})


def test_review_defaults_to_people_for_a_real_model_and_simulated_for_the_demo(
        tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "accord.toml").write_text("[review.run]\nrating_prompts = 5\n")
    assert review_mode(_ctx(tmp_path / "a", imported=True)) == "human"
    assert review_mode(_ctx(tmp_path / "a", imported=False)) == "simulated"
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "accord.toml").write_text('[review.run]\nmode = "simulated"\n')
    assert review_mode(_ctx(tmp_path / "b", imported=True)) == "simulated"


def test_profiles_merge_over_tables_and_unknown_ones_are_named(tmp_path: Path) -> None:
    (tmp_path / "accord.toml").write_text(
        "[sft]\nmax_steps = 100\nlearning_rate = 0.001\n"
        "[review.run]\nrating_prompts = 50\nreviewers = 9\n"
        "[profiles.quick.sft]\nmax_steps = 4\n"
        "[profiles.quick.review.run]\nrating_prompts = 6\n")
    plain = load_project(tmp_path)
    assert plain.table("sft") == {"max_steps": 100, "learning_rate": 0.001}
    assert "profiles" not in plain.tables and plain.profiles == ("quick",)
    quick = load_project(tmp_path, profile="quick")
    assert quick.table("sft") == {"max_steps": 4, "learning_rate": 0.001}
    assert quick.table("review") == {"run": {"rating_prompts": 6, "reviewers": 9}}
    with pytest.raises(ProjectError, match="no profile 'fast'; profiles: quick"):
        load_project(tmp_path, profile="fast")


def test_the_smollm2_example_validates_in_every_profile() -> None:
    for profile in (None, "quick", "gpu"):
        _validates(EXAMPLE, profile)
    spec = load_spec(EXAMPLE / "spec")
    assert spec.bounds.system_prompt and "{instructions}" in spec.bounds.system_prompt
    screens = {b.id: [s.grader for s in b.screens] for b in spec.bounds.hard_bounds}
    assert screens["no_objectionable_compliance"] == ["harmful_compliance", "harmful_content"]
