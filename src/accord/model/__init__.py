"""Accord's model: tokenizer and chat format, model sizes, pretraining, and the one
model-execution layer (decoding, scoring, model resolution, backends).

Models travel between stages as paths to Hugging Face ``save_pretrained`` folders.
Importing this package does not import torch: the torch-backed names load on first use
(PEP 562), so web code can use :class:`SamplingConfig`, :class:`Backend` and
:class:`OpenAIBackend` without loading a model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord._lazy import lazy_exports
from accord.model._backend import Backend, check_conversation, load_backend
from accord.model._card import write_model_card
from accord.model._cli import model_app
from accord.model._lora import (
    full_model_dir,
    is_adapter_dir,
    load_adapter_model,
    merge_adapter,
    merged_copy,
    read_lineage,
    weights_sha256,
    write_lineage,
)
from accord.model._openai import OpenAIBackend, option_key
from accord.model._resolve import resolve_model
from accord.model._sampling import SamplingConfig

if TYPE_CHECKING:
    from accord.model._base import (
        import_base_model,
        load_base_model,
        load_model,
        smollm2_gguf_path,
    )
    from accord.model._build import SIZES, ModelSize, build_model, count_parameters
    from accord.model._decode import DecodeRow, decode
    from accord.model._device import autocast, available_cores, pick_device, uses_bf16
    from accord.model._generate import generate
    from accord.model._local import LocalBackend
    from accord.model._packing import IGNORE, Batch, PackedCorpus, pack_documents
    from accord.model._pretrain import PretrainConfig, PretrainResult, pretrain
    from accord.model._score import token_logprobs
    from accord.model._tokenizer import (
        CHAT_TEMPLATE,
        SPECIAL_TOKENS,
        render_chat,
        train_tokenizer,
    )

# The torch-backed names, by the private module defining each; imported on first access.
_TORCH_BACKED = {
    "_base": ("import_base_model", "load_base_model", "load_model", "smollm2_gguf_path"),
    "_build": ("SIZES", "ModelSize", "build_model", "count_parameters"),
    "_decode": ("DecodeRow", "decode"),
    "_device": ("autocast", "available_cores", "pick_device", "uses_bf16"),
    "_generate": ("generate",),
    "_local": ("LocalBackend",),
    "_packing": ("IGNORE", "Batch", "PackedCorpus", "pack_documents"),
    "_pretrain": ("PretrainConfig", "PretrainResult", "pretrain"),
    "_score": ("token_logprobs",),
    "_tokenizer": ("CHAT_TEMPLATE", "SPECIAL_TOKENS", "render_chat", "train_tokenizer"),
}
__getattr__, __dir__ = lazy_exports(__name__, _TORCH_BACKED, globals())


__all__ = [
    "CHAT_TEMPLATE",
    "IGNORE",
    "SIZES",
    "SPECIAL_TOKENS",
    "Backend",
    "Batch",
    "DecodeRow",
    "LocalBackend",
    "ModelSize",
    "OpenAIBackend",
    "PackedCorpus",
    "PretrainConfig",
    "PretrainResult",
    "SamplingConfig",
    "autocast",
    "available_cores",
    "build_model",
    "check_conversation",
    "count_parameters",
    "decode",
    "full_model_dir",
    "generate",
    "import_base_model",
    "is_adapter_dir",
    "load_adapter_model",
    "load_backend",
    "load_base_model",
    "load_model",
    "merge_adapter",
    "merged_copy",
    "model_app",
    "option_key",
    "pack_documents",
    "pick_device",
    "pretrain",
    "read_lineage",
    "render_chat",
    "resolve_model",
    "smollm2_gguf_path",
    "token_logprobs",
    "train_tokenizer",
    "uses_bf16",
    "weights_sha256",
    "write_lineage",
    "write_model_card",
]
