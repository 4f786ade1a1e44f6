"""The Inspect bridge on real parts: a real ``inspect_ai.eval`` of ``accord/xstest`` (found
through the entry point) with Inspect's own ``openai-api`` provider against a tiny model
served by Accord's own server, then the log imported as Accord figures."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import inspect_ai
import pytest

from _resources import missing_resource
from _served import served_model
from accord.audit import default_data_dir, wilson
from accord.errors import AccordError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "customize"))
from tiny_world_model import build_tiny_world_model

DATA = default_data_dir()


@pytest.fixture(scope="module")
def ready() -> None:
    from accord.graders import get_grader

    if not (DATA / "xstest" / "xstest_prompts.csv").is_file():
        missing_resource(f"public data sets not found in {DATA} (set ACCORD_DATA_DIR)")
    try:
        for name in ("refusal", "harmful_compliance"):
            get_grader(name)
    except AccordError as exc:
        missing_resource(f"real-text grader heads not built: {exc}")


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           ready: None) -> Iterator[tuple[str, Path]]:
    """The tiny world model served as ``tiny``; Inspect reads ACCORD_BASE_URL and
    ACCORD_API_KEY (the service name of ``openai-api/accord/tiny``)."""
    cache = getattr(request.config, "cache", None)
    folder = (cache.mkdir("accord-tiny-world-model") if cache is not None
              else tmp_path_factory.mktemp("tiny-world-model"))
    model_dir = build_tiny_world_model(Path(folder))
    work = tmp_path_factory.mktemp("inspect-serve")
    mp = pytest.MonkeyPatch()
    with served_model(model_dir, work, key_env="ACCORD_API_KEY") as url:
        mp.setenv("ACCORD_BASE_URL", url)
        try:
            yield url, work / "accord.sqlite3"
        finally:
            mp.undo()


def test_the_task_holds_the_suites_own_prompts_in_its_order(ready: None) -> None:
    from accord.audit._inspect import inspect_task, suite_prompts

    four, six = suite_prompts("xstest", limit=4), suite_prompts("xstest", limit=6)
    assert four == six[:4] and len({json.dumps(c) for c in six}) == 6
    every = suite_prompts("xstest")  # all 450, in the same balanced order
    assert len(every) == 450 and every[:6] == six
    assert sorted(map(json.dumps, every)) == sorted(map(json.dumps, suite_prompts(
        "xstest", limit=10**6)))
    task = inspect_task("xstest", limit=4)
    assert task.name == "accord/xstest" and len(task.dataset) == 4
    assert [s.metadata["conversation"] for s in task.dataset] == four
    with pytest.raises(AccordError, match="no Inspect task"):
        suite_prompts("world")


def test_inspect_eval_against_accord_serve_and_import(served: tuple[str, Path],
                                                      tmp_path: Path) -> None:
    from sqlalchemy import select

    from accord.audit._inspect import import_inspect_log
    from accord.customize import ChatAnswer
    from accord.store import Store

    url, database = served
    logs = inspect_ai.eval("accord/xstest", model="openai-api/accord/tiny", limit=3,
                           task_args={"max_tokens": 16}, log_dir=str(tmp_path / "logs"),
                           display="none", max_connections=2,
                           # Inspect keeps one client per model name in a process: name the
                           # server so a second served app is not sent to the first one's
                           # (closed) port, and give up instead of retrying for ever.
                           model_base_url=url, max_retries=2, timeout=120)
    assert logs[0].status == "success", logs[0].error
    path = Path(logs[0].location)
    completions = [s.output.completion for s in logs[0].samples]
    assert len(completions) == 3
    # The answers came from Accord's server (stored there, as every answer is).
    store = Store.open(f"sqlite:///{database}")
    try:
        with store.session() as session:
            stored = set(session.scalars(select(ChatAnswer.text)).all())
    finally:
        store.close()
    assert set(completions) <= stored

    report = import_inspect_log(path)
    assert report["suite"] == "xstest" and report["model"] == "openai-api/accord/tiny"
    assert [it["response"] for it in report["items"]] == completions
    assert report["log"]["samples"] == 3 and len(report["log"]["sha256"]) == 64
    figures = {f["metric"]: f for f in report["figures"]}
    assert figures["over_refusal"]["n"] + figures["harmful_compliance"]["n"] == 3
    for f in figures.values():
        if f["n"]:
            k = round(f["value"] * f["n"])
            assert (f["low"], f["high"]) == pytest.approx(wilson(k, f["n"]))
    assert {d["path"] for d in report["data"]} == {"xstest/xstest_prompts.csv"}
    assert set(report["graders"]) == {"refusal", "harmful_compliance"}
    # Inspect's per-sample scores are the graders' probabilities of the same answers.
    for sample, item in zip(logs[0].samples, report["items"], strict=True):
        score = next(iter(sample.scores.values())).value
        assert score["refusal"] == pytest.approx(item["scores"]["refusal"], abs=1e-5)


def test_bad_logs_are_clear_errors(tmp_path: Path) -> None:
    from accord.audit._inspect import import_inspect_log

    with pytest.raises(AccordError, match="not found"):
        import_inspect_log(tmp_path / "missing.eval")
    junk = tmp_path / "junk.json"
    junk.write_text("{not a log")
    with pytest.raises(AccordError, match="is not an Inspect log"):
        import_inspect_log(junk)
