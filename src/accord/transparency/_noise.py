"""Differentially private releases through OpenDP, composed and accounted by OpenDP.

Every statistic of a report is one OpenDP measurement on the same data set — one row per
reviewer — so that OpenDP's own compositor (``make_composition``, basic sequential
composition) can put them together into one measurement whose privacy map *is* the
report's ε. Accord writes no sum or maximum of privacy losses itself.

Each query is a transformation chained with Laplace noise (discrete Laplace on integers),
its scale found by binary search so that the query's own privacy map gives at most the
ε asked for when one reviewer is added or removed:

- a count: the rows selected, counted by OpenDP's ``make_count``;
- a histogram: the rows' answers counted by OpenDP's ``make_count_by_categories`` (each
  reviewer is in one cell: OpenDP's sensitivity is 1 for all cells together);
- group sums: one value per reviewer clamped to ``[0, upper]`` and summed per group, as a
  vector. Adding or removing one reviewer changes one group's sum by at most ``upper``,
  so the vector's L1 sensitivity is ``upper`` — the argument usually called parallel
  composition. OpenDP offers it natively only through its Polars API (polars + pyarrow,
  not installed here), so it is stated once, as the stability map of a transformation
  (``make_user_transformation``, OpenDP's "honest-but-curious" feature), and checked by
  ``tests/transparency``; the composition of it with everything else is OpenDP's.

Selecting rows and picking a field are row-by-row maps (1-stable under the symmetric
distance): they are user transformations too, with stability ``d_in``.

OpenDP's noise cannot be seeded (it draws from a cryptographically secure source). For
tests and reproducible demos a ``seed`` draws noise of the same distribution and scale
from NumPy instead; such a release is marked as not for publication, because anyone who
knows the seed can subtract the noise. The accounting is the same either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import opendp.prelude as dp

dp.enable_features("contrib", "honest-but-curious")

Row = Mapping[str, Any]
# The data set every query reads: a vector of reviewer rows (plain mappings). Its
# neighbouring data sets differ by one reviewer (symmetric distance 1).
_ROWS = dp.vector_domain(dp.user_domain("ReviewerRow", lambda row: isinstance(row, Mapping)))
_SPACE = (_ROWS, dp.symmetric_distance())


def _rows_to(output_domain: Any, output_metric: Any, function: Callable[[list[Row]], Any],
             stability: Callable[[Any], Any]) -> Any:
    return dp.t.make_user_transformation(*_SPACE, output_domain, output_metric,
                                         function=function, stability_map=stability)


def _values(pick: Callable[[Row], str | None]) -> Any:
    """Rows → the picked value of each row that has one (a row-by-row map and filter)."""
    return _rows_to(dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance(),
                    lambda rows: [v for v in map(pick, rows) if v is not None],
                    lambda d_in: d_in)


@dataclass
class _Query:
    name: str
    transformation: Any
    epsilon: float
    integer: bool
    scale: float
    measurement: Any


@dataclass
class NoiseSource:
    """Collects a report's queries, then releases them all at once as one OpenDP
    composition (``run``).

    Attributes:
        seed: None for OpenDP's secure sampler; an int for reproducible test noise.
        epsilon_spent: after ``run``, the privacy map of OpenDP's composition of every
            query at one reviewer (None before).
        query_epsilons: after ``run``, each query's own privacy map, by query name.
    """

    seed: int | None = None
    epsilon_spent: float | None = None
    query_epsilons: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed) if self.seed is not None else None
        self._queries: list[_Query] = []
        self._scales: dict[tuple[Any, float], float] = {}

    @property
    def label(self) -> str:
        """How the report describes the noise."""
        if self._rng is None:
            return "opendp"
        return f"seeded (seed {self.seed}): reproducible, not for publication"

    def count(self, name: str, select: Callable[[Row], bool], epsilon: float) -> int:
        """Plan a noisy count of the rows ``select`` keeps (sensitivity 1).

        Args:
            name: the query's name (unique within the report).
            select: which rows are counted.
            epsilon: the ε this release may use.

        Returns:
            The query's index into :meth:`run`'s result.
        """
        t = _values(lambda row: "" if select(row) else None) >> dp.t.then_count(TO=int)
        return self._add(name, t, epsilon, integer=True, key="count")

    def histogram(self, name: str, pick: Callable[[Row], str | None],
                  categories: Sequence[str], epsilon: float) -> int:
        """Plan noisy counts of each category of the picked values (one cell per row).

        Args:
            name: the query's name.
            pick: the row's value, or None to leave the row out.
            categories: the cells to count (values outside them are not counted).
            epsilon: the ε this release may use (for all cells together).
        """
        t = _values(pick) >> dp.t.then_count_by_categories(
            categories=list(categories), null_category=False, TOA=int)
        return self._add(name, t, epsilon, integer=True, key="histogram")

    def group_sums(self, name: str, group: Callable[[Row], str | None],
                   value: Callable[[Row], float | None], groups: Sequence[str],
                   upper: float, epsilon: float) -> int:
        """Plan noisy per-group sums of one value per row, clamped to ``[0, upper]``.

        Args:
            name: the query's name.
            group: the row's group, or None to leave the row out.
            value: the row's value, or None to leave the row out.
            groups: the groups, in output order (rows of other groups are left out).
            upper: the clamp bound; one reviewer moves one group's sum by at most this.
            epsilon: the ε this release may use (for all groups together).
        """
        index = {g: i for i, g in enumerate(groups)}
        bound = float(upper)

        def sums(rows: list[Row]) -> list[float]:
            out = [0.0] * len(groups)
            for row in rows:
                g, v = group(row), value(row)
                if g in index and v is not None:
                    out[index[g]] += min(bound, max(0.0, float(v)))
            return out

        # Disjoint groups: one reviewer changes one entry by at most `upper` (L1).
        t = _rows_to(dp.vector_domain(dp.atom_domain(T=float, nan=False)),
                     dp.l1_distance(T=float), sums, lambda d_in: bound * d_in)
        return self._add(name, t, epsilon, integer=False, key=("sums", bound))

    def _add(self, name: str, transformation: Any, epsilon: float, *, integer: bool,
             key: Any) -> int:
        # The scale depends only on the query's kind and sensitivity: search once each.
        if (key, epsilon) not in self._scales:
            self._scales[(key, epsilon)] = dp.binary_search_param(
                lambda s: transformation >> dp.m.then_laplace(s), d_in=1, d_out=epsilon)
        scale = self._scales[(key, epsilon)]
        self._queries.append(_Query(name, transformation, epsilon, integer, scale,
                                    transformation >> dp.m.then_laplace(scale)))
        return len(self._queries) - 1

    def composition(self) -> Any:
        """OpenDP's composition of every planned query (one measurement)."""
        return dp.c.make_composition([q.measurement for q in self._queries])

    def run(self, rows: Sequence[Row]) -> list[Any]:
        """Release every planned query on ``rows``; sets ``epsilon_spent`` from OpenDP.

        Returns:
            One result per query, in the order they were planned.
        """
        composed = self.composition()
        self.epsilon_spent = float(composed.map(1))
        self.query_epsilons = {q.name: float(q.measurement.map(1)) for q in self._queries}
        data = list(rows)
        if self._rng is None:
            return list(composed(data))
        return [self._seeded(q, data) for q in self._queries]

    def _seeded(self, query: _Query, rows: list[Row]) -> Any:
        exact = query.transformation(rows)
        scale = query.scale
        assert self._rng is not None
        if query.integer:
            # Discrete Laplace(scale) as the difference of two geometric variables.
            p = 1 - math.exp(-1 / scale)
            if isinstance(exact, list):
                noise = self._rng.geometric(p, len(exact)) - self._rng.geometric(p, len(exact))
                return [int(a + b) for a, b in zip(exact, noise, strict=True)]
            return int(exact + self._rng.geometric(p) - self._rng.geometric(p))
        if isinstance(exact, list):
            return [float(a + self._rng.laplace(0.0, scale)) for a in exact]
        return float(exact + self._rng.laplace(0.0, scale))
