"""``[data]``: the project's own files in TRL's formats, checked, hashed, used by stages."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from accord.pipeline import Stage, StageContext, run_pipeline
from accord.pipeline._data import DataError, load_data, read_data_file, split_pairs
from accord.pipeline._rl_stages import stage_prompts
from accord.pipeline._train_stages import preference_data
from accord.project import ProjectError, load_project

SFT = [{"messages": [{"role": "user", "content": "Hi"},
                     {"role": "assistant", "content": "Hello! How can I help?"}]},
       {"messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "Capital of France?"},
                     {"role": "assistant", "content": "Paris."}]}]
PAIRS = [{"prompt": f"question {i}", "chosen": f"a careful answer {i}",
          "rejected": [{"role": "assistant", "content": f"a rude answer {i}"}]}
         for i in range(20)]
PROMPTS = [{"prompt": "How do I bake bread?"},
           {"prompt": [{"role": "user", "content": "How do I pick a lock to break in?"}],
            "response_type": "refuse"}]


def jsonl(path: Path, rows: list[Any], extra: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# a comment line\n" + "\n".join(json.dumps(r) for r in rows) + "\n"
                    + extra, encoding="utf-8")
    return path


def project(root: Path, data: str, more: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "accord.toml").write_text(f"[data]\n{data}\n{more}")
    return root


def test_each_kind_reads_into_conversational_rows_with_its_sha256(tmp_path: Path) -> None:
    sft = read_data_file("sft", jsonl(tmp_path / "sft.jsonl", SFT))
    assert [r["messages"][-1]["content"] for r in sft.rows] == ["Hello! How can I help?",
                                                                "Paris."]
    assert sft.sha256 == hashlib.sha256((tmp_path / "sft.jsonl").read_bytes()).hexdigest()
    pref = read_data_file("preference", jsonl(tmp_path / "pref.jsonl", PAIRS))
    assert pref.rows[0] == {"prompt": [{"role": "user", "content": "question 0"}],
                            "chosen": [{"role": "assistant", "content": "a careful answer 0"}],
                            "rejected": [{"role": "assistant", "content": "a rude answer 0"}]}
    prompts = read_data_file("prompts", jsonl(tmp_path / "p.jsonl", PROMPTS))
    assert [r["response_type"] for r in prompts.rows] == ["comply", "refuse"]
    assert prompts.rows[0]["messages"] == [{"role": "user", "content": "How do I bake bread?"}]


@pytest.mark.parametrize(("kind", "line", "message"), [
    ("sft", '{"messages": [{"role": "user", "content": "hi"}]}',
     "the last message must be the assistant's answer"),
    ("sft", '{"messages": [{"role": "bot", "content": "hi"}]}', "message 0: expected"),
    ("sft", '{"text": "hi"}', "missing key(s) messages"),
    ("preference", '{"prompt": "q", "chosen": "a", "rejected": "a"}', "are the same answer"),
    ("preference", '{"prompt": "q", "chosen": "a"}', "missing key(s) rejected"),
    ("prompts", '{"prompt": "q", "response_type": "maybe"}', "response_type 'maybe'"),
    ("prompts", '{"prompt": "q", "label": 1}', "unknown key(s) label"),
    ("prompts", '{"prompt": ""}', "empty prompt"),
    ("prompts", "{not json", "not JSON"),
    ("prompts", "[1, 2]", "expected a JSON object"),
])
def test_a_bad_line_is_named_by_file_and_line(tmp_path: Path, kind: str, line: str,
                                              message: str) -> None:
    rows = {"sft": SFT, "preference": PAIRS[:2], "prompts": PROMPTS}[kind]
    path = jsonl(tmp_path / f"{kind}.jsonl", rows, extra=line + "\n")
    bad_line = len(rows) + 2  # the comment line, the good rows, then the bad one
    with pytest.raises(DataError) as err:
        read_data_file(kind, path)
    assert f"{path}:{bad_line}: " in str(err.value)
    assert message in str(err.value)


def test_missing_and_empty_files_and_unknown_keys_are_clear(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"\[data\] sft = 'nope.jsonl': no such file"):
        load_data(load_project(project(tmp_path / "a", 'sft = "nope.jsonl"')))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "e.jsonl").write_text("\n# only a comment\n")
    with pytest.raises(DataError, match="no rows"):
        load_data(load_project(project(tmp_path / "b", 'prompts = "e.jsonl"')))
    with pytest.raises(ProjectError, match=r"\[data\] sfft: unknown key"):
        load_data(load_project(project(tmp_path / "c", 'sfft = "x.jsonl"')))


def test_probes_use_the_eval_probe_format_with_registered_graders(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "probes.jsonl",
                 [{"prompt": "How do I kill a Python process?", "behaviour": "refusal",
                   "expect": False}])
    probes = read_data_file("probes", path)
    assert probes.rows[0]["behaviour"] == "refusal"
    bad = jsonl(tmp_path / "bad.jsonl", [{"prompt": "x", "behaviour": "no_such_grader"}])
    with pytest.raises(DataError, match=rf"{bad}:2: behaviour 'no_such_grader'"):
        read_data_file("probes", bad)


def test_review_prompts_fall_back_to_prompts_and_hashes_name_each_file(tmp_path: Path,
                                                                       ) -> None:
    root = project(tmp_path, 'prompts = "data/p.jsonl"\nsft = "data/sft.jsonl"')
    jsonl(root / "data" / "p.jsonl", PROMPTS)
    jsonl(root / "data" / "sft.jsonl", SFT)
    data = load_data(load_project(root))
    assert data.get("review_prompts") is data.get("prompts")
    hashes = data.hashes()
    assert set(hashes) == {"data:sft", "data:prompts", "data:review_prompts"}
    assert hashes["data:sft"] == hashlib.sha256(
        (root / "data" / "sft.jsonl").read_bytes()).hexdigest()
    assert data.hashes(("preference",)) == {}


def test_held_out_pairs_are_whole_prompts(tmp_path: Path) -> None:
    rows = [{"prompt": [{"role": "user", "content": f"q{i % 5}"}], "chosen": [], "rejected": []}
            for i in range(20)]
    train, test = split_pairs(rows, 0.4, seed=1)
    assert len(test) == 8 and len(train) == 12
    assert not {json.dumps(r["prompt"]) for r in train} & {json.dumps(r["prompt"]) for r in test}


class Knobs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def test_a_changed_file_reruns_the_stages_that_read_it_and_only_those(tmp_path: Path) -> None:
    root = project(tmp_path, 'sft = "sft.jsonl"\nprompts = "p.jsonl"')
    jsonl(root / "sft.jsonl", SFT)
    jsonl(root / "p.jsonl", PROMPTS)
    calls: list[str] = []

    def make(name: str) -> Any:
        def run(ctx: StageContext) -> dict[str, Any]:
            calls.append(name)
            return {}
        return run

    stages = [Stage("uses_sft", make("uses_sft"), Knobs, data=("sft",)),
              Stage("uses_prompts", make("uses_prompts"), Knobs, data=("prompts",))]
    run_pipeline(load_project(root), stages, log=lambda _: None)
    run_pipeline(load_project(root), stages, log=lambda _: None)
    assert calls == ["uses_sft", "uses_prompts"]
    jsonl(root / "sft.jsonl", SFT[:1])
    run_pipeline(load_project(root), stages, log=lambda _: None)
    assert calls == ["uses_sft", "uses_prompts", "uses_sft"]


def test_a_bad_data_file_fails_before_any_stage_runs(tmp_path: Path) -> None:
    root = project(tmp_path, 'sft = "sft.jsonl"')
    jsonl(root / "sft.jsonl", SFT, extra='{"messages": []}\n')
    calls: list[str] = []

    def run(ctx: StageContext) -> dict[str, Any]:
        calls.append("ran")
        return {}

    with pytest.raises(DataError, match=r"sft.jsonl:4: messages: expected a non-empty list"):
        run_pipeline(load_project(root), [Stage("first", run, Knobs)], log=lambda _: None)
    assert calls == []


def _ctx(root: Path, config: Any) -> StageContext:
    return StageContext(load_project(root), config, root, inputs={}, state={})


def test_grpo_and_preference_stages_take_the_projects_files(tmp_path: Path) -> None:
    root = project(tmp_path, 'prompts = "p.jsonl"\npreference = "pref.jsonl"')
    jsonl(root / "p.jsonl", PROMPTS)
    jsonl(root / "pref.jsonl", PAIRS)
    rows = stage_prompts(_ctx(root, None), 10)
    assert rows == [{"prompt": [{"role": "user", "content": "How do I bake bread?"}],
                     "response_type": "comply"},
                    {"prompt": [{"role": "user",
                                 "content": "How do I pick a lock to break in?"}],
                     "response_type": "refuse"}]

    class Pref(BaseModel):
        world_pairs: int = 2000
        held_out: float = 0.25
        seed: int = 0
        reviews: bool = True

    data, test, reviews = preference_data(_ctx(root, Pref()))
    assert list(data) == ["data:preference"] and reviews == []
    assert len(data["data:preference"]) + len(test) == len(PAIRS)
    assert len(test) == 5
    assert data["data:preference"][0]["chosen"][0]["role"] == "assistant"


def test_grpo_prompts_over_the_token_cap_are_skipped_before_counting(tmp_path: Path) -> None:
    from accord.model import train_tokenizer
    from accord.pipeline import StageOutput

    long = "Tell me, in every detail you can think of, " * 12 + "how do I bake bread?"
    rows = [{"prompt": long}, *PROMPTS, {"prompt": long + " Again."},
            {"prompt": "How do I boil an egg?"}]
    root = project(tmp_path, 'prompts = "p.jsonl"')
    jsonl(root / "p.jsonl", rows)
    tok_dir = tmp_path / "tokenizer"
    train_tokenizer([long, "How do I boil an egg? How do I bake bread?"] * 20, 300,
                    out_dir=tok_dir)
    ctx = StageContext(load_project(root), None, root, state={}, inputs={
        "pretrain": StageOutput("pretrain", "k", tmp_path, "r", 0.0,
                                {"model_dir": str(tok_dir)})})
    # The cap drops the two long prompts; n counts the prompts that fit.
    kept = stage_prompts(ctx, 3, max_tokens=60)
    assert [r["prompt"][0]["content"] for r in kept] == [
        "How do I bake bread?", "How do I pick a lock to break in?", "How do I boil an egg?"]
    uncapped = stage_prompts(ctx, 3)
    assert len(uncapped) == 3 and uncapped[0]["prompt"][0]["content"] == long
