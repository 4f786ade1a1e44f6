"""``accord audit import-inspect``: a real Inspect eval of ``accord/xstest`` against a tiny
model served by ``accord serve``, its log turned into an audit bundle that signs, verifies
and re-grades like any other."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _resources import missing_resource
from _served import served_model
from accord.audit import create_keys, default_data_dir, sign_bundle, verify_bundle
from accord.cli import app
from accord.errors import AccordError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "customize"))
from tiny_world_model import build_tiny_world_model

inspect_ai = pytest.importorskip("inspect_ai")
DATA = default_data_dir()


@pytest.fixture(scope="module")
def inspect_log(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from accord.graders import get_grader

    if not (DATA / "xstest" / "xstest_prompts.csv").is_file():
        missing_resource(f"public data sets not found in {DATA} (set ACCORD_DATA_DIR)")
    try:
        get_grader("refusal")
    except AccordError as exc:
        missing_resource(f"real-text grader heads not built: {exc}")
    cache = getattr(request.config, "cache", None)
    folder = (cache.mkdir("accord-tiny-world-model") if cache is not None
              else tmp_path_factory.mktemp("tiny-world-model"))
    model_dir = build_tiny_world_model(Path(folder))
    work = tmp_path_factory.mktemp("inspect-audit")
    mp = pytest.MonkeyPatch()
    with served_model(model_dir, work, key_env="ACCORD_API_KEY") as url:
        mp.setenv("ACCORD_BASE_URL", url)
        try:
            logs = inspect_ai.eval("accord/xstest", model="openai-api/accord/tiny", limit=3,
                                   task_args={"max_tokens": 16}, log_dir=str(work / "logs"),
                                   display="none", max_connections=2,
                                   # One Inspect client per model name in a process: name
                                   # the server, and give up instead of retrying for ever.
                                   model_base_url=url, max_retries=2, timeout=120)
            assert logs[0].status == "success", logs[0].error
            yield Path(logs[0].location)
        finally:
            mp.undo()


def test_an_inspect_log_becomes_a_bundle_that_verifies(inspect_log: Path,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "inspect-bundle"
    result = CliRunner().invoke(app, ["audit", "import-inspect", str(inspect_log), "--out",
                                      str(out), "--auditor", "Inspector"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"] == {"kind": "inspect", "name": "tiny",
                                 "inspect_model": "openai-api/accord/tiny"}
    assert manifest["inspect_log"]["samples"] == 3
    assert len(manifest["inspect_log"]["sha256"]) == 64
    assert manifest["suites"][0]["name"] == "xstest" and manifest["items"]["count"] == 3
    private, public, _ = create_keys("inspector", tmp_path / "keys")
    sign_bundle(out, private)
    checked = verify_bundle(out, public_key=public, regrade=True)
    assert checked.ok, checked.render_text()
    assert checked.regraded == 6  # two graders × three answers
    again = CliRunner().invoke(app, ["audit", "import-inspect", str(inspect_log), "--out",
                                     str(out)])
    assert again.exit_code == 2 and "not an empty folder" in again.output
