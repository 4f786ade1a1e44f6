"""The offensive suite's HH prompts never train a reward model: the one step that trains on
HH-RLHF (``bench/reward_hh.py``) reads only the rest (issue 12)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from _resources import missing_resource
from accord.audit import hh_first_prompt, hh_suite_split, is_suite_prompt

BENCH = Path(__file__).resolve().parents[2] / "bench" / "reward_hh.py"


def _reward_hh():
    # The bench scripts import their shared helper as a sibling (`from _rounds import ...`),
    # as they do when run from bench/; without this the test passed only after another
    # module had put bench/ on the path.
    if str(BENCH.parent) not in sys.path:
        sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("reward_hh", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_hh_reward_model_never_trains_on_the_suites_prompts():
    bench = _reward_hh()
    if not bench.DATA.is_file():
        missing_resource(f"HH-RLHF data not found at {bench.DATA}")
    import gzip
    import json

    with gzip.open(bench.DATA, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    suite, rest = hh_suite_split(rows)
    assert suite and rest and len(suite) + len(rest) == len(rows)
    suite_prompts = {hh_first_prompt(r["chosen"]) for r in suite}
    pairs = bench.load_pairs()
    trained = {p["prompt"][0]["content"] for p in pairs}
    assert pairs and not trained & suite_prompts
    assert not any(is_suite_prompt(t) for t in trained)
    # Not vacuous: without the split, suite prompts would be in the training pairs.
    parsed = [bench.parse_dialogue(r["chosen"]) for r in suite]
    assert any(m and m[0]["content"] in suite_prompts for m in parsed)
