"""Small-cell suppression with complementary suppression.

A published count between 1 and ``min_cell - 1`` can point at a handful of identifiable
people, so such cells are hidden; so are zeros, so that a hidden cell reads "fewer than
``min_cell``" and never tells "nobody" from "a few". Hiding one cell is not enough when the
total is shown: total minus the shown cells gives it back. So more cells are hidden (the
smallest first) until the hidden cells add up to zero, or are at least two and add up to
at least ``min_cell`` — then subtraction reveals only a combined count that is itself not
small, and never one cell.
"""

from __future__ import annotations

from collections.abc import Mapping

SMALL = "small"
COMPLEMENTARY = "complementary"


def suppress_cells(counts: Mapping[str, int], min_cell: int) -> dict[str, str | None]:
    """Which cells of one table to hide, and why.

    The table's cells must partition a population whose total is published (or hidden
    when it is itself small — see :func:`suppress_total`).

    Args:
        counts: true count per cell.
        min_cell: the smallest count that may be shown (11: nothing from 1 to 10).

    Returns:
        cell → ``"small"`` (its own count is below min_cell), ``"complementary"`` (hidden
        so a small cell cannot be recovered by subtraction) or None (shown).
    """
    reasons: dict[str, str | None] = {
        cell: SMALL if n < min_cell else None for cell, n in counts.items()}
    while True:
        hidden = [c for c, r in reasons.items() if r]
        together = sum(counts[c] for c in hidden)
        if together == 0 or (len(hidden) >= 2 and together >= min_cell):
            return reasons
        shown = [c for c, r in reasons.items() if not r]
        if not shown:
            return reasons  # everything is hidden; only the total could be left
        # The smallest shown cell costs the least information to hide.
        reasons[min(shown, key=lambda c: (counts[c], c))] = COMPLEMENTARY


def suppress_total(total: int, min_cell: int) -> bool:
    """True when the whole population is too small to publish anything about it.

    Args:
        total: the population size.
        min_cell: as for :func:`suppress_cells`.
    """
    return total < min_cell
