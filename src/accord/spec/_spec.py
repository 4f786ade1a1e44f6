"""The :class:`Spec` and how it is loaded: all five files validated in one pass."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from accord.spec._bounds import Bounds
from accord.spec._checks import Checker, FileState
from accord.spec._constitution import Constitution, Manifest
from accord.spec._guidelines import Guidelines
from accord.spec._issues import SpecError, SpecIssue, format_path
from accord.spec._pyerrors import Problem, describe_value, problems_from_validation
from accord.spec._rules import Rules
from accord.spec._yaml import locate, read_yaml


@dataclass(frozen=True)
class _FileKind:
    file: str
    section: str
    model: type[BaseModel]
    required: bool


FILES = (
    _FileKind("spec.yaml", "manifest", Manifest, False),
    _FileKind("guidelines.yaml", "guidelines", Guidelines, True),
    _FileKind("bounds.yaml", "bounds", Bounds, True),
    _FileKind("constitution.yaml", "constitution", Constitution, True),
    _FileKind("rules.yaml", "rules", Rules, True),
)
_REQUIRED = "guidelines.yaml, bounds.yaml, constitution.yaml and rules.yaml (spec.yaml is optional)"


class Spec:
    """One validated version of the behaviour spec.

    Build it with :func:`load_spec` or :meth:`Spec.from_content`; both validate
    everything, so a ``Spec`` is always whole and consistent.

    Args:
        manifest: spec.yaml.
        guidelines: guidelines.yaml.
        bounds: bounds.yaml.
        constitution: constitution.yaml.
        rules: rules.yaml.
    """

    def __init__(
        self,
        manifest: Manifest,
        guidelines: Guidelines,
        bounds: Bounds,
        constitution: Constitution,
        rules: Rules,
    ) -> None:
        self.manifest = manifest
        self.guidelines = guidelines
        self.bounds = bounds
        self.constitution = constitution
        self.rules = rules

    def content(self) -> dict[str, Any]:
        """The spec as plain JSON-able data, one key per file (``manifest`` for spec.yaml)."""
        return {kind.section: getattr(self, kind.section).model_dump(mode="json") for kind in FILES}

    @cached_property
    def hash(self) -> str:
        """sha256 hex of the canonical JSON of :meth:`content`.

        Canonical: sorted keys, no whitespace, UTF-8 text as is, so key order, comments
        and layout in the YAML files never change the hash; any value change does.
        """
        canonical = json.dumps(
            self.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def version(self) -> str:
        """The short version id: the first 12 hex digits of :attr:`hash`."""
        return self.hash[:12]

    @classmethod
    def from_content(cls, content: Mapping[str, Any]) -> Spec:
        """Rebuild a spec from :meth:`content` (e.g. a version stored in the database).

        Args:
            content: a mapping with keys guidelines, bounds, constitution, rules and
                optionally manifest.

        Returns:
            The validated spec.

        Raises:
            SpecError: the content does not validate; issues name the file each section
                comes from, without line numbers.
        """
        problems: list[Problem] = []
        sections = {kind.section: kind for kind in FILES}
        for key in content:
            if key not in sections:
                problems.append(
                    Problem(
                        "<content>", (str(key),), f"unknown section; allowed: {', '.join(sections)}"
                    )
                )
        sources: dict[str, _Source] = {}
        for kind in FILES:
            if kind.section in content:
                sources[kind.file] = _Source(content[kind.section], None)
            elif kind.required:
                problems.append(Problem(kind.file, (), f"section '{kind.section}' is missing"))
                sources[kind.file] = _Source(None, None)
            else:
                sources[kind.file] = _Source({}, None)
        return _validate(sources, problems)

    def summary(self) -> str:
        """A few lines saying what the spec holds: counts and ids per section."""

        def ids(items: Any) -> str:
            names = [item.id for item in items] if isinstance(items, list) else list(items)
            return f"{len(names)} ({', '.join(names)})" if names else "0"

        g, b, r = self.guidelines, self.bounds, self.rules
        return "\n".join(
            [
                f"spec '{self.manifest.name}' version {self.version}"
                + (f", guidelines {g.version}" if g.version else ""),
                f"  categories: {ids(g.categories)}",
                f"  hard bounds: {ids(b.hard_bounds)}",
                f"  customisation options: {ids(b.customisation)}",
                f"  defaults: {ids(b.defaults)}",
                f"  principles: {ids(self.constitution.principles)}",
                f"  graders: {ids(r.graders)}",
                f"  propositions: {ids(r.propositions)}",
                f"  definitions: {ids(r.definitions)}",
                f"  response types: {ids(r.response_types)}",
                f"  provenance records: {len(self.manifest.provenance)}",
            ]
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Spec) and other.hash == self.hash

    def __hash__(self) -> int:
        return hash(self.hash)

    def __repr__(self) -> str:
        return f"Spec(name={self.manifest.name!r}, version={self.version!r})"


@dataclass
class _Source:
    data: Any  # plain data; None when missing, empty or unparsable
    tree: Any  # the ruamel tree for positions; None without a file


def load_spec(path: str | Path) -> Spec:
    """Load and validate a spec folder.

    Args:
        path: the folder holding guidelines.yaml, bounds.yaml, constitution.yaml,
            rules.yaml and optionally spec.yaml.

    Returns:
        The validated spec.

    Raises:
        SpecError: with every problem in every file, each at file:line:column.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise SpecError([SpecIssue(str(folder), None, None, "", "spec folder not found")])
    problems: list[Problem] = []
    sources: dict[str, _Source] = {}
    for kind in FILES:
        file = folder / kind.file
        if not file.is_file():
            if kind.required:
                problems.append(
                    Problem(
                        kind.file, (), f"required file is missing; a spec folder holds {_REQUIRED}"
                    )
                )
            sources[kind.file] = _Source(None if kind.required else {}, None)
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(kind.file, (), f"not UTF-8 text ({exc.reason})"))
            sources[kind.file] = _Source(None, None)
            continue
        loaded = read_yaml(text)
        for p in loaded.problems:
            problems.append(
                Problem(kind.file, p.path, p.message, position=(p.line + 1, p.column + 1))
            )
        data = loaded.data
        if data is None and not loaded.problems:
            if kind.required:
                problems.append(
                    Problem(
                        kind.file,
                        (),
                        "the file is empty; expected keys: " + ", ".join(kind.model.model_fields),
                        position=(1, 1),
                    )
                )
            else:
                data = {}  # an empty spec.yaml means all defaults
        sources[kind.file] = _Source(data, loaded.tree)
    return _validate(sources, problems)


