"""Accord's model: tokenizer and chat format, model sizes, pretraining, generation.

Models travel between stages as paths to Hugging Face ``save_pretrained`` folders.
"""

from accord.model._base import import_base_model, load_base_model, load_model, smollm2_gguf_path
from accord.model._build import SIZES, ModelSize, build_model, count_parameters
from accord.model._device import available_cores
from accord.model._generate import SamplingConfig, generate
from accord.model._packing import Batch, PackedCorpus, pack_documents
from accord.model._pretrain import PretrainConfig, PretrainResult, pretrain
from accord.model._tokenizer import CHAT_TEMPLATE, SPECIAL_TOKENS, render_chat, train_tokenizer

__all__ = [
    "CHAT_TEMPLATE",
    "SIZES",
    "SPECIAL_TOKENS",
    "Batch",
    "ModelSize",
    "PackedCorpus",
    "PretrainConfig",
    "PretrainResult",
    "SamplingConfig",
    "available_cores",
    "build_model",
    "count_parameters",
    "generate",
    "import_base_model",
    "load_base_model",
    "load_model",
    "pack_documents",
    "pretrain",
    "render_chat",
    "smollm2_gguf_path",
    "train_tokenizer",
]
