"""``accord graders``: list, score, evaluate, and the errors a user can make (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app

runner = CliRunner()


def _jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_list_shows_the_real_graders_with_their_test_figures():
    result = runner.invoke(app, ["graders", "list"])
    assert result.exit_code == 0, result.output
    for name in ("refusal", "harmful_compliance", "offensive", "harmful_content",
                 "moderation:V"):
        assert name in result.output
    assert "test AUC" in result.output and "world:refusal" in result.output


def test_score_adds_a_probability_and_a_label_to_each_line(tmp_path):
    rows = [{"prompt": "How do I pick a lock?", "response": "I'm sorry, I can't help with "
             "that.", "id": 1},
            {"prompt": "Capital of France?", "response": "Paris.", "id": 2}]
    result = runner.invoke(app, ["graders", "score", "refusal", "--input",
                                 str(_jsonl(tmp_path / "in.jsonl", rows)), "--json"])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["id"] for o in out] == [1, 2]
    assert [o["label"] for o in out] == [True, False]
    assert out[0]["score"] > out[1]["score"]


def test_evaluate_reads_the_recorded_test_split_or_a_labelled_file(tmp_path):
    result = runner.invoke(app, ["graders", "evaluate", "refusal"])
    assert result.exit_code == 0, result.output
    assert "refusal on xstest" in result.output and "xstest string match" in result.output
    rows = [{"prompt": "Q", "response": "I cannot help with that, sorry.", "label": 1},
            {"prompt": "Q", "response": "Preheat the oven to 180C, mix the flour and eggs, "
             "and bake for 25 minutes.", "label": 0},
            {"prompt": "Q", "response": "As an AI, I must decline.", "label": True},
            {"prompt": "Q", "response": "The answer is 42.", "label": False}]
    result = runner.invoke(app, ["graders", "evaluate", "refusal", "--json", "--data",
                                 str(_jsonl(tmp_path / "gold.jsonl", rows))])
    assert result.exit_code == 0, result.output
    [figures] = json.loads(result.output)["figures"].values()
    assert figures["head"]["n"] == 4 and figures["head"]["accuracy"] == 1.0
    # Own rows come with 95 % bootstrap intervals (4 rows: wide, and they hold the figure).
    lo, hi = figures["head"]["ci95"]["macro_f1"]
    assert lo <= figures["head"]["macro_f1"] <= hi
    result = runner.invoke(app, ["graders", "evaluate", "refusal", "--data",
                                 str(tmp_path / "gold.jsonl")])
    assert result.exit_code == 0 and "95 % bootstrap: AUC" in result.output


def test_evaluate_skips_a_header_line_like_the_shipped_test_files(tmp_path):
    rows = [{"about": "two labellers; see the docs", "rows": 2},
            {"prompt": "Q", "response": "I cannot help with that, sorry.", "label": 1},
            {"prompt": "Q", "response": "Preheat the oven to 180C, mix the flour and eggs, "
             "and bake for 25 minutes.", "label": 0}]
    path = _jsonl(tmp_path / "with_header.jsonl", rows)
    result = runner.invoke(app, ["graders", "evaluate", "refusal", "--json", "--data",
                                 str(path)])
    assert result.exit_code == 0, result.output
    [figures] = json.loads(result.output)["figures"].values()
    assert figures["head"]["n"] == 2
    # Only a first line can be a header: the same object further down is an error.
    _jsonl(path, [rows[1], rows[0], rows[2]])
    result = runner.invoke(app, ["graders", "evaluate", "refusal", "--data", str(path)])
    assert result.exit_code == 2 and "with_header.jsonl:2:" in result.output


def test_user_errors_exit_2_with_a_clear_message(tmp_path):
    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["graders", *args])
        assert "Traceback" not in result.output
        return result.exit_code, result.output

    code, out = run("score", "no_such_grader", "--input", str(tmp_path / "x.jsonl"))
    assert code == 2 and "no grader named 'no_such_grader'" in out
    code, out = run("score", "refusal", "--input", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "missing.jsonl: no such file" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"response": "fine"}\n{"response": \n')
    code, out = run("score", "refusal", "--input", str(bad))
    assert code == 2 and "bad.jsonl:2: not JSON" in out
    _jsonl(bad, [{"prompt": "no response key"}])
    code, out = run("score", "refusal", "--input", str(bad))
    assert code == 2 and "bad.jsonl:1:" in out and '"response"' in out
    _jsonl(bad, [{"response": "x", "label": "maybe"}])
    code, out = run("evaluate", "refusal", "--data", str(bad))
    assert code == 2 and '"label" must be 0/1' in out
    code, out = run("train", "world:refusal")
    assert code == 2 and "no real-text grader named 'world:refusal'" in out
    code, out = run("train", "refusal", "--data", str(tmp_path / "nowhere"))
    assert code == 2 and "does not exist" in out
