"""Named model sizes and building a fresh Llama-architecture model for a tokenizer."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

from accord.errors import AccordError


@dataclass(frozen=True)
class ModelSize:
    """The shape of a Llama model; the vocabulary comes from the tokenizer."""

    d_model: int  # hidden size; head_dim = d_model / n_heads
    n_layers: int  # transformer blocks
    n_heads: int  # attention heads (full multi-head: as many key/value heads)
    d_ff: int  # SwiGLU hidden size; ~8/3 d_model keeps the MLP at the usual 4x cost
    context: int  # max_position_embeddings, also the default packed row length


SIZES: dict[str, ModelSize] = {
    # Tests: ~0.1-0.3M parameters, a few hundred steps in seconds on one core.
    "tiny": ModelSize(d_model=64, n_layers=2, n_heads=4, d_ff=176, context=128),
    # The demo: ~1.07M parameters with a 2k vocabulary. Measured on this project's 2-core
    # machines at ~5-8k tokens/s, so 4 minutes is ~2M tokens, more than an epoch of the
    # demo world; a wider model (d=192) ran at a third of that speed and saw too little
    # of the corpus in the same minutes.
    "small": ModelSize(d_model=128, n_layers=4, n_heads=4, d_ff=352, context=256),
    # For a GPU: ~20M parameters, nanoGPT's "baby" scale and up.
    "medium": ModelSize(d_model=384, n_layers=8, n_heads=6, d_ff=1024, context=512),
}


def model_config(size: str, tokenizer: PreTrainedTokenizerBase) -> LlamaConfig:
    """The ``LlamaConfig`` for a named size and the tokenizer's vocabulary."""
    if size not in SIZES:
        raise AccordError(f"unknown model size {size!r}; allowed: {', '.join(SIZES)}")
    s = SIZES[size]
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=s.d_model,
        intermediate_size=s.d_ff,
        num_hidden_layers=s.n_layers,
        num_attention_heads=s.n_heads,
        num_key_value_heads=s.n_heads,
        max_position_embeddings=s.context,
        # Input and output embeddings share one matrix: at this scale the embedding is a
        # large share of the parameters, and tying helps small models (as in GPT-2).
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        attn_implementation="sdpa",
    )


def build_model(size: str, tokenizer: PreTrainedTokenizerBase, seed: int = 0) -> LlamaForCausalLM:
    """A freshly initialised ``LlamaForCausalLM`` of a named size (see :data:`SIZES`).

    Args:
        size: ``"tiny"``, ``"small"`` or ``"medium"``.
        tokenizer: fixes the vocabulary size and the bos/eos/pad ids.
        seed: initial weights are a pure function of (size, vocabulary, seed).
    """
    config = model_config(size, tokenizer)
    # Fork only the CPU generator (devices=[]): building a model must not change the
    # caller's random state, nor touch CUDA.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)
    return model


def count_parameters(model: torch.nn.Module) -> int:
    """Number of distinct parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in model.parameters())
