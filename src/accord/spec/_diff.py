"""Semantic differences between two spec versions, item by item."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from accord.spec._issues import Path, format_path
from accord.spec._spec import Spec

# (section name, file key in Spec.content(), key inside it); items are matched by id.
_SECTIONS = (
    ("categories", "guidelines", "categories"),
    ("hard_bounds", "bounds", "hard_bounds"),
    ("customisation", "bounds", "customisation"),
    ("defaults", "bounds", "defaults"),
    ("principles", "constitution", "principles"),
    ("graders", "rules", "graders"),
    ("propositions", "rules", "propositions"),
    ("definitions", "rules", "definitions"),
    ("response_types", "rules", "response_types"),
)
_ABSENT = "<absent>"


@dataclass(frozen=True)
class FieldChange:
    """One changed value inside an item: its path and the old and new values."""

    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ItemChange:
    """An item present in both versions whose content changed."""

    id: str
    changes: list[FieldChange]


@dataclass(frozen=True)
class SectionDiff:
    """What changed in one section (``categories``, ``principles``, ...)."""

    section: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ItemChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Whether nothing changed in this section."""
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class SpecDiff:
    """The semantic difference from spec ``old`` to spec ``new``; only sections that changed."""

    old_version: str
    new_version: str
    sections: list[SectionDiff]

    @property
    def is_empty(self) -> bool:
        """Whether the two specs say the same thing."""
        return not self.sections

    def section(self, name: str) -> SectionDiff:
        """The diff of one section (empty if it did not change).

        Args:
            name: e.g. ``categories`` or ``manifest``.
        """
        return next((s for s in self.sections if s.section == name), SectionDiff(name))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return asdict(self)

    def render(self) -> str:
        """Readable text, one line per added/removed item or changed field."""
        head = f"spec {self.old_version} -> {self.new_version}"
        if self.is_empty:
            return f"{head}: no differences"
        lines = [head]
        for section in self.sections:
            lines.append(f"{section.section}:")
            lines += [f"  + {item_id} (added)" for item_id in section.added]
            lines += [f"  - {item_id} (removed)" for item_id in section.removed]
            for item in section.changed:
                lines.append(f"  ~ {item.id}")
                lines += [f"      {c.path}: {_show(c.old)} -> {_show(c.new)}" for c in item.changes]
        return "\n".join(lines)


def _show(value: Any) -> str:
    if value is _ABSENT:
        return _ABSENT
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _field_changes(old: Any, new: Any, path: Path = ()) -> list[FieldChange]:
    """Leaf-level differences; lists are compared position by position."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[FieldChange] = []
        for key in [*old, *(k for k in new if k not in old)]:
            out += _field_changes(old.get(key, _ABSENT), new.get(key, _ABSENT), (*path, key))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            a = old[i] if i < len(old) else _ABSENT
            b = new[i] if i < len(new) else _ABSENT
            out += _field_changes(a, b, (*path, i))
        return out
    if old == new and type(old) is type(new):
        return []
    return [FieldChange(format_path(path), old, new)]


def _keyed(items: Any) -> dict[str, Any]:
    if isinstance(items, dict):  # definitions: name -> formula
        return {k: {"formula": v} for k, v in items.items()}
    return {item["id"]: item for item in items}


def _section(name: str, old: dict[str, Any], new: dict[str, Any]) -> SectionDiff:
    changed = []
    for item_id in old:
        if item_id in new:
            changes = _field_changes(old[item_id], new[item_id])
            if changes:
                changed.append(ItemChange(item_id, changes))
    return SectionDiff(
        name,
        added=[i for i in new if i not in old],
        removed=[i for i in old if i not in new],
        changed=changed,
    )


def diff_specs(old: Spec, new: Spec) -> SpecDiff:
    """Compare two specs item by item (matched by id within each section).

    Sections: categories, hard_bounds, customisation, defaults, principles, graders,
    propositions, definitions, response_types; ``manifest`` (name, description,
    provenance) and ``settings`` (guidelines version, chain of command) are compared as
    single items.

    Args:
        old: the earlier version.
        new: the later version.

    Returns:
        The differences; ``is_empty`` when the specs have the same content.
    """
    a, b = old.content(), new.content()
    sections = [
        _section(name, _keyed(a[file][key]), _keyed(b[file][key])) for name, file, key in _SECTIONS
    ]
    sections.append(_section("manifest", {"manifest": a["manifest"]}, {"manifest": b["manifest"]}))
    settings = {
        "guidelines": {"version": a["guidelines"]["version"]},
        "bounds": {"chain_of_command": a["bounds"]["chain_of_command"]},
    }
    new_settings = {
        "guidelines": {"version": b["guidelines"]["version"]},
        "bounds": {"chain_of_command": b["bounds"]["chain_of_command"]},
    }
    sections.append(_section("settings", settings, new_settings))
    return SpecDiff(old.version, new.version, [s for s in sections if not s.is_empty])
