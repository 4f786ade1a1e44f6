"""Writing a ratified change into the spec folder: a new principle, a changed default, a
new or narrowed hard bound, a new customisation option.

The YAML files are edited with ruamel's round-trip loader, so comments, key order and
quoting elsewhere in them survive; the edited folder must validate with
:func:`accord.spec.load_spec` before any file is replaced, and each file is replaced
atomically. A provenance record is appended to ``spec.yaml`` in the same step.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from accord.errors import AccordError
from accord.spec import (
    CustomisationOption,
    Default,
    HardBound,
    Principle,
    Spec,
    SpecError,
    load_spec,
)

# kind -> (file, list key, model, what it is called)
KINDS: dict[str, tuple[str, str, type[BaseModel], str]] = {
    "principle": ("constitution.yaml", "principles", Principle, "constitution principle"),
    "default": ("bounds.yaml", "defaults", Default, "default"),
    "bound": ("bounds.yaml", "hard_bounds", HardBound, "hard bound"),
    "option": ("bounds.yaml", "customisation", CustomisationOption, "customisation option"),
}
MANIFEST = "spec.yaml"


class SpecChangeError(AccordError):
    """A drafted spec change that is malformed or would make the spec invalid."""


def check_change(kind: str, item: Any) -> dict[str, Any]:
    """Validate a drafted item on its own (the whole spec is checked when ratifying).

    Returns:
        The item as plain data, defaults left out.

    Raises:
        SpecChangeError: an unknown kind, or the item's fields are wrong (each named).
    """
    if kind not in KINDS:
        raise SpecChangeError(f"change kind {kind!r} is not one of {', '.join(KINDS)}")
    if not isinstance(item, Mapping):
        raise SpecChangeError(f"the {KINDS[kind][3]} must be a mapping of fields, got "
                              f"{type(item).__name__}")
    model = KINDS[kind][2]
    try:
        parsed = model.model_validate(dict(item))
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(item)"
            msg = ("unknown field; allowed: " + ", ".join(model.model_fields)
                   if err["type"] == "extra_forbidden" else err["msg"])
            lines.append(f"{KINDS[kind][3]}: {key}: {msg}")
        raise SpecChangeError("\n".join(lines)) from None
    return parsed.model_dump(mode="json", exclude_defaults=True)


def parse_change_text(text: str, where: str = "the change") -> Any:
    """A drafted item written as YAML (or JSON, which is YAML).

    Raises:
        SpecChangeError: it does not parse (with line and column).
    """
    from accord.spec import read_yaml

    loaded = read_yaml(text)
    if loaded.problems:
        p = loaded.problems[0]
        raise SpecChangeError(f"{where}:{p.line + 1}:{p.column + 1}: {p.message}")
    if loaded.data is None:
        raise SpecChangeError(f"{where} is empty; write the item's fields as YAML")
    return loaded.data


def describe_change(kind: str, item: Mapping[str, Any], spec: Spec | None) -> str:
    """``adds constitution principle 'x'`` or ``replaces default 'y'`` against ``spec``."""
    _, key, _, label = KINDS[kind]
    verb = "adds"
    if spec is not None:
        section = spec.constitution if kind == "principle" else spec.bounds
        if any(x.id == item.get("id") for x in getattr(section, key)):
            verb = "narrows" if kind == "bound" else "replaces"
    return f"{verb} {label} '{item.get('id')}'"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap lines the authors wrote
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _load(path: Path) -> Any:
    if not path.is_file():
        return CommentedMap()
    data = _yaml().load(path.read_text(encoding="utf-8"))
    return CommentedMap() if data is None else data


def _commented(value: Any) -> Any:
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _commented(v)
        return out
    if isinstance(value, list):
        return CommentedSeq([_commented(v) for v in value])
    return value


def _put(items: Any, item: Mapping[str, Any]) -> None:
    for i, existing in enumerate(items):
        if isinstance(existing, Mapping) and existing.get("id") == item["id"]:
            items[i] = _commented(item)
            return
    items.append(_commented(item))


def already_applied(spec: Spec, deliberation: str, proposal_id: int) -> bool:
    """Whether the spec's provenance already records this proposal (a retried ratify)."""
    return any(r.kind == "deliberation" and r.details.get("deliberation") == deliberation
               and r.details.get("proposal") == proposal_id for r in spec.manifest.provenance)


def apply_change(spec_dir: str | os.PathLike[str], kind: str, item: Mapping[str, Any],
                 record: Mapping[str, Any]) -> Spec:
    """Write ``item`` into the spec folder and ``record`` into its provenance.

    An item whose id exists is replaced (a changed default, a narrowed bound), otherwise
    appended. A default tied to an option also makes ``value`` that option's default.

    Returns:
        The new spec, validated.

    Raises:
        SpecChangeError: the folder does not validate before, or would not after, the
            change (every problem listed with file:line:column); nothing is written then.
    """
    folder = Path(spec_dir)
    item = check_change(kind, item)
    try:
        load_spec(folder)
    except SpecError as exc:
        raise SpecChangeError(f"the spec folder {folder} does not validate now; fix it "
                              f"first:\n{exc}") from None
    file, key, _, _ = KINDS[kind]
    data = _load(folder / file)
    items = data.setdefault(key, CommentedSeq())
    _put(items, item)
    if kind == "default" and item.get("option") is not None:
        for option in data.get("customisation") or []:
            if isinstance(option, Mapping) and option.get("id") == item["option"]:
                option["default"] = item["value"]
    manifest = _load(folder / MANIFEST)
    manifest.setdefault("provenance", CommentedSeq()).append(_commented(dict(record)))
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for f in folder.iterdir():
            if f.is_file():
                shutil.copy2(f, staging / f.name)
        for name, tree in ((file, data), (MANIFEST, manifest)):
            with (staging / name).open("w", encoding="utf-8") as fh:
                _yaml().dump(tree, fh)
        try:
            spec = load_spec(staging)
        except SpecError as exc:
            raise SpecChangeError("the change would make the spec invalid, so nothing was "
                                  f"written:\n{exc}") from None
        for name in (file, MANIFEST):  # the item first: a crash between leaves it findable
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return spec


def provenance_lines(records: list[Any]) -> list[str]:
    """Readable lines for provenance records (``ProvenanceRecord`` or plain dicts)."""
    lines = []
    for r in records:
        d = r if isinstance(r, Mapping) else r.model_dump(mode="json")
        who = f" — ratified by {d['ratified_by']}" if d.get("ratified_by") else ""
        when = f" at {d['ratified_at']}" if d.get("ratified_at") else ""
        lines.append(f"- {d.get('kind')}: {d.get('summary', '')}{who}{when}")
        details = d.get("details") or {}
        if d.get("kind") == "deliberation":
            lines.append(f"    deliberation '{details.get('deliberation')}' "
                         f"(proposal {details.get('proposal')}): {details.get('change', '')}")
            for s in details.get("statements", []):
                t = s.get("tally", {})
                groups = ", ".join(f"group {_letter(g)}: {v.get('agree_share', 0):.0%} agree"
                                   for g, v in (s.get("groups") or {}).items())
                lines.append(f"    statement {s.get('number')} \"{s.get('text')}\": "
                             f"{t.get('agree', 0):g} agree / {t.get('disagree', 0):g} "
                             f"disagree / {t.get('pass', 0):g} pass"
                             + (f" ({groups})" if groups else ""))
    return lines


def _letter(group: Any) -> str:
    """Opinion groups as the pages name them: 0 is A."""
    text = str(group)
    if text.isascii() and text.isdigit() and int(text) < 26:
        return chr(ord("A") + int(text))
    return text
