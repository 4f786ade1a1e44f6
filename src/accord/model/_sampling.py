"""How to sample, and which random numbers each generated row draws (no torch here, so
web code can build a :class:`SamplingConfig` without loading a model).

The seeding convention, shared by every caller that samples (``accord.model.generate``,
:class:`~accord.model.LocalBackend`, the serving runner, CAI): a row is keyed by
``(seed, stream)`` and draws all its numbers from one generator seeded from
``numpy.random.SeedSequence([seed, stream])``.

- A batch call without explicit seeds (``generate(..., sampling)``) keys row ``i`` as
  ``(sampling.seed, i)``.
- A row with its own seed ``s`` (a served request, or ``seeds=[...]`` in a batch call) is
  ``(s, 0)``.

So a served request with seed ``s`` and row 0 of ``generate`` with ``sampling.seed == s``
give the same text for the same prompt and settings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.errors import AccordError


@dataclass
class SamplingConfig:
    """How to sample; stored with every completion so it can be reproduced."""

    temperature: float = 0.8  # 0 = greedy (argmax); higher = more varied
    top_p: float = 0.95  # nucleus: keep the smallest set of tokens with this much mass
    top_k: int = 0  # keep only the k most likely tokens; 0 = no limit
    max_new_tokens: int = 128  # reply length cap; the end-of-turn token stops earlier
    repetition_penalty: float = 1.0  # >1 discourages tokens already in the row (CTRL-style)
    seed: int = 0  # row i of a batch draws from a generator seeded with (seed, i)

    def __post_init__(self) -> None:
        problems = []
        if self.temperature < 0:
            problems.append(f"temperature={self.temperature} must be >= 0")
        if not 0 < self.top_p <= 1:
            problems.append(f"top_p={self.top_p} must be in (0, 1]")
        if self.top_k < 0:
            problems.append(f"top_k={self.top_k} must be >= 0")
        if self.max_new_tokens < 1:
            problems.append(f"max_new_tokens={self.max_new_tokens} must be >= 1")
        if self.repetition_penalty <= 0:
            problems.append(f"repetition_penalty={self.repetition_penalty} must be > 0")
        if problems:
            raise AccordError("invalid SamplingConfig: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def row_seed(seed: int, stream: int) -> int:
    """The 63-bit seed of the generator of row ``(seed, stream)`` (see the module docstring).

    Args:
        seed: the sampling seed (``sampling.seed``, or a row's own seed).
        stream: the row's index in a batch call, or 0 for a row with its own seed.
    """
    return int(np.random.SeedSequence([seed, stream]).generate_state(1, dtype=np.uint64)[0]
               >> 1)
