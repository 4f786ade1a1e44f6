"""The model card: ``README.md`` in a saved model folder, in Hugging Face's card format.

YAML front matter (``base_model``, ``library_name``, ``tags``, ``datasets``) that the Hub and
``huggingface_hub.ModelCard`` read, then the lineage Accord records, in words a reader
can check: the base model and its hash, the spec version, each data set with its SHA-256,
the training settings, and the meter's figures when they are known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from accord.errors import AccordError

CARD = "README.md"


def _yaml_scalar(value: Any) -> str:
    # A JSON string is a valid YAML double-quoted scalar: no YAML library needed, and
    # names with colons or quotes stay intact.
    return json.dumps(str(value), ensure_ascii=False)


def _front_matter(lineage: Mapping[str, Any], adapter: bool) -> str:
    lines = ["---"]
    base = lineage.get("base_model")
    if base:
        lines.append(f"base_model: {_yaml_scalar(base)}")
    lines.append(f"library_name: {'peft' if adapter else 'transformers'}")
    tags = ["accord", *([lineage["stage"]] if lineage.get("stage") else []),
            *(["lora"] if adapter else [])]
    lines.append("tags:")
    lines += [f"- {_yaml_scalar(t)}" for t in tags]
    datasets = lineage.get("datasets") or {}
    if datasets:
        lines.append("datasets:")
        lines += [f"- {_yaml_scalar(name)}" for name in datasets]
    lines.append("---")
    return "\n".join(lines)


def _figure(value: Any) -> str:
    if isinstance(value, Mapping):
        rate = value.get("rate", value.get("value"))
        low, high = value.get("low"), value.get("high")
        text = f"{rate:.3f}" if isinstance(rate, int | float) else str(rate)
        if isinstance(low, int | float) and isinstance(high, int | float):
            text += f" (95 % interval {low:.3f}–{high:.3f})"
        if value.get("n") is not None:
            text += f", n = {value['n']}"
        return text
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_model_card(folder: str | Path, lineage: Mapping[str, Any],
                     figures: Mapping[str, Any] | None = None) -> Path:
    """Write (or rewrite) ``folder/README.md``, the model card.

    Args:
        folder: a saved model or adapter folder.
        lineage: what Accord knows of the model: ``base_model`` (path or name),
            ``base_sha256``, ``stage``, ``parent``, ``spec_version``, ``datasets`` (name →
            SHA-256), ``training`` (the stage's settings), ``adapter`` (LoRA settings);
            any key may be missing, other keys are listed as they are.
        figures: the meter's figures (name → number, or ``{rate, low, high, n}``), e.g.
            from the ablation; None when not measured yet (the card says so).

    Returns:
        The card's path.

    Raises:
        AccordError: ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise AccordError(f"model card: {folder} is not a folder")
    adapter = (folder / "adapter_config.json").is_file() or bool(lineage.get("adapter"))
    name = lineage.get("name") or folder.parent.name or folder.name
    out = [_front_matter(lineage, adapter), "", f"# {name}", ""]
    kind = "A LoRA adapter" if adapter else "A model"
    out.append(f"{kind} trained with Accord "
               f"(stage `{lineage.get('stage', 'unknown')}`).")
    out += ["", "## Lineage", ""]
    known = ("base_model", "base_sha256", "parent", "stage", "spec_version")
    labels = {"base_model": "Base model", "base_sha256": "Base model SHA-256",
              "parent": "Trained from", "stage": "Stage", "spec_version": "Spec version"}
    for key in known:
        if lineage.get(key) is not None:
            out.append(f"- {labels[key]}: `{lineage[key]}`")
    if lineage.get("spec_version") is None:
        out.append("- Spec version: not recorded")
    for key, value in lineage.items():
        if key not in (*known, "datasets", "training", "adapter", "name"):
            out.append(f"- {key}: `{json.dumps(value, default=str)[:200]}`")
    out += ["", "## Data sets", ""]
    datasets = lineage.get("datasets") or {}
    if datasets:
        out += ["| data set | SHA-256 |", "|---|---|"]
        out += [f"| {n} | `{h}` |" for n, h in datasets.items()]
    else:
        out.append("None recorded.")
    if lineage.get("adapter"):
        out += ["", "## Adapter", "", "```json",
                json.dumps(lineage["adapter"], indent=2, default=str), "```"]
        out += ["", "Load it with `accord.model.load_backend(FOLDER)` (base + adapter), or "
                "write a merged copy with `accord model merge FOLDER --out DIR`."]
    out += ["", "## Training settings", ""]
    if lineage.get("training"):
        out += ["```json", json.dumps(lineage["training"], indent=2, default=str,
                                      sort_keys=True), "```"]
    else:
        out.append("Not recorded.")
    out += ["", "## Figures", ""]
    if figures:
        out += ["| figure | value |", "|---|---|"]
        out += [f"| {k} | {_figure(v)} |" for k, v in figures.items()]
    else:
        out.append("Not measured yet (the meter's figures are added after evaluation).")
    path = folder / CARD
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path
