"""Training checkpoints written so that ``kill -9`` at any moment leaves a usable one.

A checkpoint is one file, ``checkpoint.pt``: it is written to ``checkpoint.pt.tmp``,
flushed to disk, then renamed over the old one. A rename within a directory is atomic,
so a reader sees either the previous complete checkpoint or the new complete one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

CHECKPOINT = "checkpoint.pt"


def atomic_write_bytes(path: Path, write: Any) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_checkpoint(out_dir: Path, state: dict[str, Any]) -> Path:
    """Atomically save ``state`` (tensors, state dicts, plain values) to ``out_dir``."""
    path = out_dir / CHECKPOINT
    atomic_write_bytes(path, lambda f: torch.save(state, f))
    return path


def load_checkpoint(out_dir: Path) -> dict[str, Any] | None:
    """The last complete checkpoint in ``out_dir``, or ``None`` when there is none."""
    path = out_dir / CHECKPOINT
    if not path.exists():
        return None
    # weights_only=False: the state holds RNG states and plain dicts we wrote ourselves.
    return torch.load(path, map_location="cpu", weights_only=False)


def rng_state() -> dict[str, Any]:
    """Every random generator training may draw from (dropout, if a model has it)."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
