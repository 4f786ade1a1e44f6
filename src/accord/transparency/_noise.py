"""Differentially private counts and sums through OpenDP, with the privacy loss it proves.

Each released statistic is an OpenDP measurement: a transformation whose sensitivity
OpenDP derives (count by category, clamp then sum) chained with Laplace noise (discrete
Laplace on integers), its scale found by binary search so that the measurement's privacy
map gives at most the ε asked for when one reviewer is added or removed. The report adds
up those maps, so the ε it states is OpenDP's accounting, not ours.

OpenDP's noise cannot be seeded (it draws from a cryptographically secure source). For
tests and reproducible demos a ``seed`` draws noise of the same distribution and scale
from NumPy instead; such a release is marked as not for publication, because anyone who
knows the seed can subtract the noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import opendp.prelude as dp

dp.enable_features("contrib")


@dataclass
class NoiseSource:
    """Where noise comes from: OpenDP (seed None) or a seeded NumPy generator.

    Attributes:
        seed: None for OpenDP's secure sampler; an int for reproducible test noise.
        spent: the ε of every release so far, from OpenDP's privacy maps.
    """

    seed: int | None = None
    spent: list[float] | None = None

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed) if self.seed is not None else None
        self.spent = []
        self._scales: dict[tuple[Any, float], float] = {}

    @property
    def label(self) -> str:
        """How the report describes the noise."""
        if self._rng is None:
            return "opendp"
        return f"seeded (seed {self.seed}): reproducible, not for publication"

    def _release(self, key: Any, transformation: Any, data: list, epsilon: float,
                 integer: bool) -> Any:
        # The search only depends on the transformation's kind and bound: do it once each.
        if (key, epsilon) not in self._scales:
            self._scales[(key, epsilon)] = dp.binary_search_param(
                lambda s: transformation >> dp.m.then_laplace(s), d_in=1, d_out=epsilon)
        scale = self._scales[(key, epsilon)]
        measurement = transformation >> dp.m.then_laplace(scale)
        assert self.spent is not None
        self.spent.append(float(measurement.map(1)))
        if self._rng is None:
            return measurement(data)
        exact = transformation(data)
        if integer:
            # Discrete Laplace(scale) as the difference of two geometric variables.
            p = 1 - math.exp(-1 / scale)
            if isinstance(exact, list):
                noise = self._rng.geometric(p, len(exact)) - self._rng.geometric(p, len(exact))
                return [int(a + b) for a, b in zip(exact, noise, strict=True)]
            return int(exact + self._rng.geometric(p) - self._rng.geometric(p))
        return float(exact + self._rng.laplace(0.0, scale))

    def count(self, n: int, epsilon: float) -> int:
        """A noisy count of ``n`` people (sensitivity 1).

        Args:
            n: the true count.
            epsilon: the ε this release may use.
        """
        space = (dp.vector_domain(dp.atom_domain(T=int)), dp.symmetric_distance())
        return int(self._release("count", dp.t.make_count(*space, TO=int), [0] * n, epsilon, True))

    def histogram(self, values: Sequence[str], categories: Sequence[str],
                  epsilon: float) -> dict[str, int]:
        """Noisy counts of each category (one person is in one category: sensitivity 1).

        Args:
            values: one value per person.
            categories: the cells to count (values outside them are not counted).
            epsilon: the ε this release may use (for all cells together).
        """
        space = (dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance())
        t = dp.t.make_count_by_categories(*space, categories=list(categories),
                                          null_category=False, TOA=int)
        noisy = self._release("histogram", t, list(values), epsilon, True)
        return dict(zip(categories, noisy, strict=True))

    def bounded_sum(self, values: Sequence[float], upper: float, epsilon: float) -> float:
        """A noisy sum of values clamped to ``[0, upper]`` (sensitivity ``upper``).

        Args:
            values: one value per person.
            upper: the clamp bound.
            epsilon: the ε this release may use.
        """
        space = (dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance())
        t = space >> dp.t.then_clamp((0.0, float(upper))) >> dp.t.then_sum()
        return float(self._release(("sum", upper), t, [float(v) for v in values], epsilon, False))
