"""Hostile spec files (issue 16): alias bombs, tags, deep nesting, recursive aliases and
oversized files end in a located ``file:line:column: message`` (and ``accord spec check``
exits 2 with it, no traceback) instead of a hang or a Python traceback."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from accord.spec import SpecError, load_spec

G = "guidelines.yaml"
NESTED = "nesting is deeper than 64 levels; a spec file never needs that many"
PLAIN = "spec files hold plain data (text, numbers, true/false, null, lists, mappings)"


def alias_bomb(levels: int = 9) -> str:
    """The classic "billion laughs": each level lists the previous one nine times."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    names = "abcdefghijklmnop"
    for prev, name in itertools.pairwise(names[:levels]):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


CASES = [
    pytest.param(alias_bomb(), "guidelines.yaml:6:8: the file holds more than 100,000 values "
                 "once its aliases are expanded (an alias bomb?)", id="alias_bomb_nine_levels"),
    pytest.param("x: !!python/object/apply:os.system ['echo hi']\n",
                 f"guidelines.yaml:1:4: tag !!python/object/apply:os.system is not allowed: "
                 f"{PLAIN}", id="python_object_apply_tag"),
    pytest.param("x: !!python/name:os.system\n",
                 f"guidelines.yaml:1:4: tag !!python/name:os.system is not allowed: {PLAIN}",
                 id="python_name_tag"),
    pytest.param("categories:\n  - !custom {id: x}\n",
                 f"guidelines.yaml:2:5: tag !custom is not allowed: {PLAIN}", id="local_tag"),
    pytest.param("x: !!binary aGVsbG8=\n",
                 f"guidelines.yaml:1:4: tag !!binary is not allowed: {PLAIN}", id="binary_tag"),
    pytest.param("x: !!set {a, b}\n",
                 f"guidelines.yaml:1:4: tag !!set is not allowed: {PLAIN}", id="set_tag"),
    pytest.param("x: " + "[" * 5000 + "]" * 5000 + "\n",
                 f"guidelines.yaml:1:68: {NESTED}", id="five_thousand_brackets"),
    pytest.param("x: " + "{a: " * 100 + "1" + "}" * 100 + "\n",
                 f"guidelines.yaml:1:260: {NESTED}", id="deep_flow_mappings"),
    pytest.param("x:\n" + "".join(" " * i + "- \n" for i in range(1, 200)),
                 f"guidelines.yaml:65:65: {NESTED}", id="deep_block_lists"),
    pytest.param("a: &a [1, *a]\n", "guidelines.yaml:1:11: alias *a is used inside the value "
                 "it names (a structure that contains itself)", id="recursive_alias"),
    pytest.param("{[a, b]: 1}\n", "guidelines.yaml:1:2: a list or mapping cannot be a "
                 "mapping key", id="list_as_key"),
    pytest.param("a: &a {k: v}\nb: {*a : 1}\n", "guidelines.yaml:2:5: alias *a names a list "
                 "or mapping, which cannot be a mapping key", id="alias_of_mapping_as_key"),
    pytest.param("x: '" + "a" * 2_000_001 + "'\n",
                 "guidelines.yaml:1:1: the file is larger than 2,000,000 characters",
                 id="oversized_file"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_hostile_yaml_is_a_located_error(make_spec: Callable[..., Path], text: str,
                                         expected: str) -> None:
    folder = make_spec({G: [("", text)]})
    with pytest.raises(SpecError) as caught:
        load_spec(folder)
    assert str(caught.value.issues[0]) == expected


def test_quoted_brackets_and_comments_do_not_count_as_nesting(
        make_spec: Callable[..., Path]) -> None:
    """The pre-parse bracket count skips quoted text and comments, so prose may hold them."""
    brackets = "[" * 80 + "{" * 80
    folder = make_spec({"spec.yaml": [("", f"name: '{brackets}'\n"
                                           f"description: \"{brackets} \\\" {brackets}\"\n"
                                           f"# {brackets}\n")]})
    spec = load_spec(folder)
    assert spec.manifest.name == brackets


def test_core_tags_are_still_read(make_spec: Callable[..., Path]) -> None:
    folder = make_spec({"spec.yaml": [("", "name: !!str 123\ndescription: !!str yes\n")]})
    assert load_spec(folder).manifest.name == "123"


def test_a_few_aliases_stay_allowed(make_spec: Callable[..., Path]) -> None:
    folder = make_spec({"spec.yaml": [("", "name: &n demo\ndescription: *n\n")]})
    assert load_spec(folder).manifest.description == "demo"


@pytest.mark.parametrize("text", [alias_bomb(), "x: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "x: !!python/object/apply:os.system ['echo hi']\n"],
                         ids=["alias_bomb", "brackets", "tag"])
def test_spec_check_cli_answers_with_the_location(make_spec: Callable[..., Path],
                                                  text: str) -> None:
    """Through the real command in a fresh process: exit 2, the located message on stderr,
    no traceback. The timeout only guards against a hang (the bomb used to run for over a
    minute); it is not a speed goal."""
    folder = make_spec({G: [("", text)]})
    done = subprocess.run([sys.executable, "-m", "accord.cli", "spec", "check", str(folder)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{G}:" in done.stderr and "error:" in done.stderr
