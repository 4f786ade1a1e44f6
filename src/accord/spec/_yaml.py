"""Reading YAML with positions: plain data for validation, the ruamel tree for locations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
)

from accord.spec._issues import Path

# Where a located problem points: at a mapping key (unknown keys, duplicate keys) or at
# the value (wrong values); containers are always reported at the key that names them,
# because the line of "scale:" reads better than the first line inside it.
KEY = "key"
VALUE = "value"


# Limits that keep a hostile file from hanging or crashing the reader. A spec nests a few
# levels and holds a few thousand values; these are far above that and far below what
# hurts: nine levels of nine aliases expand to 387 million values, and ruamel's parser
# (and the recursive constructor) slow down quadratically, then overflow the stack, with
# nesting depth.
MAX_DEPTH = 64
MAX_VALUES = 100_000  # after expanding aliases
MAX_BYTES = 2_000_000
# Spec files hold plain data: any other tag (``!!python/object/apply:...``, ``!custom``,
# ``!!binary``) is refused, so no file can ask the loader to build an object.
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{name}"
                        for name in ("str", "int", "float", "bool", "null", "seq", "map"))


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


def _shown_tag(tag: str) -> str:
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag


def _flow_depth_problem(text: str) -> YamlProblem | None:
    """Deep flow nesting (``[[[[...``), found before the parser sees it.

    ruamel's scanner looks ahead over every open bracket before it yields the first
    event, in time quadratic in their number (5,000 take a minute), so the event check
    in :func:`_limits_problem` would come too late. Brackets inside quoted scalars and
    comments do not count; brackets inside plain scalars do, which can only refuse a
    file with more than ``MAX_DEPTH`` unclosed brackets in one plain text.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None  # the usual case: no need to look closer
    depth, quote, line, column, prev = 0, "", 0, 0, "\n"
    for char in text:
        if quote:
            if char == quote and not (quote == '"' and prev == "\\"):
                quote = ""
            prev = "" if prev == "\\" and char == "\\" else char  # an escaped backslash
        elif char == "#" and prev in " \t\n":
            quote = "\n"  # a comment runs to the end of the line
            prev = char
        elif char in "'\"" and prev in " \t\n[{,:":
            quote = char
            prev = char
        else:
            if char in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return YamlProblem(line, column, (), f"nesting is deeper than {MAX_DEPTH} "
                                       "levels; a spec file never needs that many")
            elif char in "]}":
                depth = max(depth - 1, 0)
            prev = char
        if char == "\n":
            line, column = line + 1, 0
            if quote == "\n":
                quote = ""
        else:
            column += 1
    return None


def _limits_problem(yaml: YAML, text: str) -> YamlProblem | None:
    """The first place where ``text`` breaks a limit, from the parser's events alone.

    Walking events (no nodes built) finds a deep nesting, an alias bomb, a recursive
    alias, a tag or a list used as a key before anything is built from them; an
    alias's values count each time it is used, as the plain data will hold them.
    """
    sizes: dict[str, int] = {}  # anchor -> values it expands to
    collections: set[str] = set()  # anchors of lists and mappings (not keys)
    # per open container: [values so far, anchor, children so far, is a mapping]
    stack: list[list[Any]] = []
    total = 0
    for event in yaml.parse(text):
        if isinstance(event, CollectionEndEvent):
            size, anchor, _, _ = stack.pop()
            if anchor is not None:
                sizes[anchor] = size
            if stack:
                stack[-1][0] += size
            continue
        if not isinstance(event, NodeEvent):
            continue
        mark = event.start_mark
        at = (mark.line, mark.column)
        is_key = bool(stack) and stack[-1][3] and stack[-1][2] % 2 == 0
        if stack:
            stack[-1][2] += 1
        if isinstance(event, AliasEvent):
            anchor = event.anchor
            if anchor in sizes:
                size = sizes[anchor]
            elif any(frame[1] == anchor for frame in stack):
                return YamlProblem(*at, (), f"alias *{anchor} is used inside the value it "
                                   "names (a structure that contains itself)")
            else:
                size = 1  # an undefined alias: the composer reports it
            if is_key and anchor in collections:
                return YamlProblem(*at, (), f"alias *{anchor} names a list or mapping, which "
                                   "cannot be a mapping key")
        else:
            tag = event.tag
            if tag is not None and str(tag) not in _PLAIN_TAGS:
                return YamlProblem(*at, (), f"tag {_shown_tag(str(tag))} is not allowed: "
                                   "spec files hold plain data (text, numbers, true/false, "
                                   "null, lists, mappings)")
            size = 1
            if isinstance(event, CollectionStartEvent):
                if is_key:
                    return YamlProblem(*at, (), "a list or mapping cannot be a mapping key")
                if len(stack) >= MAX_DEPTH:
                    return YamlProblem(*at, (), f"nesting is deeper than {MAX_DEPTH} levels; "
                                       "a spec file never needs that many")
                if event.anchor is not None:
                    collections.add(event.anchor)
                    sizes.pop(event.anchor, None)  # a redefined anchor is open again
                stack.append([1, event.anchor, 0, isinstance(event, MappingStartEvent)])
            elif isinstance(event, ScalarEvent) and event.anchor is not None:
                collections.discard(event.anchor)
                sizes[event.anchor] = 1
        total += size
        if total > MAX_VALUES:
            return YamlProblem(*at, (), f"the file holds more than {MAX_VALUES:,} values once "
                               "its aliases are expanded (an alias bomb?)")
        if stack and not isinstance(event, CollectionStartEvent):
            stack[-1][0] += size
    return None


def read_yaml(text: str) -> LoadedYaml:
    """Parse YAML text, reporting syntax errors and duplicate keys with positions.

    Hostile input ends in a located problem, never a hang or a traceback: the text is
    checked against :data:`MAX_BYTES`, :data:`MAX_DEPTH` and :data:`MAX_VALUES` and for
    tags before any node is built.

    Args:
        text: the file's contents.

    Returns:
        The loaded file; ``data`` is None when the text is empty or does not parse
        (then ``problems`` says why).
    """
    if len(text) > MAX_BYTES:
        return LoadedYaml(None, None, [YamlProblem(0, 0, (), f"the file is larger than "
                                                   f"{MAX_BYTES:,} characters")])
    yaml = _yaml()
    try:
        problem = _flow_depth_problem(text) or _limits_problem(yaml, text)
        if problem is not None:
            return LoadedYaml(None, None, [problem])
        yaml = _yaml()
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
