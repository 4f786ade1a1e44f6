"""``accord users`` and ``accord review batch`` through Typer's runner; web code and torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def test_users_and_batches_from_the_command_line(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    (tmp_path / "accord.toml").write_text('[project]\nname = "t"\n')
    import shutil

    shutil.copytree(DEMO / "spec", tmp_path / "spec")
    runner = CliRunner()
    p = ["-p", str(tmp_path)]

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, *p])
        assert result.exit_code == 0, result.output
        return result.output

    created = run("users", "create", "alice", "--admin")
    assert "one-time password:" in created
    assert "alice\tadmin" in run("users", "list")
    assert "new one-time password for alice" in run("users", "reset-password", "alice")
    bad = runner.invoke(app, ["users", "create", "Bad Name", *p])
    assert bad.exit_code == 2 and "is not allowed" in bad.output
    no_spec = runner.invoke(app, ["review", "batch", "create", "--model", "canned", *p])
    assert no_spec.exit_code == 2 and "no spec version is recorded" in no_spec.output
    from accord.project import database_url_of, load_project
    from accord.review import store_canned_completions
    from accord.spec import load_spec
    from accord.store import open_store, record_spec_version

    spec = load_spec(tmp_path / "spec")
    with open_store(url=database_url_of(load_project(tmp_path))) as store, store.session() as s:
        row = record_spec_version(s, hash=spec.hash, content=spec.content(), name="t")
        store_canned_completions(s, row, prompts=4, completions_per_prompt=2)
    out = run("review", "batch", "create", "--model", "canned", "-n", "3", "-k", "2",
              "--kind", "comparison", "-r", "2")
    assert "batch 1: comparison, 3 prompts x 2, overlap 2" in out
    too_many = runner.invoke(app, ["review", "batch", "create", "--model", "canned", "-n",
                                   "9", *p])
    assert too_many.exit_code == 2 and "has 4 prompts" in too_many.output
    bogus = runner.invoke(app, ["review", "export", "--batch", "1", "--out", str(tmp_path / "x"),
                                "--kind", "dpo", *p])
    assert bogus.exit_code == 2 and "allowed: sft, preference" in bogus.output
    assert "0 self-reports" in run("review", "transparency", "--out", str(tmp_path / "t"))
    assert (tmp_path / "t" / "demographics.html").is_file()


def test_the_web_app_never_imports_torch():
    code = ("import sys, tempfile; from accord.store import Store; "
            "from accord.serve import create_app; "
            "create_app(Store.open(f'sqlite:///{tempfile.mkdtemp()}/a.sqlite3')); "
            "print(sorted(m for m in ('torch', 'transformers', 'trl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
