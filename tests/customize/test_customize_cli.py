"""``accord customize`` (keys, profiles, the attack suite) and ``accord serve --model``'s
model resolution, through Typer's runner on a project folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.errors import AccordError

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    (tmp_path / "accord.toml").write_text(
        '[project]\nname = "t"\n\n[customize.deployment]\nname = "family"\n'
        'fixed = { profanity = "none" }\nreasons = { profanity = "a family server" }\n')
    shutil.copytree(DEMO / "spec", tmp_path / "spec")
    return tmp_path


def test_keys_and_profiles_from_the_command_line(project: Path):
    runner = CliRunner()
    p = ["-p", str(project)]

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, *p])
        assert result.exit_code == code, result.output
        return result.output

    run("users", "create", "alice")
    saved = run("customize", "profiles", "set", "alice", "tone=formal", "persona=tutor",
                "--name", "work", "--lock", "tone")
    assert "saved profile 'work' for alice: tone=formal, persona=tutor" in saved
    refused = run("customize", "profiles", "set", "alice", "profanity=mild", code=2)
    assert ("profanity='mild' is not allowed by deployment 'family' (fixed: a family server); "
            "allowed values: none") in refused
    refused = run("customize", "profiles", "set", "alice", "persona=unfiltered", code=2)
    assert "forbidden by hard bound 'no_objectionable_compliance'" in refused
    shown = run("customize", "profiles", "show", "alice")
    assert "tone = formal  [user]" in shown and "system prompt: Settings: tone=formal; " \
        "persona=tutor" in shown
    assert "profanity = none  [deployment]  (fixed by the deployment: a family server)" in shown
    as_json = json.loads(run("customize", "profiles", "show", "alice", "--json"))
    assert as_json["settings"]["persona"] == "tutor"
    assert "work (default): tone=formal, persona=tutor" in run("customize", "profiles", "list",
                                                             "alice")
    made = run("customize", "keys", "create", "alice", "--name", "bot", "--profile", "work")
    key = re.search(r"acc-[\w-]+", made).group(0)
    listed = run("customize", "keys", "list")
    assert "alice\tbot" in listed and "active" in listed and key not in listed
    key_id = listed.split("\t")[0]
    assert f"revoked API key {key_id}" in run("customize", "keys", "revoke", key_id)
    assert "revoked" in run("customize", "keys", "list", "--user", "alice")
    missing = run("customize", "keys", "revoke", "999", code=2)
    assert "no API key with id 999" in missing


def test_serve_resolves_models_by_version_name_or_folder(project: Path, tiny_model: Path):
    from accord.project import database_url_of, load_project
    from accord.serve import resolve_models
    from accord.store import open_store, register_model_version

    with open_store(url=database_url_of(load_project(project))) as store:
        with store.session() as s:
            register_model_version(s, name="tiny-v1", stage="pretrain",
                                   artifact_path=str(tiny_model.resolve()))
        assert resolve_models(store, ["tiny-v1"]) == [("tiny-v1", tiny_model.resolve())]
        assert resolve_models(store, [str(tiny_model)]) == [("tiny-v1", tiny_model)]
        assert resolve_models(store, [f"other={tiny_model}"]) == [("other", tiny_model)]
        with pytest.raises(AccordError, match=r"not a registered model version nor a saved "
                                              r"model folder.*registered versions: tiny-v1"):
            resolve_models(store, ["gpt-9"])
        with pytest.raises(AccordError, match="is served twice"):
            resolve_models(store, ["tiny-v1", str(tiny_model)])


def test_the_attack_suite_from_the_command_line(tiny_model: Path, tmp_path: Path):
    out = tmp_path / "attack.json"
    result = CliRunner().invoke(app, ["customize", "attack", str(tiny_model), "--spec",
                                      str(DEMO / "spec"), "--world-model", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "screens (world):" in result.output
    assert "judge (no screen uses it): offensive (offensive), harmful_compliance" in result.output
    assert "hard-bound violations shown to the user (independent judge): " in result.output
    assert json.loads(out.read_text())["figures"]["attempts"] >= 100
    for args, message in ((["--suite", "nope"], "unknown attack suite 'nope'"),
                          (["--screens", "bogus"], "--screens 'bogus': allowed"),
                          (["--judge", "no_such_grader"], "no grader named 'no_such_grader'")):
        bad = CliRunner().invoke(app, ["customize", "attack", str(tiny_model), *args])
        assert bad.exit_code == 2 and message in bad.output, bad.output
