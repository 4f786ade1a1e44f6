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


def _project_with_canned_batch(root: Path, runner: CliRunner) -> list[str]:
    """A project with the demo spec recorded, canned completions and review batch 1."""
    import shutil

    from accord.project import database_url_of, load_project
    from accord.spec import load_spec
    from accord.store import open_store, record_spec_version

    (root / "accord.toml").write_text('[project]\nname = "t"\n')
    shutil.copytree(DEMO / "spec", root / "spec")
    spec = load_spec(root / "spec")
    with open_store(url=database_url_of(load_project(root))) as store, store.session() as s:
        record_spec_version(s, hash=spec.hash, content=spec.content(), name="t")
    p = ["-p", str(root)]
    for args in (["review", "canned", "-n", "4", "-k", "2"],
                 ["review", "batch", "create", "--model", "canned", "-n", "3", "-r", "2"]):
        result = runner.invoke(app, [*args, *p])
        assert result.exit_code == 0, result.output
    return p


def test_canned_and_simulate_refuse_non_positive_counts(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    runner = CliRunner()
    p = _project_with_canned_batch(tmp_path, runner)
    for args, option in ((["review", "canned", "-n", "-3"], "'-n'"),
                         (["review", "canned", "-n", "0"], "'-n'"),
                         (["review", "canned", "-k", "0"], "'-k'"),
                         (["review", "simulate", "--batch", "1", "-n", "0"], "'-n'"),
                         (["review", "simulate", "--batch", "1", "-n", "-1"], "'-n'")):
        result = runner.invoke(app, [*args, *p])
        assert result.exit_code == 2, (args, result.output)
        assert f"Invalid value for {option}" in result.output and "stored" not in result.output


def test_simulate_without_a_server_is_a_clear_error_that_blocks_no_retry(tmp_path: Path,
                                                                        monkeypatch):
    from accord.accounts import create_user, list_users
    from accord.project import database_url_of, load_project
    from accord.serve import live_server
    from accord.serve._live import free_port
    from accord.serve._main import app_from_project
    from accord.store import open_store

    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    runner = CliRunner()
    p = _project_with_canned_batch(tmp_path, runner)
    simulate = ["review", "simulate", "--batch", "1", "-n", "2", *p]

    down = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(app, [*simulate, "--url", down])
    assert result.exit_code == 2, result.output
    assert f"no review server answers at {down}" in result.output
    assert "accord serve" in result.output and "Traceback" not in result.output
    bad = runner.invoke(app, [*simulate, "--url", "notaurl"])
    assert bad.exit_code == 2 and "--url 'notaurl' is not a usable http(s) URL" in bad.output
    url = database_url_of(load_project(tmp_path))
    with open_store(url=url) as store, store.session() as s:
        assert list_users(s) == []  # nothing was made for a server that is not there

    with live_server(app_from_project(tmp_path)) as base:
        first = runner.invoke(app, [*simulate, "--url", base])
        assert first.exit_code == 0, first.output
        assert "2 simulated reviewers submitted 6 reviews to batch 1" in first.output
        # The same panel again (a retry, or the next batch) reuses its own accounts.
        again = runner.invoke(app, [*simulate, "--url", base])
        assert again.exit_code == 0, again.output
        assert "submitted 0 reviews" in again.output
        unknown = runner.invoke(app, ["review", "simulate", "--batch", "99", "-n", "2", *p,
                                      "--url", base])
        assert unknown.exit_code == 2 and "no review batch 99" in unknown.output
        # A name taken by a person's account is not taken over.
        with open_store(url=url) as store, store.session() as s:
            create_user(s, "sim-7-001", "correct horse battery", ["reviewer"])
        taken = runner.invoke(app, [*simulate, "--seed", "7", "--url", base])
        assert taken.exit_code == 2 and "'sim-7-001' is taken" in taken.output
    with open_store(url=url) as store, store.session() as s:
        names = sorted((u.username, u.is_simulated) for u, _ in list_users(s))
    assert names == [("sim-0-000", True), ("sim-0-001", True), ("sim-7-001", False)]


def test_serve_refuses_a_bad_port_or_host_before_touching_the_store(tmp_path: Path,
                                                                   monkeypatch):
    import socket

    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    (tmp_path / "accord.toml").write_text('[project]\nname = "t"\n')
    runner = CliRunner()
    p = ["-p", str(tmp_path)]
    for port in ("99999", "0", "-1"):
        result = runner.invoke(app, ["serve", *p, "--port", port])
        assert result.exit_code == 2 and "Invalid value for '--port'" in result.output, port
    bad_host = runner.invoke(app, ["serve", *p, "--host", "999.1.1.1"])
    assert bad_host.exit_code == 2, bad_host.output
    assert "cannot serve on 999.1.1.1:8000: the host does not resolve" in bad_host.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        in_use = runner.invoke(app, ["serve", *p, "--port", str(port)])
    assert in_use.exit_code == 2, in_use.output
    assert f"cannot serve on 127.0.0.1:{port}: the port is in use" in in_use.output
    assert "Serving on" not in in_use.output and "admin" not in in_use.output
