"""Training rewards and the behaviour meter stay independent: accord.rewards never
imports accord.audit (docs/CONVENTIONS.md)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import accord.rewards

_PROBE = """
import json, sys
import accord.rewards as r
from accord.spec import load_spec
rules = load_spec(sys.argv[1]).rules
reward = r.RuleBasedReward(rules, default_response_type="refuse", skip_kinds={"llm_judge"})
reward(["Hi"], ["I'm sorry, I can't help with that, you idiot."])  # every other grader runs
print(json.dumps(sorted(sys.modules)))
"""


def test_using_the_rewards_loads_no_audit_code():
    spec = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"
    out = subprocess.run([sys.executable, "-c", _PROBE, str(spec)], capture_output=True,
                         text=True, check=True, timeout=120)
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert [m for m in modules if m == "accord.audit" or m.startswith("accord.audit.")] == []


def test_no_source_file_names_accord_audit():
    for path in Path(accord.rewards.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.startswith("accord.audit") for n in names), path.name
