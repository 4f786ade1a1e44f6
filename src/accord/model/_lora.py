"""LoRA adapter folders: recognising them, loading base + adapter, merging them.

A training stage run with ``lora`` saves an **adapter folder** instead of a whole model:
PEFT's ``adapter_config.json`` and adapter weights, the tokenizer, and Accord's
``lineage.json``::

    {"base_model": {"path": ..., "sha256": ...},   # the folder it was trained on
     "adapter": {"r": ..., "alpha": ..., "dropout": ..., "target_modules": ...},
     "task": "CAUSAL_LM" | "SEQ_CLS", ...}

The base may itself be an adapter folder (an SFT adapter under a DPO adapter): loading
walks the chain, merging each level in memory. The base's SHA-256 is checked on load, so
an adapter is never silently applied to weights it was not trained on.

Nothing here imports torch, transformers or peft at module level: ``is_adapter_dir`` is
used by :func:`accord.model.resolve_model`, which web code may call.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from accord.errors import AccordError

ADAPTER_CONFIG = "adapter_config.json"
LINEAGE = "lineage.json"
MERGED_SUFFIX = "-merged"
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


def is_adapter_dir(path: str | Path) -> bool:
    """Whether ``path`` is a LoRA adapter folder (PEFT's ``adapter_config.json``, no
    ``config.json`` of a whole model)."""
    path = Path(path)
    return (path / ADAPTER_CONFIG).is_file() and not (path / "config.json").is_file()


def weights_sha256(folder: str | Path) -> str:
    """SHA-256 over a model folder's weight files (name and bytes, in name order): the
    identity of the weights, whatever the tokenizer or card next to them say."""
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
    if not files:
        raise AccordError(f"{folder}: no weight files (*.safetensors, *.bin) to hash")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def read_lineage(adapter_dir: str | Path) -> dict[str, Any]:
    """The adapter's ``lineage.json`` (PEFT's ``base_model_name_or_path`` when absent).

    Raises:
        AccordError: the folder is not an adapter folder.
    """
    adapter_dir = Path(adapter_dir)
    if not is_adapter_dir(adapter_dir):
        raise AccordError(f"{adapter_dir} is not a LoRA adapter folder (no "
                          f"{ADAPTER_CONFIG}); give the model/ folder of a stage trained "
                          "with lora")
    lineage = adapter_dir / LINEAGE
    source = lineage if lineage.is_file() else adapter_dir / ADAPTER_CONFIG
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AccordError(f"{source}: not a JSON file ({exc}); is {adapter_dir} an adapter "
                          "folder Accord or PEFT wrote?") from None
    if not isinstance(data, dict):
        raise AccordError(f"{source}: expected a JSON object")
    if source == lineage:
        return data
    return {"base_model": {"path": data.get("base_model_name_or_path")},
            "task": data.get("task_type") or "CAUSAL_LM"}


def write_lineage(adapter_dir: str | Path, base_dir: str | Path, adapter: Mapping[str, Any],
                  task: str, **extra: Any) -> dict[str, Any]:
    """Write ``lineage.json`` into a freshly saved adapter folder and return it.

    Args:
        adapter_dir: the adapter folder.
        base_dir: the folder the adapter was trained on (a model, or an adapter folder).
        adapter: the LoRA settings (r, alpha, dropout, target_modules).
        task: ``CAUSAL_LM`` or ``SEQ_CLS``.
        extra: more fields (stage, datasets, ...), stored as given.
    """
    base_dir = Path(base_dir).resolve()
    # The base's path relative to the adapter too: a copied (or moved) project finds its
    # own base model first, not the original's (the SHA-256 still has to match).
    relative = os.path.relpath(base_dir, Path(adapter_dir).resolve())
    lineage = {"base_model": {"path": str(base_dir), "relative_path": relative,
                              "sha256": weights_sha256(base_dir)},
               "adapter": dict(adapter), "task": task, **extra}
    (Path(adapter_dir) / LINEAGE).write_text(json.dumps(lineage, indent=2, default=str))
    return lineage


def adapter_base(adapter_dir: str | Path, *, check_hash: bool = True) -> Path:
    """The folder an adapter was trained on, checked to still hold the same weights.

    Raises:
        AccordError: the base is missing, or its weights changed since training.
    """
    lineage = read_lineage(adapter_dir)
    recorded = lineage.get("base_model", {})
    base = recorded.get("path")
    relative = recorded.get("relative_path")
    if relative and (Path(adapter_dir) / relative).exists():
        base = str((Path(adapter_dir) / relative).resolve())
    if not base or not Path(base).exists():
        raise AccordError(f"adapter {adapter_dir}: its base model {base!r} is not there any "
                          "more; restore it, or load a merged copy (accord model merge)")
    expected = lineage.get("base_model", {}).get("sha256")
    if check_hash and expected and weights_sha256(base) != expected:
        raise AccordError(f"adapter {adapter_dir}: the weights of its base model {base} "
                          "changed since the adapter was trained (SHA-256 differs); the "
                          "adapter would not reproduce its model")
    return Path(base)


def load_adapter_model(adapter_dir: str | Path, *, merge: bool = True) -> tuple[Any, Any]:
    """Base + adapter as one model, with the adapter folder's tokenizer.

    Args:
        adapter_dir: the adapter folder.
        merge: fold the LoRA weights into the base (what serving and evaluation want: the
            same outputs, no adapter overhead per token); False keeps a ``PeftModel``.

    Returns:
        ``(model, tokenizer)``, the model in eval mode.
    """
    from peft import PeftModel
    from transformers import AutoTokenizer

    adapter_dir = Path(adapter_dir)
    lineage = read_lineage(adapter_dir)
    base = adapter_base(adapter_dir)
    if lineage.get("task", "CAUSAL_LM") == "SEQ_CLS":
        model = _load_sequence_classifier(base)
    elif is_adapter_dir(base):
        model, _ = load_adapter_model(base)  # a chain: the lower adapter merged in memory
    else:
        from accord.model._base import load_base_model

        model, _ = load_base_model(base)
    model = PeftModel.from_pretrained(model, str(adapter_dir))
    if merge:
        model = model.merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(str(adapter_dir))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    return model.eval(), tokenizer


def _load_sequence_classifier(base: Path) -> Any:
    """A one-output scorer on ``base`` (a causal LM folder or adapter): the reward head's
    weights come from the adapter (PEFT saves the new ``score`` head with it)."""
    from transformers import AutoModelForSequenceClassification

    if is_adapter_dir(base):
        base = merged_copy(base)
    return AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1)


def merge_adapter(adapter_dir: str | Path, out_dir: str | Path) -> Path:
    """Write base + adapter, merged, as an ordinary ``save_pretrained`` folder.

    The copy carries the tokenizer, a ``lineage.json`` naming the adapter (path, SHA-256)
    and its base, and the adapter's model card. It is written next to ``out_dir`` and
    renamed into place, so a half-written copy never looks finished.

    Raises:
        AccordError: ``adapter_dir`` is not an adapter folder, its base is missing or
            changed, or ``out_dir`` exists and is not empty.
    """
    adapter_dir, out = Path(adapter_dir), Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise AccordError(f"{out} exists and is not empty; give a new folder for the "
                          "merged model")
    lineage = read_lineage(adapter_dir)
    model, tokenizer = load_adapter_model(adapter_dir)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    merged = {**{k: v for k, v in lineage.items() if k != "base_model"},
              "merged_from": {"path": str(adapter_dir.resolve()),
                              "sha256": weights_sha256(adapter_dir)},
              "base_model": lineage.get("base_model")}
    (tmp / LINEAGE).write_text(json.dumps(merged, indent=2, default=str))
    if (adapter_dir / "README.md").is_file():
        shutil.copyfile(adapter_dir / "README.md", tmp / "README.md")
    if out.exists():
        out.rmdir()
    tmp.replace(out)
    return out


def merged_copy(adapter_dir: str | Path) -> Path:
    """The merged copy of an adapter kept next to it (``<adapter>-merged/``), written once
    and rewritten when the adapter's weights change. Training stages start from it when
    their parent is an adapter (TRL and PEFT stack a new adapter on a plain model)."""
    adapter_dir = Path(adapter_dir)
    out = adapter_dir.with_name(adapter_dir.name + MERGED_SUFFIX)
    want = weights_sha256(adapter_dir)
    if (out / "config.json").is_file() and (out / LINEAGE).is_file():
        have = json.loads((out / LINEAGE).read_text()).get("merged_from", {}).get("sha256")
        if have == want:
            return out
    if out.exists():
        shutil.rmtree(out)
    return merge_adapter(adapter_dir, out)


def full_model_dir(path: str | Path) -> Path:
    """``path`` itself for a whole model folder, its merged copy for an adapter folder."""
    return merged_copy(path) if is_adapter_dir(path) else Path(path)