def _validate(sources: dict[str, _Source], problems: list[Problem]) -> Spec:
    states: dict[str, FileState] = {}
    for kind in FILES:
        source = sources[kind.file]
        model = None
        if isinstance(source.data, dict):
            try:
                model = kind.model.model_validate(source.data)
            except ValidationError as exc:
                problems += problems_from_validation(kind.file, kind.model, source.data, exc)
        elif source.data is not None:
            problems.append(
                Problem(
                    kind.file,
                    (),
                    f"expected a mapping at the top level, got "
                    f"{describe_value(source.data)}; allowed keys: "
                    + ", ".join(kind.model.model_fields),
                )
            )
        states[kind.file] = FileState(kind.file, source.data, model)

    def where(file: str, path: tuple[str | int, ...]) -> str:
        pos = locate(sources[file].tree, path)
        return f"line {pos[0]}" if pos else format_path(path)

    problems += Checker(states, where).run()
    if problems:
        raise SpecError(_issues(problems, sources))
    parts = {kind.section: states[kind.file].model for kind in FILES}
    return Spec(**parts)  # type: ignore[arg-type]


def _issues(problems: list[Problem], sources: dict[str, _Source]) -> list[SpecIssue]:
    order = {kind.file: n for n, kind in enumerate(FILES)}
    issues = []
    for p in problems:
        source = sources.get(p.file)
        pos = p.position or (locate(source.tree, p.path, p.at) if source else None)
        line, column = pos if pos else (None, None)
        issues.append(SpecIssue(p.file, line, column, format_path(p.path), p.message))
    # Python's sort is stable: issues without positions keep the order they were found in.
    return sorted(issues, key=lambda i: (order.get(i.file, -1), i.line or 0, i.column or 0))
