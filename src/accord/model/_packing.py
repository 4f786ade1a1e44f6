"""Packing documents into fixed-length rows with per-document attention.

All documents are tokenized, each ends with eos, and they are concatenated into one token
stream that is cut into rows of ``seq_len + 1`` tokens (inputs and shifted targets), so no
token is wasted on padding. Within a row each token gets its position *inside its own
document* (reset to 0 at each document start, and at the row start for a document that
began in the previous row). Given such ``position_ids`` and no attention mask,
transformers (>= 4.56) detects the packed format and builds a block-diagonal causal mask
(see ``transformers.masking_utils.find_packed_sequence_indices``), so a token never
attends to another document; with flash attention the same position ids become
cu_seqlens. Targets that would cross a boundary (predicting the next document's first
token from the previous document's eos) are set to -100 and ignored by the loss.

The batch at step ``s`` is a pure function of ``(seed, s)``: sample ``g = s * batch + b``
is row ``perm_e[g mod rows]`` where ``perm_e`` is a seeded permutation for epoch
``e = g // rows``. A resumed run therefore sees exactly the data it would have seen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from accord.errors import AccordError

IGNORE = -100  # cross_entropy's ignore_index


@dataclass
class Batch:
    """One training batch of packed rows (all tensors ``[batch, seq_len]``)."""

    input_ids: torch.Tensor
    position_ids: torch.Tensor  # restart at 0 per document: selects the packed mask
    targets: torch.Tensor  # next token, IGNORE across document boundaries


@dataclass
class PackedCorpus:
    """A tokenized corpus as one stream, cut into rows of ``seq_len`` (+1 for targets)."""

    tokens: torch.Tensor  # [n] int64, all documents, each ending with eos
    doc_start: torch.Tensor  # [n] int64, stream index of the first token of each token's doc
    seq_len: int  # tokens per row fed to the model
    documents: int  # number of documents packed
    # (seed, epoch) -> row order; cached because every step of an epoch reads it
    _perms: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def rows(self) -> int:
        return (len(self.tokens) - 1) // self.seq_len

    def fingerprint(self) -> str:
        """A hash of the token stream and row length: same data → same fingerprint."""
        h = hashlib.sha256(self.tokens.numpy().tobytes())
        h.update(str(self.seq_len).encode())
        return h.hexdigest()

    def row(self, r: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Inputs, position ids and targets of row ``r``."""
        b = self.rows_batch(torch.tensor([r]))
        return b.input_ids[0], b.position_ids[0], b.targets[0]

    def rows_batch(self, rows: torch.Tensor) -> Batch:
        """The rows ``rows`` (int64 ``[batch]``) as one batch, gathered in one go."""
        lo = rows[:, None] * self.seq_len  # [batch, 1] first stream index of each row
        idx = lo + torch.arange(self.seq_len)  # [batch, seq_len]
        # Position inside the document, restarted at the row start for a document that
        # began in an earlier row (its beginning is not visible from here).
        positions = idx - torch.maximum(self.doc_start[idx], lo)
        targets = self.tokens[idx + 1]  # a gather: a new tensor, safe to edit
        targets[self.doc_start[idx + 1] == idx + 1] = IGNORE  # next token opens a new doc
        return Batch(self.tokens[idx], positions, targets)

    def _permutation(self, epoch: int, seed: int) -> np.ndarray:
        key = (seed, epoch)
        if key not in self._perms:
            if len(self._perms) > 2:
                self._perms.clear()  # one epoch is needed at a time (two at a seam)
            self._perms[key] = np.random.default_rng([seed, epoch]).permutation(self.rows)
        return self._perms[key]

    def batch(self, step: int, batch_size: int, seed: int) -> Batch:
        """The batch for optimizer step ``step`` (0-based); a pure function of its args."""
        rows = []
        for b in range(batch_size):
            epoch, i = divmod(step * batch_size + b, self.rows)
            rows.append(int(self._permutation(epoch, seed)[i]))
        return self.rows_batch(torch.tensor(rows, dtype=torch.int64))


def pack_documents(tokenizer: PreTrainedTokenizerBase, documents: Sequence[str],
                   seq_len: int) -> PackedCorpus:
    """Tokenize ``documents`` (eos appended unless already last) and pack them.

    Raises:
        AccordError: if there are no documents, or too few tokens for one row.
    """
    eos = tokenizer.eos_token_id
    if eos is None:
        raise AccordError("the tokenizer has no eos token; documents could not be separated")
    if not documents:
        raise AccordError("pretraining needs documents; none were given")
    encoded = tokenizer(list(documents), add_special_tokens=False)["input_ids"]
    pieces, starts, offset = [], [], 0
    for ids in encoded:
        if not ids:
            continue
        if ids[-1] != eos:
            ids = [*ids, eos]
        pieces.append(np.asarray(ids, dtype=np.int64))
        starts.append(np.full(len(ids), offset, dtype=np.int64))
        offset += len(ids)
    if offset < seq_len + 1:
        raise AccordError(f"the corpus has {offset} tokens, fewer than one row of "
                          f"seq_len+1={seq_len + 1}; give more documents or a smaller seq_len")
    return PackedCorpus(tokens=torch.from_numpy(np.concatenate(pieces)),
                        doc_start=torch.from_numpy(np.concatenate(starts)),
                        seq_len=seq_len, documents=len(pieces))
