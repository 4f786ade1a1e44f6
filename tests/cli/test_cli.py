"""The `accord` command through Typer's runner: output and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_help_lists_every_command_with_a_purpose() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("spec", "db", "run"):
        assert command in result.output
    sub = invoke("spec", "--help")
    for command in ("check", "show", "diff", "init"):
        assert command in sub.output
    assert "upgrade" in invoke("db", "--help").output


def test_spec_check_show_and_json() -> None:
    result = invoke("spec", "check", DEMO / "spec")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ") and "version" in result.output
    shown = invoke("spec", "show", DEMO / "spec", "--json")
    data = json.loads(shown.output)
    assert len(data["hash"]) == 64 and data["hash"].startswith(data["version"])
    assert {c["id"] for c in data["content"]["guidelines"]["categories"]} >= {"offensive",
                                                                              "helpful"}


def test_spec_check_reports_errors_with_exit_code_2(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(DEMO / "spec", spec)
    bounds = spec / "bounds.yaml"
    bounds.write_text(bounds.read_text().replace("default: balanced", "default: centrist", 1))
    result = invoke("spec", "check", spec)
    assert result.exit_code == 2
    assert "bounds.yaml:" in result.output and "'centrist'" in result.output
    assert "Traceback" not in result.output


def test_spec_init_then_check_then_refuse_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "new"
    assert invoke("spec", "init", target).exit_code == 0
    assert invoke("spec", "check", target).exit_code == 0
    again = invoke("spec", "init", target)
    assert again.exit_code == 2 and "error:" in again.output


def test_spec_diff_between_two_versions(tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(DEMO / "spec", new)
    bounds = new / "bounds.yaml"
    bounds.write_text(bounds.read_text().replace("default: neutral", "default: friendly", 1)
                      .replace("value: neutral", "value: friendly", 1))
    result = invoke("spec", "diff", DEMO / "spec", new)
    assert result.exit_code == 0, result.output
    assert "tone" in result.output and "friendly" in result.output
    as_json = json.loads(invoke("spec", "diff", DEMO / "spec", new, "--json").output)
    assert "friendly" in json.dumps(as_json)
    same = invoke("spec", "diff", DEMO / "spec", DEMO / "spec")
    assert same.exit_code == 0 and "friendly" not in same.output


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = invoke("spec", "check", tmp_path / "nope")
    assert result.exit_code == 2
    assert "nope" in result.output


def test_db_upgrade_current_downgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    up = invoke("db", "upgrade", "--url", url)
    assert up.exit_code == 0, up.output
    current = invoke("db", "current", "--url", url)
    head = current.output.split("head: ")[1].strip()
    assert f"current: {head}" in current.output
    down = invoke("db", "downgrade", "base", "--url", url)
    assert down.exit_code == 0, down.output
    assert "(empty database)" in invoke("db", "current", "--url", url).output


def test_db_upgrade_uses_the_project_sqlite_file(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    assert invoke("db", "upgrade", "-p", tmp_path).exit_code == 0
    assert (tmp_path / ".accord" / "accord.sqlite3").exists()


def test_run_demo_twice_second_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    project = tmp_path / "demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".accord"))
    # Only the stages that do not train a model: the spec stage.
    first = invoke("run", project, "--until", "spec")
    assert first.exit_code == 0, first.output
    assert "[spec] done" in first.output and "report:" in first.output
    second = invoke("run", project, "--until", "spec")
    assert "[spec] cached" in second.output
    assert (project / ".accord" / "run" / "report.html").exists()


def test_run_rejects_unknown_stage(tmp_path: Path) -> None:
    project = tmp_path / "demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".accord"))
    result = invoke("run", project, "--force", "nope")
    assert result.exit_code == 2
    assert "unknown stage 'nope'" in result.output


def test_run_with_missing_base_model_is_a_clear_error(tmp_path: Path) -> None:
    project = tmp_path / "demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".accord"))
    result = invoke("run", project, "--base-model", tmp_path / "nope")
    assert result.exit_code == 2
    assert "--base-model" in result.output and "no such file or folder" in result.output


def test_eval_unknown_model_names_what_is_stored(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    project = tmp_path / "demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".accord"))
    result = invoke("eval", "no-such-model", "-p", project)
    assert result.exit_code == 2
    assert "'no-such-model' is neither a saved model folder nor a model version" in result.output


def test_run_accepts_and_checks_the_review_table(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    project = tmp_path / "demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".accord"))
    toml = project / "accord.toml"
    base = toml.read_text()
    toml.write_text(base + "\n[review]\nsecure_cookies = true\n")
    assert invoke("run", project, "--until", "spec").exit_code == 0
    toml.write_text(base + "\n[review]\nsecure_cookie = true\n")
    bad = invoke("run", project, "--until", "spec")
    assert bad.exit_code == 2
    assert "[review] secure_cookie: unknown key" in bad.output


def test_every_listed_command_loads_with_a_purpose() -> None:
    from accord.cli import COMMANDS, command

    names = [name for name, _, _ in COMMANDS]
    assert len(names) == len(set(names))
    listing = invoke("--help").output
    for name, short_help, _ in COMMANDS:
        assert name in listing and short_help.split(":")[0] in " ".join(listing.split())
        loaded = command(name)
        assert loaded.name == name and (loaded.help or "").strip(), name


@pytest.mark.parametrize("args", [(), ("run",), ("spec", "check"), ("users", "create"),
                                  ("train", "grpo")])
def test_help_shows_no_type_noise_on_flags(args) -> None:
    result = invoke(*args, "--help")
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output and "--help" in result.output


def test_help_does_not_load_the_training_stack() -> None:
    import subprocess
    import sys

    probe = ("import sys\nfrom typer.testing import CliRunner\nfrom accord.cli import app\n"
             "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
             "assert CliRunner().invoke(app, ['spec', '--help']).exit_code == 0\n"
             "print(sorted(m for m in ('torch', 'transformers', 'accord.pipeline') "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_train_group_checks_settings_before_training(tmp_path: Path) -> None:
    import subprocess
    import sys

    args = ["sft", "--model", str(tmp_path), "--data", str(tmp_path / "d.jsonl"), "--out",
            str(tmp_path / "out"), "--set", "bogus=1"]
    result = invoke("train", *args)
    assert result.exit_code == 2 and "--set 'bogus=1'" in result.output
    # python -m accord.train is the same group (accelerate launch runs it).
    module = subprocess.run([sys.executable, "-m", "accord.train", *args],
                            capture_output=True, text=True)
    assert module.returncode == 2 and "error: --set 'bogus=1'" in module.stderr
    usage = subprocess.run([sys.executable, "-m", "accord.train", "sft"], capture_output=True,
                           text=True)
    assert usage.returncode == 2 and "Missing option '--model'" in usage.stderr
