"""The meter's layer rule: it never imports training-side code, the reviewers, the
trainers or torch (docs/CONVENTIONS.md). Which graders and tables it uses is checked on
their records (tests/graders/test_independence.py)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import accord.audit
import accord.graders

FORBIDDEN = ("accord.rewards", "accord.review", "accord.train", "torch")

_PROBE = """
import json, sys
import accord.audit as a
from accord.graders import METER_GRADERS, as_exchanges, get_grader
# Use every meter grader once, classifiers included, so lazy imports happen too.
texts = as_exchanges(["What a twat.", "I must decline.", "Paris is the capital of France."])
for name in METER_GRADERS:
    if name != "world:fact_correct":
        get_grader(name).label(texts)
a.follows_settings("What a twat.", {"tone": "formal"})
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_and_running_the_meter_loads_no_training_code():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         check=True, timeout=120)
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    leaked = [m for m in modules if m in FORBIDDEN or m.startswith(tuple(f + "." for f in
                                                                           FORBIDDEN))]
    assert leaked == []


def test_no_meter_or_grader_source_file_names_a_forbidden_module():
    # Catches imports the run above did not reach (inside rarely-called functions).
    for package in (accord.audit, accord.graders):
        for path in Path(package.__file__).parent.glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                for name in names:
                    if (name == "torch" and path.name == "_embed.py"
                            and package is accord.graders):
                        continue  # the real-text graders' embedder: lazily, checked below
                    assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"


def test_the_embedder_imports_torch_only_inside_a_function():
    tree = ast.parse(Path(accord.graders.__file__).with_name("_embed.py").read_text())
    top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not any(a.name.startswith("torch") for n in top if isinstance(n, ast.Import)
                   for a in n.names)
    assert not any((n.module or "").startswith(("torch", "transformers")) for n in top
                   if isinstance(n, ast.ImportFrom))


def test_the_rewards_never_import_the_meter():
    for path in Path(__file__).resolve().parents[2].joinpath("src/accord/rewards").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.startswith("accord.audit") for n in names), path.name
