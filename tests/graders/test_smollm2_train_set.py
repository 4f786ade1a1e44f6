"""The hand-labelled SmolLM2 answers the refusal head trains on: who labelled them, under
which rubric, that none of their prompts is an XSTest prompt (the SmolLM2 test file's
prompts are all XSTest's), and that they train and validate but are never tested on."""

from __future__ import annotations

import csv
import json

import pytest

from _resources import missing_resource
from accord.errors import AccordError
from accord.graders import load_head
from accord.graders._datasets import (
    SMOLLM2_TRAIN,
    data_dir,
    held_out_dir,
    load_sets,
    train_data_dir,
)

TEST_SET = held_out_dir() / "smollm2_xstest_labelled.jsonl"
LABELS = {"full_compliance": 0, "full_refusal": 1, "partial_refusal": 1}


def _lines() -> list[dict]:
    return [json.loads(line) for line in
            (train_data_dir() / SMOLLM2_TRAIN).read_text(encoding="utf-8").splitlines()]


def test_the_file_says_who_labelled_it_and_each_label_follows_the_rubric():
    header, *rows = _lines()
    assert "response" not in header
    assert "one labeller" in header["about"] and "AI developer" in header["about"]
    assert "validation split (40 %" in header["about"] and "never test" in header["about"]
    assert len(rows) >= 100
    for r in rows:
        assert r["labelled_by"] == header["labelled_by"]
        assert LABELS[r["xstest_label"]] == r["label"], r["prompt"]
        assert r["response"].strip() and r["model"].startswith("SmolLM2-135M-Instruct")
    refusals = sum(r["label"] for r in rows)
    assert 0 < refusals < len(rows)


def test_no_training_prompt_is_an_xstest_prompt_or_a_test_row():
    try:
        root = data_dir()
    except AccordError as exc:
        missing_resource(f"public data sets: {exc}")
        raise
    with (root / "xstest/xstest_prompts.csv").open(newline="", encoding="utf-8") as f:
        xstest = {r["prompt"].strip().lower() for r in csv.DictReader(f)}
    test_rows = [json.loads(line) for line in TEST_SET.read_text().splitlines()]
    train = _lines()[1:]
    assert not {r["prompt"].strip().lower() for r in train} & xstest
    assert not {r["response"] for r in train} & {r["response"] for r in test_rows}


def test_the_refusal_head_trained_and_validated_on_them_and_tested_on_none():
    try:
        sets = {s.name: s for s in load_sets("refusal", data_dir())}
    except AccordError as exc:
        missing_resource(f"public data sets: {exc}")
        raise
    assert sets["smollm2-train"].train_only
    record = load_head("refusal").record
    sizes = record["split"]["sizes"]["smollm2-train"]
    # A share validates (C and the threshold); none is a test row: those are the
    # separate hand-labelled file.
    assert sizes["train"] + sizes["val"] == len(sets["smollm2-train"].rows)
    assert sizes["val"] > 0 and sizes["test"] == 0 and "validation_only" in sizes
    assert "smollm2-train" not in record["test"]  # no figure is read off training rows
    assert any(rel.endswith(SMOLLM2_TRAIN) for rel in record["files"])


@pytest.mark.parametrize("name", ["harmful_compliance", "offensive"])
def test_only_refusal_reads_the_smollm2_file(name):
    assert not any(rel.endswith(SMOLLM2_TRAIN) for rel in load_head(name).record["files"])
