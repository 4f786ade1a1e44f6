"""Reading YAML with positions: plain data for validation, the ruamel tree for locations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from accord.spec._issues import Path

# Where a located problem points: at a mapping key (unknown keys, duplicate keys) or at
# the value (wrong values); containers are always reported at the key that names them,
# because the line of "scale:" reads better than the first line inside it.
KEY = "key"
VALUE = "value"


@dataclass
class YamlProblem:
    """A problem found while reading, before any validation (0-based position)."""

    line: int
    column: int
    path: Path
    message: str


@dataclass
class LoadedYaml:
    """One file read: plain data (None when empty), its ruamel tree, and read problems."""

    data: Any
    tree: Any
    problems: list[YamlProblem] = field(default_factory=list)


class _DuplicateRecordingConstructor(RoundTripConstructor):
    """Keeps the first of duplicate keys (as ruamel does) and records every duplicate.

    Recording here rather than on a separately composed node tree parses each file once.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.duplicates: list[tuple[Any, Any, Any]] = []  # (mapping, key, key mark)

    def check_mapping_key(
        self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any
    ) -> bool:
        if key in mapping:
            self.duplicates.append((mapping, key, key_node.start_mark))
            return False
        return True


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _DuplicateRecordingConstructor
    yaml.allow_duplicate_keys = True
    return yaml


def to_plain(value: Any) -> Any:
    """Convert ruamel's round-trip objects into plain dict/list/str/int/float/bool/None.

    Args:
        value: anything the round-trip loader produced.

    Returns:
        The same data as plain Python types; dates and times become ISO strings so the
        result is JSON-able and hashes the same however it was written.
    """
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _paths(node: Any, path: Path, out: dict[int, Path]) -> None:
    """Map id(container) -> path for every mapping and list in the tree."""
    out[id(node)] = path
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict | list):
                _paths(value, (*path, str(key)), out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, dict | list):
                _paths(value, (*path, index), out)


def _duplicate_problems(tree: Any, duplicates: list[tuple[Any, Any, Any]]) -> list[YamlProblem]:
    paths: dict[int, Path] = {}
    _paths(tree, (), paths)
    out = []
    for mapping, key, mark in duplicates:
        first = mapping.lc.key(key)[0] + 1
        out.append(
            YamlProblem(
                mark.line,
                mark.column,
                (*paths.get(id(mapping), ()), str(key)),
                f"duplicate key '{key}'; first given at line {first}",
            )
        )
    return out


def read_yaml(text: str) -> LoadedYaml:
    """Parse YAML text, reporting syntax errors and duplicate keys with positions.

    Args:
        text: the file's contents.

    Returns:
        The loaded file; ``data`` is None when the text is empty or does not parse
        (then ``problems`` says why).
    """
    yaml = _yaml()
    try:
        tree = yaml.load(text)
        problems = _duplicate_problems(tree, yaml.constructor.duplicates)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            what = f"{exc.problem} ({exc.context})"
        line, column = (mark.line, mark.column) if mark is not None else (0, 0)
        return LoadedYaml(None, None, [YamlProblem(line, column, (), f"YAML syntax error: {what}")])
    except YAMLError as exc:  # reader errors (bad bytes) carry no mark
        return LoadedYaml(None, None, [YamlProblem(0, 0, (), f"YAML syntax error: {exc}")])
    return LoadedYaml(to_plain(tree), tree, problems)


def _find_key(container: dict[Any, Any], part: str | int) -> Any:
    """The key in ``container`` that ``part`` names (pydantic may give '1' for key 1)."""
    if part in container:
        return part
    for key in container:
        if str(key) == str(part):
            return key
    return _MISSING


_MISSING = object()


def clean_path(data: Any, loc: tuple[Any, ...]) -> tuple[Path, bool]:
    """Turn a pydantic ``loc`` into a path through the data.

    Pydantic adds union tags (``scale.likert.points``) and ``[key]`` markers that are
    not in the file; those are dropped.

    Args:
        data: the plain data that was validated.
        loc: pydantic's error location.

    Returns:
        The path, and whether the error is about a mapping key (``[key]`` marker).
    """
    path: list[str | int] = []
    node: Any = data
    is_key = False
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if part == "[key]":
            is_key = True
            continue
        if isinstance(node, dict):
            key = _find_key(node, part)
            if key is not _MISSING:
                path.append(key)
                node = node[key]
                continue
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
            continue
        if last:  # a missing key: keep it, the caller reports it at the parent
            path.append(part)
        # otherwise a union tag that is not in the data: skip it
    return tuple(path), is_key


def locate(tree: Any, path: Path, at: str = VALUE) -> tuple[int, int] | None:
    """The 1-based (line, column) of the deepest node of ``path`` present in ``tree``.

    Args:
        tree: the ruamel round-trip tree, or None when there is no file.
        path: keys and indexes as returned by :func:`clean_path`.
        at: ``KEY`` to point at the key of the last mapping entry, ``VALUE`` at its value
            (scalars only; containers are reported at their key).

    Returns:
        The position, or None when there is no tree. A path that leaves the data (a
        missing key) stops at the last node found: the mapping the key is missing from.
    """
    if tree is None:
        return None
    node, pos = tree, (0, 0)
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, CommentedMap):
            key = _find_key(node, part)
            if key is _MISSING:
                break
            child = node[key]
            scalar = not isinstance(child, CommentedMap | CommentedSeq)
            if last and at == VALUE and scalar and child is not None:
                pos = node.lc.value(key)
            else:
                pos = node.lc.key(key)
            node = child
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            pos = node.lc.item(part)
            node = node[part]
        else:
            break
    return pos[0] + 1, pos[1] + 1
