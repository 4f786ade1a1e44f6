"""Writing a spec back to YAML files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from accord.spec._spec import FILES, Spec


def _prettify(value: Any) -> Any:
    """Multi-line text as ``|`` blocks, so prompts and instructions stay readable."""
    if isinstance(value, dict):
        return {k: _prettify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_prettify(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


def dump_spec(spec: Spec, directory: str | Path) -> Path:
    """Write a spec as a spec folder (spec.yaml and the four required files).

    Values equal to their defaults are left out; loading the folder again gives a spec
    with the same hash. Existing files of those five names are overwritten.

    Args:
        spec: the spec to write.
        directory: the folder; created if missing.

    Returns:
        The folder, as a Path.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    for kind in FILES:
        # python mode keeps likert point keys as integers (JSON mode would quote them)
        data = getattr(spec, kind.section).model_dump(mode="python", exclude_defaults=True)
        with (folder / kind.file).open("w", encoding="utf-8") as handle:
            yaml.dump(_prettify(data), handle)
    return folder
