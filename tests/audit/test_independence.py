"""The meter must not measure itself: it never imports training-side graders, reviewers,
trainers or torch (DESIGN.md; docs/CONVENTIONS.md)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import accord.audit

FORBIDDEN = ("accord.rewards", "accord.review", "accord.train", "torch")

_PROBE = """
import json, sys
import accord.audit as a
# Use every grader once, classifiers included, so lazy imports happen too.
texts = ["What a twat.", "I must decline.", "Paris is the capital of France."]
for name, g in sorted(a.GRADERS.items()):
    if name != "fact_correct":
        g(texts)
a.follows_settings(texts[0], {"tone": "formal"})
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_and_running_the_meter_loads_no_training_code():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         check=True, timeout=120)
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    leaked = [m for m in modules if m in FORBIDDEN or m.startswith(tuple(f + "." for f in
                                                                           FORBIDDEN))]
    assert leaked == []


def test_no_source_file_names_a_forbidden_module():
    # Catches imports the run above did not reach (inside rarely-called functions).
    for path in Path(accord.audit.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
